"""Validation against published measurements, the model-aware energy model and estimate ranges."""

from __future__ import annotations

import json
import math
import shutil
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
    MODEL_AWARE,
    PARAMETER,
    case_columns,
    error_factor,
    fit_coefficients,
    gpus_needed_check,
    leave_one_out,
    load_cases,
    parse_cases,
    predicted_wh,
    validate,
)

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "data" / "validation" / "published_cases.yaml"
CONFIG = traitement.load_config()
MODEL = load_energy_model()


def run_cli(capsys, *argv):
    code = interface.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- physics, pinned by hand ------------------------------------------------------------


@pytest.mark.parametrize(
    ("total_b", "bytes_per_param", "expected"),
    [
        (8, 2.0, 1),  # 16 GB x 1.2 = 19.2 GB: one 80 GB board
        (70, 2.0, 4),  # 168 GB: 3 boards, rounded up to 4
        (405, 1.0, 8),  # 486 GB: 7 boards, rounded up to 8
        (400, 2.0, 16),  # 960 GB: 12 boards, rounded up to 16
        (21, 0.53125, 1),
    ],
)
def test_gpus_for_weights(total_b, bytes_per_param, expected):
    assert em.gpus_for_weights(total_b, bytes_per_param, 80, 0.2) == expected


def test_gpu_count_rule_matches_the_published_setups():
    checks = gpus_needed_check(load_cases(CASES), CONFIG, MODEL)
    assert len(checks) == 7
    assert all(rule == used for _, rule, used in checks)


def test_params_read_dense_and_moe():
    assert em.params_read_per_step_b(70, 70, 8) == 70
    assert em.params_read_per_step_b(4, 20, 1) == pytest.approx(4, rel=1e-12)  # one token: the active experts
    assert em.params_read_per_step_b(4, 20, 2) == pytest.approx(20 * (1 - 0.8**2), rel=1e-12)
    assert em.params_read_per_step_b(4, 20, 1000) == pytest.approx(20, rel=1e-9)  # a large batch touches every expert


def test_decode_step_roofline_by_hand():
    # 16 GB over 1 GPU at 3.35 TB/s x 0.5 vs 2 x 8e9 x 8 FLOP at 989 TFLOP/s x 0.5: memory-bound
    step = em.decode_step_s(16e9, 2 * 8e9 * 8, 1, 3.35, 989, 0.5, 0.5)
    assert step == pytest.approx(16e9 / (3.35e12 * 0.5), rel=1e-12)
    # at batch 4096 the FLOPs win
    step = em.decode_step_s(16e9, 2 * 8e9 * 4096, 1, 3.35, 989, 0.5, 0.5)
    assert step == pytest.approx(2 * 8e9 * 4096 / (989e12 * 0.5), rel=1e-12)


def test_power_fraction_by_hand():
    assert em.power_fraction(0, 0.4, 64) == pytest.approx(0.4, rel=1e-12)
    assert em.power_fraction(64, 0.4, 64) == pytest.approx(0.7, rel=1e-12)
    assert em.power_fraction(1e9, 0.4, 64) == pytest.approx(1.0, rel=1e-6)


def test_kv_cache_capped_by_free_memory():
    # 8B bf16 on one 80 GB board: 72 GB usable - 16 GB of weights = 56 GB for the cache
    assert em.kv_cache_read_bytes(10_000, 1000, 131072, 1, 80, 0.9, 16e9) == pytest.approx(56e9, rel=1e-12)
    assert em.kv_cache_read_bytes(2, 1000, 131072, 1, 80, 0.9, 16e9) == pytest.approx(2 * 1000 * 131072, rel=1e-12)


def _energy_per_token_j(active, total=None, batch=8.0, precision="bf16", output_tokens=400, input_tokens=500):
    precision_config = MODEL.precision(precision)[1]
    gpu = CONFIG.gpu("h100")[1]
    total = active if total is None else total
    n_gpu = em.gpus_for_weights(total, precision_config.bytes_per_param, gpu.memory_gb, MODEL.memory.overhead_fraction)
    speeds = em.serving(
        active,
        total,
        precision_config.bytes_per_param,
        precision_config.compute_factor,
        batch,
        input_tokens + output_tokens / 2,
        n_gpu,
        gpu.memory_gb,
        gpu.memory_bandwidth_tb_per_s,
        gpu.bf16_tflop_per_s,
        **em.coefficients(MODEL),
    )
    energy_kwh = em.gpu_energy_per_request_kwh(speeds, n_gpu, gpu.power_w, input_tokens, output_tokens, batch)
    return energy_kwh * 3.6e6 / output_tokens


