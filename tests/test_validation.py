"""Validation against published measurements: the cases file, the report, the fit, EcoLogits' reference, CLI and API."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

import api
import interface
import traitement
from traitement import energy_model as em
from traitement.energy_model import load_energy_model
from traitement.validation import (
    ECOLOGITS,
    FITTED,
    MODEL_AWARE,
    PARAMETER,
    VALIDATION_METHODS,
    case_columns,
    case_input_tokens,
    cross_validation_report,
    error_factor,
    fit_energy_coefficients,
    fit_power_curve,
    gpus_needed_check,
    leave_one_model_out,
    load_cases,
    parse_cases,
    predicted_j_per_token,
    ratio_stats,
    validate,
)

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "data" / "validation" / "published_cases.yaml"
MLENERGY = ROOT / "data" / "validation" / "mlenergy_v3_cases.yaml"
SHARED_MLENERGY = ROOT.parent / "shared" / "validation" / "mlenergy_v3_cases.yaml"
CONFIG = traitement.load_config()
MODEL = load_energy_model()


@pytest.fixture(scope="module")
def mlenergy_cases():
    return load_cases(MLENERGY)


def run_cli(capsys, *argv):
    code = interface.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _case(**fields):
    base = {"id": "c", "output_tokens": 400, "boundary": "gpu", "energy_wh_per_request": 0.05}
    return {**base, **fields}


# --- the cases files ------------------------------------------------------------------------


def test_shipped_copy_is_the_public_file():
    if not SHARED_MLENERGY.exists():
        pytest.skip("../shared is not next to this clone")
    assert MLENERGY.read_bytes() == SHARED_MLENERGY.read_bytes()


def test_richer_schema_reads_the_mlenergy_file(mlenergy_cases):
    assert len(mlenergy_cases) == 397 and all(case.measured for case in mlenergy_cases)
    first = mlenergy_cases[0]
    assert first.task == "chat" and first.architecture == "MoE" and first.max_num_seqs == 8
    assert (first.parallelism.tensor, first.parallelism.expert, first.parallelism.data) == (1, 4, 1)
    assert first.gpu_power_w == pytest.approx(2562.2) and first.data_parallel == 1
    coder = next(case for case in mlenergy_cases if case.parallelism.data == 8)
    assert coder.data_parallel == 8 and coder.n_gpu == 8
    assert {case.task for case in mlenergy_cases} == {"chat", "reasoning (GPQA)", "code fill-in-the-middle"}


def test_task_gives_the_prompt_length_and_says_so():
    cases = parse_cases(
        {
            "cases": [
                _case(id="chat", task="chat"),
                _case(id="gpqa", task="Reasoning (GPQA)"),
                _case(id="code", task="code fill-in-the-middle"),
                _case(id="given", task="code fill-in-the-middle", input_tokens=77),
                _case(id="unknown", task="poetry"),
            ]
        }
    )
    tokens = {case.id: case_input_tokens(case, MODEL) for case in cases}
    assert {name: value[0] for name, value in tokens.items()} == {"chat": 250, "gpqa": 200, "code": 2000, "given": 77, "unknown": 500}
    assert "typical prompt of task 'code'" in tokens["code"][1]
    assert tokens["given"][1] is None and tokens["unknown"][1] == "input tokens not given: 500 assumed"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"cases": []}, "needs a top-level 'cases:' list"),
        ({"cases": [_case(energy_wh_per_request=None)]}, "case 'c': needs energy_j_per_output_token or energy_wh_per_request"),
        ({"cases": [_case(boundary="rack")]}, "case 'c'.boundary: must be one of 'gpu', 'server' or 'facility'"),
        ({"cases": [_case(), _case()]}, "duplicate case id 'c'"),
        ({"cases": [_case(active_params_b=20, total_params_b=8)]}, "total_params_b (8.0) must be >= active_params_b (20.0)"),
        ({"cases": [{"output_tokens": 1}]}, "cases[0].id: a value is required"),
        ({"cases": [_case(n_gpu=4, parallelism={"tensor": 8})]}, "parallelism.tensor (8) must be <= n_gpu (4)"),
        ({"cases": [_case(parallelism={"pipeline": 2})]}, "case 'c'.parallelism.pipeline: unknown field (got 2); allowed: one of tensor, expert, data"),
        ({"cases": [_case(gpu_power_w=-1)]}, "case 'c'.gpu_power_w: must be > 0 (got -1); allowed: measured mean draw of all the GPUs in W"),
        ({"cases": [_case(max_num_seqs=0)]}, "case 'c'.max_num_seqs: must be >= 1 (got 0)"),
    ],
)
def test_bad_cases_files_name_the_case(data, message):
    with pytest.raises(traitement.InvalidInputError) as raised:
        parse_cases(data, "f.yaml")
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_gpu_count_rule_matches_the_published_setups():
    checks = gpus_needed_check(load_cases(CASES), CONFIG, MODEL)
    assert len(checks) == 7
    assert all(rule == used for _, rule, used in checks)


# --- statistics and the report ------------------------------------------------------------


def test_error_factor_and_stats_by_hand():
    assert error_factor([2.0, 0.5, 1.0]) == pytest.approx(2 ** (2 / 3), rel=1e-12)
    assert error_factor([1.0]) == 1.0
    stats = ratio_stats([2.5, 0.25, 1.0, 1.0])
    assert stats["error_factor"] == pytest.approx(np.exp((np.log(2.5) + np.log(4)) / 4), rel=1e-12)
    assert stats["bias"] == pytest.approx((2.5 * 0.25) ** 0.25, rel=1e-12)
    assert (stats["share_beyond_2x"], stats["n_beyond_3x"], stats["worst_factor"]) == (0.5, 1, pytest.approx(4.0))


def test_report_breaks_down_by_task_board_model_and_batch():
    # a perfect fit would give ratio 1; here the published figures are the model's own times 1, 2 and 1/4
    raw = [
        _case(
            id="a",
            model="m1",
            task="chat",
            active_params_b=8,
            hardware="h100-sxm",
            n_gpu=1,
            batch_size=8,
            energy_wh_per_request=None,
            energy_j_per_output_token=1.0,
        ),
        _case(
            id="b",
            model="m1",
            task="code",
            active_params_b=8,
            hardware="b200",
            n_gpu=1,
            batch_size=100,
            energy_wh_per_request=None,
            energy_j_per_output_token=1.0,
        ),
        _case(
            id="c",
            model="m2",
            task="chat",
            active_params_b=8,
            hardware="b200",
            n_gpu=1,
            batch_size=2000,
            energy_wh_per_request=None,
            energy_j_per_output_token=1.0,
        ),
    ]
    cases = parse_cases({"cases": raw})
    predicted = predicted_j_per_token(case_columns(cases, CONFIG, MODEL), em.coefficients(MODEL))
    factors = [1.0, 2.0, 0.25]
    for item, energy, factor in zip(raw, predicted, factors, strict=True):
        item["energy_j_per_output_token"] = float(energy) * factor
    result = validate(parse_cases({"cases": raw}), CONFIG, MODEL, (MODEL_AWARE,))
    ratios = {row["id"]: row["ratio"] for row in result["cases"]}
    assert ratios == pytest.approx({"a": 1.0, "b": 0.5, "c": 4.0}, rel=1e-9)
    assert result["error_factor"] == pytest.approx(8 ** (1 / 3), rel=1e-9)
    assert result["share_beyond_2x"] == pytest.approx(1 / 3) and result["n_beyond_3x"] == 1
    assert list(result["by_task"]) == ["chat", "code"] and result["by_task"]["chat"]["error_factor"] == pytest.approx(2.0, rel=1e-9)
    assert result["by_board"]["b200"]["n_cases"] == 2 and result["by_board"]["h100"]["error_factor"] == pytest.approx(1.0, rel=1e-9)
    assert result["by_model"]["m2"]["bias"] == pytest.approx(4.0, rel=1e-9)
    assert list(result["by_batch_band"]) == ["1-15", "64-255", "1024+"]
    assert [row["id"] for row in result["worst_cases"]] == ["c", "b", "a"]


def test_defaults_stated_and_skips_listed():
    cases = parse_cases(
        {
            "cases": [
                _case(id="defaults", active_params_b=8, hardware="h100-sxm", boundary="server"),
                _case(id="no-size", hardware="h100"),
                _case(id="unknown-gpu", active_params_b=8, hardware="tpu-v9"),
            ]
        }
    )
    result = validate(cases, CONFIG, MODEL)
    rows = {row["id"]: row for row in result["cases"]}
    notes = " | ".join(rows["defaults"]["notes"])
    assert rows["defaults"]["status"] == "ok"
    stated = ("input tokens not given: 500", "GPU count not given: 1", "batch size not given: 8 ", "precision not given: bf16", "server = GPUs x (1 + 0.603)")
    assert all(part in notes for part in stated)
    assert rows["no-size"]["status"] == "skipped" and "active_params_b" in rows["no-size"]["reason"]
    assert rows["unknown-gpu"]["status"] == "skipped" and "unknown GPU board 'tpu-v9'" in rows["unknown-gpu"]["reason"]
    assert {skip["id"] for skip in result["skipped"]} == {"no-size", "unknown-gpu"}
    assert result["n_cases"] == 1 and rows["unknown-gpu"]["board"] == "tpu-v9"
    # the seed-quadratic method needs no model size: it estimates every case; EcoLogits' formula needs none of the GPUs
    assert result["methods"]["seed-quadratic"]["n_cases"] == 3
    assert result["methods"][ECOLOGITS]["n_cases"] == 2


def test_parameter_method_by_hand():
    rows = validate(load_cases(CASES), CONFIG, MODEL, (PARAMETER,))["cases"]
    first = rows[0]
    assert first["predicted_wh_per_request"] == pytest.approx(389 * (8.91e-5 * 8 + 1.43e-3), rel=1e-9)
    assert first["published_wh_per_request"] == pytest.approx(0.455 * 389 / 3600, rel=1e-9)


# --- EcoLogits' published formula ----------------------------------------------------------


def test_ecologits_reference_by_hand():
    """Llama-3.1-70B: 70B x 16 bits x 1.2 = 168 GB -> 3 x 80 GB -> 4 GPUs; per GPU 350 x (a e^(64 b) 70 + g) Wh."""
    eco = MODEL.ecologits
    case = parse_cases({"cases": [_case(active_params_b=70, total_params_b=70, output_tokens=350, hardware="b200", n_gpu=2, batch_size=900)]})[0]
    gpu_wh = 4 * 350 * (eco.gpu_energy_alpha_wh_per_token_per_b * np.exp(64 * eco.gpu_energy_beta_per_request) * 70 + eco.gpu_energy_gamma_wh_per_token)
    row = validate([case], CONFIG, MODEL, (ECOLOGITS,))["cases"][0]
    assert row["predicted_wh_per_request"] == pytest.approx(gpu_wh, rel=1e-12)  # the case's 2 B200 and batch 900 are not used
    server = parse_cases({"cases": [_case(active_params_b=70, output_tokens=350, boundary="server")]})[0]
    latency_s = 350 * (eco.latency_alpha_s_per_token_per_b * 70 + eco.latency_beta_s_per_token_per_request * 64 + eco.latency_gamma_s_per_token)
    row = validate([server], CONFIG, MODEL, (ECOLOGITS,))["cases"][0]
    assert row["predicted_wh_per_request"] == pytest.approx(gpu_wh + latency_s / 3600 * 1200 * 4 / 8 / 64, rel=1e-12)


def test_ecologits_reference_equals_the_installed_package():
    if importlib.util.find_spec("ecologits") is None:
        pytest.skip("ecologits is not installed")
    from ecologits.impacts import llm

    eco = MODEL.ecologits
    for active, total, tokens in ((8, 8, 389), (22, 235, 870), (37, 671, 9000), (4, 21, 2091)):
        n_gpu = llm.gpu_required_count(llm.model_required_memory(total, llm.MODEL_QUANTIZATION_BITS), llm.GPU_MEMORY)
        assert em.ecologits_gpu_count(total, eco.quantization_bits, eco.gpu_memory_gb, eco.memory_overhead_fraction) == n_gpu
        theirs = llm.gpu_energy(active, tokens, llm.BATCH_SIZE, llm.GPU_ENERGY_ALPHA, llm.GPU_ENERGY_BETA, llm.GPU_ENERGY_GAMMA)
        ours = em.ecologits_gpu_energy_wh(
            active, tokens, eco.batch_size, eco.gpu_energy_alpha_wh_per_token_per_b, eco.gpu_energy_beta_per_request, eco.gpu_energy_gamma_wh_per_token
        )
        assert ours / 1000 == pytest.approx(theirs, rel=1e-12)  # theirs in kWh
        latency = llm.generation_latency(active, tokens, llm.BATCH_SIZE, llm.LATENCY_ALPHA, llm.LATENCY_BETA, llm.LATENCY_GAMMA, request_latency=float("inf"))
        server_kwh = llm.server_energy(latency, llm.SERVER_POWER, llm.SERVER_GPUS, n_gpu, llm.BATCH_SIZE)
        ours = em.ecologits_server_energy_wh(
            active,
            tokens,
            eco.batch_size,
            n_gpu,
            eco.latency_alpha_s_per_token_per_b,
            eco.latency_beta_s_per_token_per_request,
            eco.latency_gamma_s_per_token,
            eco.server_power_w,
            eco.server_gpu_count,
        )
        assert ours / 1000 == pytest.approx(server_kwh, rel=1e-12)


# --- the headline: targets on the public file ------------------------------------------------------


def test_mlenergy_file_in_sample(mlenergy_cases):
    result = validate(mlenergy_cases, CONFIG, MODEL, (MODEL_AWARE, ECOLOGITS))
    assert result["n_cases"] == 397 and result["error_factor"] <= 1.2
    assert result["share_beyond_2x"] <= 0.05 and result["n_beyond_3x"] == 0
    assert result["methods"][ECOLOGITS]["error_factor"] > 2 * result["error_factor"]  # the reference row is far behind
    assert set(result["by_board"]) == {"h100", "b200"}


def test_mlenergy_file_leave_one_model_out_meets_the_targets(mlenergy_cases):
    """The headline: each of the 18 models predicted by coefficients fitted without it (all its configurations)."""
    report = cross_validation_report(mlenergy_cases, CONFIG, MODEL)
    assert report["n_cases"] == 397 and len(report["by_model"]) == 18
    assert report["error_factor"] <= 1.25
    assert report["share_beyond_2x"] <= 0.05
    assert report["n_beyond_3x"] == 0
    for name in FITTED:  # every refit stays within 40 % of every other: no model carries the fit alone
        low, high = report["coefficient_ranges"][name]
        assert high / low < 1.7


def test_command_path_equals_fit_path(mlenergy_cases):
    """The validate command (Modele + estimate) and the fit (numpy columns) give the same GPU energy."""
    cases = mlenergy_cases[::7]
    columns = case_columns(cases, CONFIG, MODEL)
    vectorised = predicted_j_per_token(columns, em.coefficients(MODEL)) * columns["output_tokens"] / 3600
    rows = validate(cases, CONFIG, MODEL, (MODEL_AWARE,))["cases"]
    assert [row["predicted_wh_per_request"] for row in rows] == pytest.approx(list(vectorised), rel=1e-9)


def test_published_cases_with_the_new_coefficients():
    """The seven ML.ENERGY rows of published_cases.yaml (H100, also in the new file) stay within 1.3x; Epoch's modelled GPT-4o does not."""
    result = validate(load_cases(CASES), CONFIG, MODEL, (MODEL_AWARE,))
    rows = {row["id"]: row for row in result["cases"]}
    measured = [row for name, row in rows.items() if name.startswith("mlenergy")]
    assert len(measured) == 7 and all(row["error_factor"] <= 1.3 for row in measured)
    assert rows["epoch-2025-gpt-4o-500-tokens"]["ratio"] > 3  # docs/validation.md: a modelled 10 % FLOP use vs vLLM's measured MoE serving


