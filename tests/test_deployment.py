"""A model named alone: the model-aware method with the deployment as ranges (traitement.deployment).

Checked: the range holds every published measurement of the model (ML.ENERGY v3, chat and reasoning,
configured for at most the range's largest batch); the central deployment pinned by hand; the low and
high ends equal a plain loop over the scenarios; the vectorised core function equals the scalar estimate
row by row; no degenerate range; the parameter method unchanged beside it; known axes fix the range;
the interfaces (CLI, API) and their one-line errors.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

import api
import interface
import traitement
from traitement import deployment as dep
from traitement import energy_model as em
from traitement.energy_model import load_energy_model
from traitement.validation import DEFAULT_CASES, default_range_coverage, load_cases

ROOT = Path(__file__).resolve().parent.parent
CONFIG = traitement.load_config()
MODEL = load_energy_model()
SITE = traitement.site_from_config(CONFIG)
H100_FLOP_J = 1.424 * 700 / 989e12  # the committed FLOP factor x board power / peak bf16 FLOP/s
KV_70B = 51868 * 70.6**0.4164  # KV cache bytes per token of Llama-3.1-70B by the formula: 305,600


def cli_json(capsys, *argv: str) -> dict:
    code = interface.main([*argv, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def named(**fields) -> dict:
    return traitement.estimate_named(CONFIG, traitement.parse(traitement.NamedRequest, fields)).to_dict()


# --- the range holds the published measurements -----------------------------------------------------------


@pytest.fixture(scope="module")
def coverage() -> dict:
    return default_range_coverage(load_cases(DEFAULT_CASES), CONFIG, MODEL)


def test_default_range_holds_every_measurement_of_the_model(coverage):
    """For every ML.ENERGY v3 case whose model the pack resolves (chat and reasoning tasks, configured for at most the
    range's largest batch of 1,024), the GPU energy measured lies within the default estimate's GPU-energy range."""
    outside = [(case["id"], case["low_wh"], case["measured_wh"], case["high_wh"]) for case in coverage["cases"] if not case["inside"]]
    assert outside == []
    assert coverage["n_cases"] == coverage["inside"] == 314
    assert len(coverage["by_model"]) == 13  # every resolved model, each checked on its measured tasks
    for tasks in coverage["by_model"].values():
        assert all(counts["n_cases"] > 0 for counts in tasks.values())


def test_exclusions_are_few_and_each_has_its_reason(coverage):
    reasons = [entry["reason"] for entry in coverage["excluded"]]
    assert len(reasons) == 83  # of 397
    assert sum("is not in the data pack" in reason for reason in reasons) == 31  # the two FP8 repackagings
    assert {entry["model"] for entry in coverage["excluded"] if "not in the data pack" in entry["reason"]} == {
        "meta-llama/Llama-3.1-405B-Instruct-FP8",
        "Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8",
    }
    assert sum(reason.startswith("task 'code") for reason in reasons) == 24
    assert sum("above the range's largest batch (1024" in reason for reason in reasons) == 28
    # those 28 are estimated anyway: most are within the range too
    beyond = coverage["beyond_largest_batch"]
    assert len(beyond) == 28 and sum(row["inside"] for row in beyond) == 24


def test_the_central_deployment_is_near_the_measurements(coverage):
    bias = np.exp(np.mean([np.log(case["central_wh"] / case["measured_wh"]) for case in coverage["cases"]]))
    assert 0.7 < bias < 1.3  # 0.84: the central batch of 128 is the measured configurations' median


# --- the central value, by hand; the ends, by a loop ---------------------------------------------------------


def test_central_deployment_pinned_by_hand(capsys):
    """Llama-3.1-70B (70.6 B, bf16), 2,000 in, 400 out: 4 H100 (169 GB of weights x 1.2), 128 requests at once."""
    data = cli_json(capsys, "--model", "llama-3.1-70b", "--in_tok", "2000", "--out_tok", "400")
    assert data["method"] == "model-aware"
    a = data["assumptions"]
    assert (a["gpu"], a["n_gpu"], a["precision"], a["batch_size"]) == ("h100", 4, "bf16", 128)
    step = 211e-12 * (141.2e9 + 128 * 2200 * KV_70B) + H100_FLOP_J * 2 * 70.6e9 * 128 + 700 * 70.6**0.5 * (4 * 0.2626e-3 + 128 * 9.332e-6)
    prompt = H100_FLOP_J * 2 * 70.6e9 * 2000
    gpu_j = prompt + 400 * step / 128  # 532 J
    assert data["energy_gpu_kwh"] * 3.6e6 == pytest.approx(gpu_j, rel=1e-9)
    assert data["energy_it_kwh"] == pytest.approx(data["energy_gpu_kwh"] * 1.603, rel=1e-12)
    assert data["energy_kwh"] == pytest.approx(data["energy_it_kwh"] * a["pue"], rel=1e-12)
    assert a["gpu_utilisation"] == pytest.approx(0.652 + 0.348 * 128 / (128 + 618.4), rel=1e-12)


def test_the_ends_are_the_extreme_scenarios_beyond_the_residual():
    """The vectorised low and high ends equal a plain Python loop over every scenario (residual factor applied once)."""
    entry = traitement.reference.resolve_model("llama-3.1-70b")
    sizes = dep.ModelSizes.of(entry)
    plan = dep.deployment_for(CONFIG, MODEL, sizes)
    result = dep.model_footprint(entry, SITE, 2000, 400, config=CONFIG, energy_model=MODEL)
    for side, pick, factor in (("low", min, 1 / MODEL.fit.residual_factor), ("high", max, MODEL.fit.residual_factor)):
        grid = dep.scenarios(plan, sizes, MODEL, side)
        looped = []
        for index in range(len(grid["n_gpu"])):
            one = {name: values[index : index + 1] for name, values in grid.items()}
            rows = {"input_tokens": np.array([[2000.0]]), "cached_input_tokens": np.array([[0.0]]), "output_tokens": np.array([[400.0]])}
            looped.append(float(dep.evaluate(one, rows, MODEL)["energy_gpu_j"][0, 0]))
        expected = pick(looped) * factor / 3.6e6
        assert result.columns[f"energy_gpu_kwh_{'min' if side == 'low' else 'max'}"][0] == pytest.approx(expected, rel=1e-12)
    assert set(grid["board"]) == {"h100", "h200", "b200", "a100"}  # the A100 serves the 70B class
    assert sorted(set(grid["n_gpu"][grid["board"] == "h100"])) == [4, 8]  # from the weights' memory to a node


def test_scenarios_span_the_configured_axes():
    gpt4o = dep.ModelSizes.of(traitement.reference.resolve_model("gpt-4o"))  # 44-132 B active of 440 B, precision unknown
    plan = dep.deployment_for(CONFIG, MODEL, gpt4o)
    assert plan.precisions == ("bf16", "fp8") and plan.central_precision == "bf16"
    assert [board.name for board in plan.boards] == ["h100", "h200", "b200"]  # no A100 above the 70B class
    low, high = dep.scenarios(plan, gpt4o, MODEL, "low"), dep.scenarios(plan, gpt4o, MODEL, "high")
    assert set(low["batch_size"]) == {1024.0} and set(high["batch_size"]) == {8.0}
    assert set(low["active_params_b"]) == {44.0} and set(high["active_params_b"]) == {132.0}
    assert set(low["kv_cache_factor"]) == {0.3} and set(high["kv_cache_factor"]) == {1.0}
    # 440 B in fp8 on H100: 528 GB -> 8 boards (a node); in bf16: 16 boards, beyond a node: that count only
    h100_bf16 = (high["board"] == "h100") & (high["precision"] == "bf16")
    assert set(high["n_gpu"][h100_bf16]) == {16.0}
    known = dep.deployment_for(CONFIG, MODEL, gpt4o, board="b200", precision="fp8", batch_size=64)
    assert known.known == ("board", "precision", "batch_size")
    grid = dep.scenarios(known, gpt4o, MODEL, "low")
    assert set(grid["board"]) == {"b200"} and set(grid["precision"]) == {"fp8"} and set(grid["batch_size"]) == {64.0}


# --- the core function for request logs (part B) equals the scalar estimate ------------------------------------


ROWS = [
    # (input, cached, output, reasoning, count) per request
    (2000, 0, 400, 0, 1),
    (20000, 15000, 800, 600, 3),
    (120, 0, 2000, 1500, 7),
    (500, 500, 10, 0, 1000),
]


@pytest.mark.parametrize("model", ["llama-3.1-8b", "gpt-4o", "deepseek-v3.1"])
def test_core_function_equals_the_scalar_estimate(model):
    entry = traitement.reference.resolve_model(model)
    columns = {
        "input_tokens": np.array([row[0] * row[4] for row in ROWS], dtype=float),
        "cached_input_tokens": np.array([row[1] * row[4] for row in ROWS], dtype=float),
        "output_tokens": np.array([row[2] * row[4] for row in ROWS], dtype=float),
        "reasoning_tokens": np.array([row[3] * row[4] for row in ROWS], dtype=float),
        "count": np.array([row[4] for row in ROWS], dtype=float),
    }
    result = dep.model_footprint(entry, SITE, **columns, config=CONFIG, energy_model=MODEL).columns
    for index, (tokens_in, cached, tokens_out, reasoning, count) in enumerate(ROWS):
        scalar = named(
            model=model,
            input_tokens=tokens_in,
            cached_input_tokens=cached,
            output_tokens=tokens_out,
            reasoning_tokens=reasoning,
            count=count,
        )
        for name in (*dep.RANGED, "prefill_s", "decode_s", "duration_s", "energy_cpu_kwh", "reasoning_energy_kwh"):
            assert result[name][index] == pytest.approx(scalar[name], rel=1e-9), (model, index, name)
        for name in dep.RANGED:
            assert result[f"{name}_min"][index] == pytest.approx(scalar[f"{name}_min"], rel=1e-9), (model, index, name)
            assert result[f"{name}_max"][index] == pytest.approx(scalar[f"{name}_max"], rel=1e-9), (model, index, name)
            assert result[f"{name}_min"][index] <= result[name][index] <= result[f"{name}_max"][index]


def test_core_function_many_rows_in_chunks_equals_one_by_one(monkeypatch):
    rng = np.random.default_rng(7)
    count = rng.integers(1, 50, 40).astype(float)
    tokens_in = rng.integers(1, 30000, 40) * count
    cached = np.floor(tokens_in * rng.uniform(0, 1, 40))
    tokens_out = rng.integers(1, 3000, 40) * count
    reasoning = np.floor(tokens_out * rng.uniform(0, 1, 40))
    entry = traitement.reference.resolve_model("qwen3-30b-a3b")
    whole = dep.model_footprint(entry, SITE, tokens_in, tokens_out, count, cached, reasoning, config=CONFIG, energy_model=MODEL).columns
    monkeypatch.setattr(dep, "ROW_CHUNK_CELLS", 7)  # one row per chunk
    chunked = dep.model_footprint(entry, SITE, tokens_in, tokens_out, count, cached, reasoning, config=CONFIG, energy_model=MODEL).columns
    for index in (0, 13, 39):
        single = dep.model_footprint(
            entry, SITE, tokens_in[index], tokens_out[index], count[index], cached[index], reasoning[index], config=CONFIG, energy_model=MODEL
        ).columns
        for name, values in whole.items():
            assert values[index] == pytest.approx(single[name][0], rel=1e-12), name
    for name, values in whole.items():
        assert np.allclose(values, chunked[name], rtol=1e-12), name


def test_core_function_refuses_a_bad_row_by_column_and_index():
    entry = traitement.reference.resolve_model("llama-3.1-8b")
    bad = [
        ({"cached_input_tokens": [0, 2001]}, r"cached_input_tokens\[1\]: out of range \(got 2001\); allowed: from 0 to input_tokens"),
        ({"reasoning_tokens": [-1, 0]}, r"reasoning_tokens\[0\]"),
        ({"count": [1, 0]}, r"count\[1\]"),
        ({"output_tokens": [400, float("nan")]}, r"output_tokens\[1\]"),
    ]
    for change, message in bad:
        columns = {"input_tokens": [2000, 2000], "output_tokens": [400, 400], "count": [1, 1], **change}
        with pytest.raises(traitement.InvalidInputError, match=message):
            dep.model_footprint(entry, SITE, config=CONFIG, energy_model=MODEL, **columns)


# --- the interfaces ----------------------------------------------------------------------------------------


def test_model_alone_gives_a_range_and_the_parameter_method_beside(capsys):
    """The issue's case: --model mistral-large-2 --out_tok 400 was 1.43 Wh to 1.43 Wh (the parameter method)."""
    data = cli_json(capsys, "--model", "mistral-large-2", "--out_tok", "400")
    assert data["method"] == "model-aware"
    for name in dep.RANGED:
        assert data[f"{name}_min"] < data[name] < data[f"{name}_max"], name
    assert data["energy_kwh_max"] / data["energy_kwh_min"] > 10
    block = data["parameter_method"]
    assert block["method"] == "parameter" and block["energy_kwh"] == pytest.approx(0.00495572, rel=1e-9)
    assert block["carbon_gco2eq"] == pytest.approx(1.14, rel=1e-9) and "scope 3" in block["scope"]
    assert data["deployment"]["central"] == f"4 x h100 in bf16, {data['assumptions']['batch_size']:,.0f} requests served at once"
    assert interface.main(["--model", "mistral-large-2", "--out_tok", "400"]) == 0
    text = capsys.readouterr().out
    assert "parameter method (for comparison, --method parameter): 4.96 Wh, 1.14 gCO2e" in text
    assert "central    4 x h100 in bf16" in text


def test_the_parameter_method_is_unchanged_when_named(capsys):
    data = cli_json(capsys, "--model", "mistral-large-2", "--out_tok", "400", "--method", "parameter")
    assert data["method"] == "parameter"
    assert round(data["energy_kwh"], 7) == 0.0049557 and data["carbon_gco2eq"] == pytest.approx(1.14, rel=1e-9)
    assert data["scope"] == "scope 3, life cycle"


def test_a_known_hardware_keeps_the_model_aware_mode_on_it(capsys):
    data = cli_json(capsys, "--model", "llama-3.1-70b", "--hardware", "h100", "--batch-size", "64", "--in_tok", "500", "--out_tok", "350")
    assert data["method"] == "hardware" and "deployment" not in data and data["assumptions"]["energy_model"] == "model-aware"
    by_size = cli_json(capsys, "--active-params-b", "70.6", "--hardware", "h100", "--batch-size", "64", "--in_tok", "500", "--out_tok", "350")
    assert data["energy_gpu_kwh"] == pytest.approx(by_size["energy_gpu_kwh"], rel=1e-12)
    named_method = cli_json(
        capsys, "--model", "llama-3.1-70b", "--hardware", "h100", "--batch-size", "64", "--in_tok", "500", "--out_tok", "350", "--method", "model-aware"
    )
    assert named_method["method"] == "model-aware" and named_method["energy_gpu_kwh"] == pytest.approx(data["energy_gpu_kwh"], rel=1e-12)


def test_known_axes_narrow_the_range(capsys):
    free = cli_json(capsys, "--model", "llama-3.1-70b", "--in_tok", "2000", "--out_tok", "400")
    fixed = cli_json(capsys, "--model", "llama-3.1-70b", "--in_tok", "2000", "--out_tok", "400", "--batch-size", "64", "--precision", "fp8")
    assert fixed["deployment"]["known"] == ["precision", "batch_size"]
    assert fixed["assumptions"]["batch_size"] == 64 and fixed["assumptions"]["precision"] == "fp8"
    assert fixed["energy_kwh_max"] / fixed["energy_kwh_min"] < free["energy_kwh_max"] / free["energy_kwh_min"]


def test_api_answers_the_same_as_the_cli(capsys):
    body = {"model": "gpt-4o", "input_tokens": 2000, "cached_input_tokens": 1500, "output_tokens": 400, "reasoning_tokens": 200}
    answer = TestClient(api.app).post("/calculate", json=body)
    assert answer.status_code == 200
    data = answer.json()
    cli = cli_json(capsys, "--model", "gpt-4o", "--in_tok", "2000", "--cached-input-tokens", "1500", "--out_tok", "400", "--reasoning-tokens", "200")
    for key in ("energy_kwh", "energy_kwh_min", "energy_kwh_max", "reasoning_energy_kwh", "reasoning_energy_share"):
        assert data[key] == pytest.approx(cli[key], rel=1e-12)
    assert data["method"] == "model-aware" and data["cached_input_tokens"] == 1500 and data["reasoning_tokens"] == 200


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--model", "llama-3.1-8b", "--gpu-utilisation", "0.5"], "--gpu-utilisation (gpu_utilisation): the model-aware method derives the draw"),
        (["--method", "model-aware"], "--model (model): required by method 'model-aware'"),
        (["--model", "llama-3.1-8b", "--precision", "fp3"], "unknown precision 'fp3'"),
        (["--model", "llama-3.1-8b", "--mix", "grid"], "--mix (mix): used only by method 'parameter', not 'model-aware'"),
    ],
)
def test_model_aware_bad_input_is_one_line(capsys, argv, message):
    code = interface.main(argv)
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert message in captured.err and captured.err.count("\n") == 1