def test_energy_per_token_falls_with_batch_then_levels_off():
    batches = 2.0 ** np.arange(14)  # 1 to 8192
    energy = _energy_per_token_j(8, batch=batches)
    assert np.all(np.diff(energy[:11]) < 0)  # falls up to batch 1024
    assert energy[0] / energy[1] > 1.8  # 1 -> 2: almost halves (memory-bound: the weights are read once for the batch)
    assert energy[0] / energy[3] > 5
    floor = energy[11:]  # 2048 to 8192: compute-bound, flat within a few percent (the draw still creeps up)
    assert floor.max() / floor.min() < 1.05 and energy.min() / floor.min() > 0.95


def test_energy_per_token_grows_with_active_parameters():
    sizes = np.array([1, 3, 8, 30, 70, 180], dtype=float)
    for batch in (1.0, 32.0, 512.0):
        energy = np.array([_energy_per_token_j(size, batch=batch) for size in sizes])
        assert np.all(np.diff(energy) > 0)


def test_moe_counts_its_active_parameters():
    moe = _energy_per_token_j(4, total=21, batch=1.0)
    assert moe < _energy_per_token_j(21, batch=1.0) / 3
    assert moe == pytest.approx(_energy_per_token_j(4, batch=1.0), rel=0.5)  # the same active size costs about the same at batch 1


def test_serving_scalar_equals_vector():
    batches = np.array([1.0, 8.0, 64.0, 900.0])
    vector = _energy_per_token_j(70, batch=batches)
    scalar = [_energy_per_token_j(70, batch=float(b)) for b in batches]
    assert vector == pytest.approx(scalar, rel=1e-12)


# --- validation ---------------------------------------------------------------------------


def test_error_factor_by_hand():
    assert error_factor([2.0, 0.5, 1.0]) == pytest.approx(2 ** (2 / 3), rel=1e-12)
    assert error_factor([1.0]) == 1.0


def test_public_file_meets_the_targets_on_measured_cases():
    result = validate(load_cases(CASES), CONFIG, MODEL, (MODEL_AWARE,))
    assert result["error_factor"] <= 1.5
    measured = [row for row in result["cases"] if row["id"].startswith("mlenergy")]
    assert len(measured) == 7
    assert all(row["error_factor"] <= 2.5 for row in measured)
    assert result["worst_case"]["error_factor"] == max(row["error_factor"] for row in result["cases"])


def test_command_path_equals_fit_path():
    """The validate command (Modele + estimate) and the fit (numpy columns) give the same GPU energy."""
    cases = [case for case in load_cases(CASES) if case.measured]
    columns = case_columns(cases, CONFIG, MODEL)
    vectorised = predicted_wh(columns, em.coefficients(MODEL))
    rows = validate(cases, CONFIG, MODEL, (MODEL_AWARE,))["cases"]
    assert [row["predicted_wh_per_request"] for row in rows] == pytest.approx(list(vectorised), rel=1e-9)


def test_parameter_method_by_hand():
    rows = validate(load_cases(CASES), CONFIG, MODEL, (PARAMETER,))["cases"]
    first = rows[0]
    assert first["predicted_wh_per_request"] == pytest.approx(389 * (8.91e-5 * 8 + 1.43e-3), rel=1e-9)
    assert first["published_wh_per_request"] == pytest.approx(0.455 * 389 / 3600, rel=1e-9)


def _case(**fields):
    base = {"id": "c", "output_tokens": 400, "boundary": "gpu", "energy_wh_per_request": 0.05}
    return {**base, **fields}


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
    stated = ("input tokens not given: 500", "GPU count not given: 1", "batch size not given: 8 ", "precision not given: bf16", "server = GPUs + host CPU")
    assert all(part in notes for part in stated)
    assert rows["no-size"]["status"] == "skipped" and "active_params_b" in rows["no-size"]["reason"]
    assert rows["unknown-gpu"]["status"] == "skipped" and "unknown gpu 'tpu-v9'" in rows["unknown-gpu"]["reason"]
    assert {skip["id"] for skip in result["skipped"]} == {"no-size", "unknown-gpu"}
    assert result["n_cases"] == 1
    # the seed-quadratic method needs no model size: it estimates every case
    assert result["methods"]["seed-quadratic"]["n_cases"] == 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"cases": []}, "needs a top-level 'cases:' list"),
        ({"cases": [_case(energy_wh_per_request=None)]}, "case 'c': needs energy_j_per_output_token or energy_wh_per_request"),
        ({"cases": [_case(boundary="rack")]}, "case 'c'.boundary: must be one of 'gpu', 'server' or 'facility'"),
        ({"cases": [_case(), _case()]}, "duplicate case id 'c'"),
        ({"cases": [_case(active_params_b=20, total_params_b=8)]}, "total_params_b (8.0) must be >= active_params_b (20.0)"),
        ({"cases": [{"output_tokens": 1}]}, "cases[0].id: a value is required"),
    ],
)
def test_bad_cases_files_name_the_case(data, message):
    with pytest.raises(traitement.InvalidInputError, match=None) as raised:
        parse_cases(data, "f.yaml")
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