# --- the fit -----------------------------------------------------------------------------------


def test_fit_script_reproduces_the_committed_coefficients():
    spec = importlib.util.spec_from_file_location("fit_energy_model", ROOT / "scripts" / "fit_energy_model.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    stored = script.run_fit(MLENERGY)["stored"]
    committed = MODEL.fit.model_dump(exclude={"provenance"})
    assert stored == committed


def test_fit_recovers_known_coefficients_on_synthetic_cases(mlenergy_cases):
    cases = mlenergy_cases[::3]
    columns = case_columns(cases, CONFIG, MODEL)
    truth = {
        "memory_j_per_byte": 1.5e-10,
        "flop_energy_factor": 2.0,
        "moe_flop_energy_factor_per_gpu": 1.2,
        "step_overhead_s_per_sqrt_b": 4e-4,
        "token_overhead_s_per_sqrt_b": 5e-6,
    }
    columns["published_j_per_token"] = predicted_j_per_token(columns, em.coefficients(MODEL, **truth))
    assert fit_energy_coefficients(columns, MODEL) == pytest.approx(truth, rel=1e-6)
    names = [case.model for case in cases]
    ratios, fits = leave_one_model_out(columns, names, MODEL)
    assert len(fits) == len(set(names))
    assert ratios == pytest.approx(np.ones(len(cases)), rel=1e-6)


def test_power_curve_recovers_known_draw(mlenergy_cases):
    columns = case_columns(mlenergy_cases, CONFIG, MODEL)
    columns["measured_power_w"] = em.power_fraction(columns["batch_size"], 0.55, 300.0) * columns["n_gpu"] * columns["gpu_power_w"]
    assert fit_power_curve(columns) == pytest.approx({"draw_fraction_small_batch": 0.55, "draw_half_batch": 300.0}, rel=1e-6)


# --- CLI and API ------------------------------------------------------------------------------


def test_cli_validate_json_shape(capsys):
    code, out, err = run_cli(capsys, "validate", str(CASES), "--json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert {"cases", "error_factor", "worst_case", "worst_cases", "methods", "by_task", "by_board", "by_model", "by_batch_band", "share_beyond_2x"} <= set(data)
    assert data["method"] == MODEL_AWARE
    assert tuple(data["methods"]) == VALIDATION_METHODS
    assert len(data["cases"]) == 8
    assert data["methods"]["parameter"]["error_factor"] > 5 * data["error_factor"]
    assert data["methods"]["seed-quadratic"]["error_factor"] > 1000
    assert "leave_one_model_out" not in data


def test_cli_validate_text_and_method(capsys):
    code, out, _ = run_cli(capsys, "validate", str(CASES), "--method", "parameter")
    assert code == 0
    assert "parameter (headline)" in out and "error factor" in out and "model-aware" not in out.split("fit:")[0]
    for heading in ("By task", "By board", "By model", "By batch", "Worst cases, method 'parameter'", "Cases, method 'parameter'"):
        assert heading in out


def test_cli_validate_cross_validate(capsys, mlenergy_cases, tmp_path):
    # two models of the public file, three configurations each: the report refits without each and predicts it
    keep = [case for case in mlenergy_cases if case.model in ("Qwen/Qwen3-8B", "meta-llama/Llama-3.1-8B-Instruct")][:3] + [
        case for case in mlenergy_cases if case.model == "meta-llama/Llama-3.1-8B-Instruct"
    ][:3]
    path = tmp_path / "two.yaml"
    path.write_text(json.dumps({"cases": [case.model_dump(exclude_none=True) for case in keep]}))
    code, out, err = run_cli(capsys, "validate", str(path), "--method", "model-aware", "--cross-validate", "--json")
    assert code == 0, err
    report = json.loads(out)["leave_one_model_out"]
    assert report["n_cases"] == 6 and set(report["by_model"]) == {"Qwen/Qwen3-8B", "meta-llama/Llama-3.1-8B-Instruct"}
    code, out, _ = run_cli(capsys, "validate", str(CASES), "--method", "model-aware", "--cross-validate")
    assert code == 0 and "Leave one model out" in out


def test_cli_validate_defaults_to_the_shipped_cases(capsys):
    """With no file, validate checks the cases shipped in data/validation/ (no other folder needed)."""
    code, out, _ = run_cli(capsys, "validate", "--json")
    code_file, out_file, _ = run_cli(capsys, "validate", str(ROOT / "data" / "validation" / "mlenergy_v3_cases.yaml"), "--json")
    assert code == code_file == 0
    assert json.loads(out) == json.loads(out_file)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["validate", "missing.yaml"], "missing.yaml: file not found"),
        (["validate", str(CASES), "--method", "guess"], "--method: unknown validation method 'guess'"),
    ],
)
def test_cli_validate_bad_calls(capsys, argv, message):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1