def test_the_deployment_section_is_validated(tmp_path):
    folder = tmp_path / "config"
    shutil.copytree(ROOT / "config", folder)
    path = folder / "energy_model.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("precisions: [bf16, fp8]", "precisions: [bf16, fp3]"), encoding="utf-8")
    with pytest.raises(traitement.ConfigError, match="deployment: unknown precision 'fp3'"):
        em.load_energy_model(folder)
    path.write_text(
        (ROOT / "config/energy_model.yaml")
        .read_text(encoding="utf-8")
        .replace("batch_size: {value: 128, min: 8, max: 1024}", "batch_size: {value: 128, min: 256, max: 1024}"),
        encoding="utf-8",
    )
    with pytest.raises(traitement.ConfigError, match="deployment.batch_size"):
        em.load_energy_model(folder)


def test_model_footprint_takes_a_model_by_name():
    """The public function reads a model's name as the CLI does (aliases, case), and names the closest for an unknown one."""
    by_entry = traitement.model_footprint(traitement.reference.resolve_model("llama-3.1-8b"), SITE, 2000, 400, config=CONFIG, energy_model=MODEL)
    by_name = traitement.model_footprint("Llama-3.1-8B", SITE, 2000, 400, config=CONFIG, energy_model=MODEL)
    assert by_name == by_entry
    with pytest.raises(traitement.UnknownNameError, match=r"^model: unknown model 'llama-9'; closest: "):
        traitement.model_footprint("llama-9", SITE, 2000, 400, config=CONFIG, energy_model=MODEL)
    with pytest.raises(traitement.InvalidInputError, match=r"^model: a model of the data pack .* \(got int\)$"):
        traitement.model_footprint(5, SITE, 2000, 400, config=CONFIG, energy_model=MODEL)