# --- fitting ----------------------------------------------------------------------------------


SMALL_GRID = {
    "bandwidth_efficiency": np.arange(0.3, 0.71, 0.1),
    "compute_efficiency": np.arange(0.3, 0.91, 0.2),
    "idle_power_fraction": np.arange(0.2, 0.61, 0.1),
    "batch_half_activity": np.array([16.0, 32.0, 64.0, 128.0]),
}


def test_fit_recovers_known_coefficients_on_synthetic_cases():
    columns = case_columns([case for case in load_cases(CASES) if case.measured], CONFIG, MODEL)
    truth = {"bandwidth_efficiency": 0.5, "compute_efficiency": 0.7, "idle_power_fraction": 0.4, "batch_half_activity": 32.0}
    fixed = {key: value for key, value in em.coefficients(MODEL).items() if key not in truth}
    columns["published_wh"] = predicted_wh(columns, {**fixed, **truth})
    fitted = fit_coefficients(columns, MODEL, SMALL_GRID, refinements=0)
    assert fitted == pytest.approx(truth, rel=1e-9)
    ratios, fits = leave_one_out(columns, MODEL, SMALL_GRID)
    assert len(fits) == 7
    assert ratios == pytest.approx(np.ones(7), rel=1e-9)


# --- CLI and API ------------------------------------------------------------------------------


def test_cli_validate_json_shape(capsys):
    code, out, err = run_cli(capsys, "validate", str(CASES), "--json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert {"cases", "error_factor", "worst_case", "methods"} <= set(data)
    assert data["method"] == MODEL_AWARE
    assert set(data["methods"]) == {"model-aware", "parameter", "seed-quadratic"}
    assert len(data["cases"]) == 8
    assert data["methods"]["parameter"]["error_factor"] > 5 * data["error_factor"]
    assert data["methods"]["seed-quadratic"]["error_factor"] > 1000


def test_cli_validate_text_and_method(capsys):
    code, out, _ = run_cli(capsys, "validate", str(CASES), "--method", "parameter")
    assert code == 0
    assert "Method 'parameter' (headline)" in out and "error factor" in out and "model-aware" not in out.split("fit:")[0]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["validate", "missing.yaml"], "missing.yaml: file not found"),
        (["validate", str(CASES), "--method", "guess"], "--method: unknown validation method 'guess'"),
        (["validate"], "the following arguments are required: FILE"),
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
    for body, status in [(b"cases: [", 422), (b"x: 1", 422), (b"\xff\xfe", 422)]:
        response = client.post("/validate", files={"file": ("c.yaml", body)})
        assert response.status_code == status and response.json()["code"] == "invalid-cases-file"
    response = client.post("/validate", params={"method": "guess"}, files={"file": ("c.yaml", b"x")})
    assert response.status_code == 422


def test_cli_model_aware_estimate(capsys):
    code, out, err = run_cli(capsys, "--active-params-b", "70", "--hardware", "h100", "--batch-size", "64", "--out_tok", "350", "--json")
    assert code == 0, err
    data = json.loads(out)
    assumptions = data["assumptions"]
    assert assumptions["energy_model"] == "model-aware"
    assert assumptions["n_gpu"] == 4 and assumptions["batch_size"] == 64
    assert any("GPU count not given: 4" in warning for warning in data["warnings"])
    # the same call through the API gives the same answer
    response = TestClient(api.app).post("/calculate", json={"active_params_b": 70, "hardware": "h100", "batch_size": 64, "output_tokens": 350})
    assert response.status_code == 200
    assert response.json()["energy_kwh"] == pytest.approx(data["energy_kwh"], rel=1e-12)


@pytest.mark.parametrize(
    ("argv", "message", "code"),
    [
        (["--precision", "fp8"], "need active_params_b", 2),
        (["--active-params-b", "8", "--precision", "fp3"], "unknown precision 'fp3'", 2),
        (["--active-params-b", "0"], "--active-params-b (active_params_b): must be >= 0.1", 2),
        (["--active-params-b", "80", "--total-params-b", "8"], "(total_params_b): must be >= active_params_b", 2),
    ],
)
def test_cli_model_aware_bad_input(capsys, argv, message, code):
    exit_code, out, err = run_cli(capsys, *argv)
    assert exit_code == code and out == ""
    assert message in err and err.count("\n") == 1