def test_api_validate_upload():
    client = TestClient(api.app)
    with open(CASES, "rb") as handle:
        response = client.post("/validate", files={"file": ("cases.yaml", handle)})
    assert response.status_code == 200
    cli = validate(load_cases(CASES), CONFIG, MODEL)
    assert response.json()["error_factor"] == pytest.approx(cli["error_factor"], rel=1e-12)
    assert response.json()["methods"][ECOLOGITS]["error_factor"] == pytest.approx(cli["methods"][ECOLOGITS]["error_factor"], rel=1e-12)
    for body, status in [(b"cases: [", 422), (b"x: 1", 422), (b"\xff\xfe", 422)]:
        response = client.post("/validate", files={"file": ("c.yaml", body)})
        assert response.status_code == status and response.json()["code"] == "invalid-cases-file"
    response = client.post("/validate", params={"method": "guess"}, files={"file": ("c.yaml", b"x")})
    assert response.status_code == 422
    with open(CASES, "rb") as handle:
        response = client.post("/validate", params={"method": "model-aware", "cross_validate": "true"}, files={"file": ("cases.yaml", handle)})
    assert response.status_code == 200
    cross = response.json()["leave_one_model_out"]
    assert cross["n_cases"] == 7 and len(cross["by_model"]) == 5  # the seven measurements, five models


