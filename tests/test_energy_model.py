"""The model-aware energy model: its physics pinned by hand, its invariants, the serving setup it builds, and ranges.

The pinned numbers use the committed coefficients of config/energy_model.yaml (fit: memory 211 pJ/byte,
FLOP factor 1.424, MoE factor 1.58 per GPU, step overhead 0.2626 ms and token overhead 9.332 us per
sqrt(billion active parameters), draw 0.652 at a small batch and half way at 618.4 requests; host and idle
reserve 0.431 + 0.172 of the GPUs' energy). A refit changes them: recompute the arithmetic in the comments.
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
from traitement import energy_model as em
from traitement.energy_model import load_energy_model

ROOT = Path(__file__).resolve().parent.parent
CONFIG = traitement.load_config()
MODEL = load_energy_model()
H100_FLOP_J = 1.424 * 700 / 989e12  # the committed FLOP factor x board power / peak bf16 FLOP/s: 1.00789e-12 J
KV_8B = 51868 * 8**0.4164  # KV cache bytes per token of an 8B model: 123,295


def run_cli(capsys, *argv):
    code = interface.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_committed_coefficients_are_the_ones_the_comments_use():
    fit = MODEL.fit
    assert (fit.memory_pj_per_byte, fit.flop_energy_factor, fit.moe_flop_energy_factor_per_gpu) == (211, 1.424, 1.58)
    assert (fit.step_overhead_ms_per_sqrt_b, fit.token_overhead_us_per_sqrt_b) == (0.2626, 9.332)
    assert (fit.draw_fraction_small_batch, fit.draw_half_batch) == (0.652, 618.4)
    assert (MODEL.boundaries.host_share_of_gpu_energy, MODEL.boundaries.idle_reserve_share_of_gpu_energy) == (0.431, 0.172)


# --- physics, one function at a time ---------------------------------------------------------


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


def test_params_read_dense_and_moe():
    assert em.params_read_per_step_b(70, 70, 8, 0.6) == 70  # dense: every weight, every step
    # 4B active of 20B, 60 % of the active in routed experts: 1.6B always read, 18.4B of routed experts of which a token uses 2.4B
    assert em.always_read_params_b(4, 20, 0.6) == pytest.approx(1.6, rel=1e-12)
    assert em.params_read_per_step_b(4, 20, 1, 0.6) == pytest.approx(4.0, rel=1e-12)  # one token: the active parameters
    assert em.params_read_per_step_b(4, 20, 2, 0.6) == pytest.approx(1.6 + 18.4 * (1 - (1 - 2.4 / 18.4) ** 2), rel=1e-12)
    assert em.params_read_per_step_b(4, 20, 1000, 0.6) == pytest.approx(20, rel=1e-9)  # a large batch touches every expert
    # four data-parallel attention replicas each read the always-read part
    assert em.params_read_per_step_b(4, 20, 1, 0.6, 4) == pytest.approx(4 * 1.6 + 2.4, rel=1e-12)


def test_kv_cache_capped_by_free_memory():
    # 8B bf16 on one 80 GB board: 72 GB usable - 16 GB of weights = 56 GB for the cache
    assert em.kv_cache_read_bytes(10_000, 1000, 131072, 1, 80, 0.9, 16e9) == pytest.approx(56e9, rel=1e-12)
    assert em.kv_cache_read_bytes(2, 1000, 131072, 1, 80, 0.9, 16e9) == pytest.approx(2 * 1000 * 131072, rel=1e-12)
    assert em.context_tokens(250, 389) == 444.5  # the prompt and half the answer


def test_flop_and_moe_energy_by_hand():
    assert em.flop_energy_j(700, 989, 1.424) == pytest.approx(H100_FLOP_J, rel=1e-12)
    assert em.flop_energy_j(1000, 2250, 1.0) == pytest.approx(1000 / 2250e12, rel=1e-12)
    assert em.moe_flop_multiplier(70, 70, 4, 1.58, 8) == 1.0  # dense
    assert em.moe_flop_multiplier(3, 30, 2, 1.58, 8) == pytest.approx(3.16, rel=1e-12)  # 1.58 x 2 GPUs
    assert em.moe_flop_multiplier(100, 400, 16, 1.58, 8) == pytest.approx(12.64, rel=1e-12)  # held at 8 GPUs


def test_overhead_and_step_energy_by_hand():
    # 700 W x sqrt(8) x (1 GPU x 0.2626 ms + 8 tokens x 9.332 us) = 1979.9 W x 0.3373 ms = 0.6677 J
    overhead = em.overhead_energy_j(700, 8, 1, 8, 0.2626e-3, 9.332e-6)
    assert overhead == pytest.approx(700 * 8**0.5 * (0.2626e-3 + 8 * 9.332e-6), rel=1e-12)
    assert em.decode_step_energy_j(16e9, 1.28e11, H100_FLOP_J, 211e-12, overhead) == pytest.approx(211e-12 * 16e9 + H100_FLOP_J * 1.28e11 + overhead, rel=1e-12)
    assert em.prefill_energy_j(8, 250, H100_FLOP_J) == pytest.approx(H100_FLOP_J * 2 * 8e9 * 250, rel=1e-12)  # 4.03 J


def test_power_fraction_by_hand():
    assert em.power_fraction(0, 0.652, 618.4) == pytest.approx(0.652, rel=1e-12)
    assert em.power_fraction(618.4, 0.652, 618.4) == pytest.approx(0.826, rel=1e-12)  # half way to full draw
    assert em.power_fraction(1e9, 0.652, 618.4) == pytest.approx(1.0, rel=1e-6)


def _serving(active, total=None, batch=8.0, precision="bf16", output_tokens=389, input_tokens=250, gpu="h100", n_gpu=None, data_parallel=1.0):
    precision_config = MODEL.precision(precision)[1]
    board = CONFIG.gpu(gpu)[1]
    total = active if total is None else total
    if n_gpu is None:
        n_gpu = em.gpus_for_weights(total, precision_config.bytes_per_param, board.memory_gb, MODEL.memory.overhead_fraction)
    return em.serving(
        active,
        total,
        precision_config.bytes_per_param,
        batch,
        input_tokens,
        output_tokens,
        n_gpu,
        board.memory_gb,
        board.power_w,
        board.bf16_tflop_per_s,
        data_parallel,
        **em.coefficients(MODEL),
    )


def test_serving_by_hand_dense():
    """Llama-3.1-8B on one H100 at batch 7.98, 250 tokens in, 389 out: ML.ENERGY measured 0.4548 J per output token."""
    s = _serving(8, batch=7.98)
    kv_bytes = 7.98 * 444.5 * KV_8B  # 0.437 GB of KV cache per step
    step = 211e-12 * (16e9 + kv_bytes) + H100_FLOP_J * 2 * 8e9 * 7.98 + 700 * 8**0.5 * (0.2626e-3 + 7.98 * 9.332e-6)  # 3.469 + 0.129 + 0.667 J
    prompt = H100_FLOP_J * 2 * 8e9 * 250  # 4.03 J
    assert s["decode_step_energy_j"] == pytest.approx(step, rel=1e-9)
    assert s["prefill_energy_j"] == pytest.approx(prompt, rel=1e-9)
    assert s["energy_per_output_token_j"] == pytest.approx(step / 7.98 + prompt / 389, rel=1e-9)  # 0.5447 J: 1.20x the measurement
    draw = 0.652 + 0.348 * 7.98 / (7.98 + 618.4)
    assert s["gpu_utilisation"] == pytest.approx(draw, rel=1e-12)
    assert s["decode_step_s"] == pytest.approx(step / (700 * draw), rel=1e-9)  # the step lasts its energy over the draw
    assert s["weight_read_gb"] == pytest.approx(16.0, rel=1e-12)


def test_serving_by_hand_moe_on_two_gpus():
    """Qwen3-30B-A3B (3B active of 30B) on 2 H100 at batch 7.99, 250 in, 901 out: measured 0.823 J per output token."""
    s = _serving(3, 30, batch=7.99, output_tokens=901, n_gpu=2)
    always, routed = 0.4 * 3, 30 - 0.4 * 3  # 1.2B always read, 28.8B in routed experts of which a token uses 1.8B
    weights = (always + routed * (1 - (1 - 1.8 / routed) ** 7.99)) * 2e9
    kv_bytes = 7.99 * (250 + 450.5) * 51868 * 3**0.4164
    flop_j = H100_FLOP_J * 1.58 * 2  # an expert FLOP on 2 GPUs costs 3.16 dense FLOPs
    step = 211e-12 * (weights + kv_bytes) + flop_j * 2 * 3e9 * 7.99 + 700 * 3**0.5 * (2 * 0.2626e-3 + 7.99 * 9.332e-6)
    prompt = flop_j * 2 * 3e9 * 250
    assert s["energy_per_output_token_j"] == pytest.approx(step / 7.99 + prompt / 901, rel=1e-9)  # 0.804 J: 0.98x
    assert s["energy_per_output_token_j"] == pytest.approx(0.8037594352505133, rel=1e-9)


def test_energy_per_token_falls_with_batch_then_levels_off():
    batches = 2.0 ** np.arange(14)  # 1 to 8192
    energy = _serving(8, batch=batches)["energy_per_output_token_j"]
    assert np.all(np.diff(energy) < 0)  # each batch shares the weights' reading among more tokens
    assert energy[0] / energy[1] > 1.8  # 1 -> 2: almost halves (the weights dominate)
    assert energy[0] / energy[3] > 5
    assert energy[-2] / energy[-1] < 1.1  # 4096 -> 8192: levelled off (arithmetic and KV cache per token)


def test_energy_per_token_grows_with_active_parameters():
    sizes = np.array([1, 3, 8, 30, 70, 180], dtype=float)
    for batch in (1.0, 32.0, 512.0):
        energy = np.array([_serving(size, batch=batch)["energy_per_output_token_j"] for size in sizes])
        assert np.all(np.diff(energy) > 0)


def test_moe_counts_its_active_parameters_at_batch_one():
    moe = _serving(4, 21, batch=1.0, n_gpu=1)["energy_per_output_token_j"]
    assert moe < _serving(21, batch=1.0, n_gpu=1)["energy_per_output_token_j"] / 3
    assert moe == pytest.approx(_serving(4, batch=1.0, n_gpu=1)["energy_per_output_token_j"], rel=0.5)


def test_energy_linear_in_output_tokens_apart_from_the_context():
    """Per request: prompt + output x decode per token; with the context held (KV cache) it is affine in output tokens."""
    s1, s2 = _serving(8, output_tokens=100), _serving(8, output_tokens=200)
    assert s1["prefill_energy_j"] == s2["prefill_energy_j"]
    assert s2["decode_step_energy_j"] > s1["decode_step_energy_j"]  # a longer answer means a longer mean context


def test_serving_scalar_equals_vector():
    batches = np.array([1.0, 8.0, 64.0, 900.0])
    vector = _serving(70, batch=batches)["energy_per_output_token_j"]
    scalar = [_serving(70, batch=float(b))["energy_per_output_token_j"] for b in batches]
    assert vector == pytest.approx(scalar, rel=1e-12)


# --- the serving setup (Modele) and the estimate ---------------------------------------------


def test_model_aware_modele_gives_the_physics_energy_and_the_boundaries():
    """The project's formula (power x time / batch) on the Modele returns the physics' GPU energy; host = 0.603 x GPU."""
    modele, assumptions, notes = em.model_aware_modele(CONFIG, MODEL, active_params_b=8, batch_size=7.98, input_tokens=250, output_tokens=389)
    site = traitement.Site(carbon_intensity_gco2eq_per_kwh=100, pue=1.2)
    result = traitement.estimate(traitement.Requete(input_tokens=250, output_tokens=389), modele, site)
    expected_j = 389 * 0.5447409857841667  # test_serving_by_hand_dense, per request
    assert result.energy_gpu_kwh * 3.6e6 == pytest.approx(expected_j, rel=1e-9)
    assert result.energy_it_kwh == pytest.approx(result.energy_gpu_kwh * (1 + 0.431 + 0.172), rel=1e-9)
    assert result.energy_kwh == pytest.approx(result.energy_it_kwh * 1.2, rel=1e-12)
    assert modele.n_gpu == 1 and any("GPU count not given: 1" in note for note in notes)
    assert assumptions["weight_read_gb"] == pytest.approx(16.0, rel=1e-12)


def test_model_aware_notes_the_moe_cap_and_the_host_cap():
    # 100B active of 400B in bf16: 16 H100 by the memory rule, beyond the 8 GPUs measured for a mixture of experts
    modele, _, notes = em.model_aware_modele(CONFIG, MODEL, active_params_b=100, total_params_b=400, batch_size=128, input_tokens=500, output_tokens=500)
    assert modele.n_gpu == 16
    assert any("taken at 8 GPUs" in note for note in notes)
    # 16 B200 at a large batch: host 0.603 x 16 x 1000 W x draw > 5,000 W, capped and said
    modele, _, notes = em.model_aware_modele(CONFIG, MODEL, active_params_b=400, gpu="b200", n_gpu=16, batch_size=512, input_tokens=500, output_tokens=500)
    assert modele.cpu_power_w == 5000.0 and any("capped at 5000 W" in note for note in notes)


def test_cli_model_aware_estimate_pinned(capsys):
    """Llama-3.1-70B (bf16) on 4 H100 at batch 64, 500 in, 350 out: the GPU energy by hand."""
    code, out, err = run_cli(capsys, "--active-params-b", "70", "--hardware", "h100", "--batch-size", "64", "--out_tok", "350", "--in_tok", "500", "--json")
    assert code == 0, err
    data = json.loads(out)
    kv_bytes = 64 * (500 + 175) * 51868 * 70**0.4164  # 21.0 GB of KV cache per step
    step = 211e-12 * (140e9 + kv_bytes) + H100_FLOP_J * 2 * 70e9 * 64 + 700 * 70**0.5 * (4 * 0.2626e-3 + 64 * 9.332e-6)
    prompt = H100_FLOP_J * 2 * 70e9 * 500
    assert data["energy_gpu_kwh"] * 3.6e6 == pytest.approx(prompt + 350 * step / 64, rel=1e-9)  # 296 J per request
    assert data["assumptions"]["n_gpu"] == 4 and data["assumptions"]["batch_size"] == 64
    assert data["assumptions"]["gpu_utilisation"] == pytest.approx(0.652 + 0.348 * 64 / (64 + 618.4), rel=1e-12)
    assert any("GPU count not given: 4" in warning for warning in data["warnings"])
    response = TestClient(api.app).post(
        "/calculate", json={"active_params_b": 70, "hardware": "h100", "batch_size": 64, "output_tokens": 350, "input_tokens": 500}
    )
    assert response.status_code == 200
    assert response.json()["energy_kwh"] == pytest.approx(data["energy_kwh"], rel=1e-12)


@pytest.mark.parametrize(
    ("argv", "message", "code"),
    [
        (["--precision", "fp8"], "--precision (precision): needs active_params_b", 2),
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
    """A config folder whose energy model carries no uncertainty (residual factor 1)."""
    folder = tmp_path / "config"
    shutil.copytree(ROOT / "config", folder)
    path = folder / "energy_model.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace(f"residual_factor: {MODEL.fit.residual_factor:g}", "residual_factor: 1")
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("GENAI_CARBON_CONFIG_DIR", str(folder))
    exact = load_energy_model(folder)
    assert exact.fit.residual_factor == 1
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
    assert modele.gpu_utilisation == pytest.approx(em.power_fraction(32, 0.652, 618.4), rel=1e-12)
    assert set(modele.bounds) == {"decode_tokens_per_s"}