# --- ranges -------------------------------------------------------------------------------------

RANGED = ("energy_kwh", "carbon_gco2eq", "water_l", "carbon_embodied_gco2eq")


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--profile", "translation", "--region", "FRA"],
        ["--active-params-b", "8"],
        ["--active-params-b", "4", "--total-params-b", "21", "--precision", "mxfp4", "--batch-size", "64"],
        ["--active-params-b", "405", "--precision", "fp8", "--hardware", "h100", "--method", "seed-quadratic"],
    ],
)
def test_cli_ranges_are_ordered(capsys, argv):
    code, out, _ = run_cli(capsys, *argv, "--json")
    assert code == 0
    data = json.loads(out)
    for name in RANGED:
        assert data[f"{name}_min"] <= data[name] <= data[f"{name}_max"]
    assert data["energy_kwh_min"] < data["energy_kwh_max"]  # these calls all have uncertain inputs


def test_api_ranges_are_ordered():
    client = TestClient(api.app)
    for body in ({}, {"active_params_b": 70, "batch_size": 8}, {"active_params_b": 100, "total_params_b": 400}):
        data = client.post("/calculate", json=body).json()
        for name in RANGED:
            assert data[f"{name}_min"] <= data[name] <= data[f"{name}_max"]


def test_api_range_collapses_when_nothing_is_uncertain():
    body = {
        "region": {"pue": 1.2, "carbon_intensity": 50},
        "hardware": {"power_gpu": 700, "eta_gpu": 0.6, "n_gpu": 4},
        "profile": {"input_size": 500, "output_size": 300, "throughput": 30, "prefill_throughput": 3000, "batch_size": 16},
    }
    data = TestClient(api.app).post("/calculate-raw", json=body).json()
    for name in RANGED:
        assert data[f"{name}_min"] == data[name] == data[f"{name}_max"]


@pytest.fixture
def exact_model_config(tmp_path, monkeypatch):
    """A config folder whose energy model carries no uncertainty (residual factor 1, one idle fraction)."""
    folder = tmp_path / "config"
    shutil.copytree(ROOT / "config", folder)
    path = folder / "energy_model.yaml"
    text = path.read_text(encoding="utf-8")
    idle = MODEL.fit.idle_power_fraction
    text = text.replace(f"idle_power_fraction_min: {MODEL.fit.idle_power_fraction_min:g}", f"idle_power_fraction_min: {idle:g}")
    text = text.replace(f"idle_power_fraction_max: {MODEL.fit.idle_power_fraction_max:g}", f"idle_power_fraction_max: {idle:g}")
    text = text.replace(f"residual_factor: {MODEL.fit.residual_factor:g}", "residual_factor: 1")
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("GENAI_CARBON_CONFIG_DIR", str(folder))
    exact = load_energy_model(folder)
    assert exact.fit.residual_factor == 1 and exact.fit.idle_power_fraction_min == exact.fit.idle_power_fraction_max
    return folder


def test_cli_model_aware_range_collapses_when_nothing_is_uncertain(capsys, exact_model_config):
    argv = ["--active-params-b", "8", "--batch-size", "32", "--in_tok", "500", "--out_tok", "300", "--pue", "1.2", "--intensity", "50", "--json"]
    code, out, err = run_cli(capsys, *argv)
    assert code == 0, err
    data = json.loads(out)
    for name in ("energy_kwh", "carbon_gco2eq", "carbon_embodied_gco2eq"):
        assert data[f"{name}_min"] == pytest.approx(data[name], rel=1e-12) == data[f"{name}_max"]
    # water keeps the datacentre's on-site water range
    assert data["water_l_min"] < data["water_l"] < data["water_l_max"]


def test_model_aware_range_holds_the_residual_factor():
    modele, _, _ = em.model_aware_modele(CONFIG, MODEL, active_params_b=8, batch_size=32, input_tokens=500, output_tokens=300)
    low, high = modele.bounds["decode_tokens_per_s"]
    assert low == pytest.approx(modele.decode_tokens_per_s / MODEL.fit.residual_factor, rel=1e-12)
    assert high == pytest.approx(modele.decode_tokens_per_s * MODEL.fit.residual_factor, rel=1e-12)
    assert math.isclose(modele.gpu_utilisation, em.power_fraction(32, MODEL.fit.idle_power_fraction, MODEL.fit.batch_half_activity))