@pytest.mark.parametrize(
    ("name", "query"),
    [("mlenergy-v3", {}), ("published", {"cases": "published"}), ("mlenergy-v3", {"cross_validate": "true", "method": "model-aware"})],
)
def test_api_validation_of_a_shipped_file_equals_its_upload(name, query) -> None:
    """GET /validation?cases=NAME is POST /validate on that shipped file (mlenergy-v3 by default), with its `source`."""
    from traitement.paths import SHIPPED_CASES

    client = TestClient(api.app)
    shipped = client.get("/validation", params=query).json()
    with open(SHIPPED_CASES[name], "rb") as handle:
        params = {key: value for key, value in query.items() if key != "cases"}
        uploaded = client.post("/validate", params=params, files={"file": (SHIPPED_CASES[name].name, handle)}).json()
    assert shipped.pop("source") == f"data/validation/{SHIPPED_CASES[name].name}"
    assert shipped == uploaded


def test_api_validation_refuses_what_validate_refuses() -> None:
    client = TestClient(api.app)
    bad = client.get("/validation", params={"method": "guess"})
    same = client.post("/validate", params={"method": "guess"}, files={"file": ("c.yaml", b"x")})
    assert bad.status_code == same.status_code == 422 and bad.json() == same.json()
    unknown = client.get("/validation", params={"cases": "mine"})
    assert unknown.status_code == 422 and unknown.json()["detail"].startswith("cases: must be one of 'mlenergy-v3' or 'published' (got 'mine')")
