"""Input, cached and reasoning tokens: what each costs, pinned by hand, their invariants, and their one-line errors.

Conventions (docs/tokens.md): ``cached_input_tokens`` are part of ``input_tokens`` (read from the KV cache
instead of recomputed), ``reasoning_tokens`` part of ``output_tokens`` (charged as output tokens, reported
apart with the share of the energy they cause).
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

import api
import interface
import traitement

H100_FLOP_J = 1.424 * 700 / 989e12  # the committed FLOP factor x board power / peak bf16 FLOP/s
KV_70B = 51868 * 70**0.4164  # KV cache bytes per token of a 70B model by the formula
RANGED = ("energy_gpu_kwh", "energy_it_kwh", "energy_kwh", "carbon_gco2eq", "water_l", "carbon_embodied_gco2eq")
SETUPS = {
    "model alone (deployment unknown)": ["--model", "llama-3.1-70b"],
    "model on a known hardware": ["--model", "llama-3.1-70b", "--hardware", "h100"],
    "model size on a bare board": ["--active-params-b", "8", "--hardware", "b200", "--batch-size", "32"],
}


def cli_json(capsys, *argv: str) -> dict:
    code = interface.main([*argv, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def cli_error(capsys, *argv: str) -> str:
    code = interface.main(list(argv))
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.count("\n") == 1, captured.err
    return captured.err


# --- what a token costs ----------------------------------------------------------------------------------


@pytest.mark.parametrize("setup", list(SETUPS), ids=list(SETUPS))
def test_a_long_prompt_costs_more(capsys, setup):
    short = cli_json(capsys, *SETUPS[setup], "--in_tok", "200", "--out_tok", "400")
    long = cli_json(capsys, *SETUPS[setup], "--in_tok", "20000", "--out_tok", "400")
    for name in RANGED:
        for suffix in ("", "_min", "_max"):
            assert long[name + suffix] > short[name + suffix], name + suffix


def test_a_long_prompt_costs_more_on_a_hardware_preset(capsys):
    short = cli_json(capsys, "--in_tok", "200", "--out_tok", "400")
    long = cli_json(capsys, "--in_tok", "20000", "--out_tok", "400")
    assert long["energy_kwh"] > short["energy_kwh"] and long["energy_kwh_min"] > short["energy_kwh_min"]


@pytest.mark.parametrize("setup", list(SETUPS), ids=list(SETUPS))
def test_cached_tokens_cost_less_than_uncached_but_not_nothing(capsys, setup):
    uncached = cli_json(capsys, *SETUPS[setup], "--in_tok", "20000", "--out_tok", "400")
    cached = cli_json(capsys, *SETUPS[setup], "--in_tok", "20000", "--cached-input-tokens", "15000", "--out_tok", "400")
    short = cli_json(capsys, *SETUPS[setup], "--in_tok", "5000", "--out_tok", "400")
    for name in RANGED:
        assert cached[name] < uncached[name], name
        # the cached 15,000 are still read: their KV cache once in prefill, and at every decode step as context
        assert cached[name] > short[name], name
    assert cached["cached_input_tokens"] == 15000 and cached["input_tokens"] == 20000


def test_cached_prefill_pinned_by_hand(capsys):
    """70 B on 4 H100 at batch 64, 500 in of which 400 cached, 350 out: 100 tokens computed, 400 read from the cache."""
    data = cli_json(
        capsys, "--active-params-b", "70", "--hardware", "h100", "--batch-size", "64", "--in_tok", "500", "--cached-input-tokens", "400", "--out_tok", "350"
    )
    step = 211e-12 * (140e9 + 64 * (500 + 175) * KV_70B) + H100_FLOP_J * 2 * 70e9 * 64 + 700 * 70**0.5 * (4 * 0.2626e-3 + 64 * 9.332e-6)
    prompt = H100_FLOP_J * 2 * 70e9 * 100 + 400 * KV_70B * 211e-12  # 14.1 J computed + 0.025 J read
    assert data["energy_gpu_kwh"] * 3.6e6 == pytest.approx(prompt + 350 * step / 64, rel=1e-9)
    assert data["assumptions"]["prefill_energy_j"] == pytest.approx(prompt, rel=1e-9)


def test_a_cached_token_costs_its_kv_cache_read():
    """The physics: 2 x active parameters FLOP recomputed, or bytes of KV cache x energy per byte read."""
    model = traitement.energy_model.load_energy_model()
    from traitement import energy_model as em

    flop_j = em.flop_energy_j(700, 989, 1.424)
    assert em.prefill_energy_j(70, 1, flop_j) == pytest.approx(H100_FLOP_J * 140e9, rel=1e-12)
    assert em.cached_prefill_energy_j(1, KV_70B, 211e-12) == pytest.approx(KV_70B * 211e-12, rel=1e-12)
    assert em.cached_prefill_energy_j(1, KV_70B, 211e-12) < em.prefill_energy_j(70, 1, flop_j) / 1000  # 2,000x cheaper
    assert model.fit.memory_pj_per_byte == 211


@pytest.mark.parametrize("setup", [*SETUPS.values(), ["--in_tok", "2000"], ["--model", "mistral-large-2", "--method", "parameter"]])
def test_results_are_linear_in_count(capsys, setup):
    argv = [*setup] if "--in_tok" in setup else [*setup, "--in_tok", "2000"]
    one = cli_json(capsys, *argv, "--out_tok", "400")
    many = cli_json(capsys, *argv, "--out_tok", "400", "--count", "1000")
    names = [name for name in RANGED if name in one]
    for name in names:
        for suffix in ("", "_min", "_max"):
            if name + suffix in one:
                assert many[name + suffix] == pytest.approx(1000 * one[name + suffix], rel=1e-12), name + suffix
    assert many["per_request"]["energy_kwh"] == pytest.approx(one["per_request"]["energy_kwh"], rel=1e-12)


# --- reasoning tokens ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("setup", [*SETUPS.values(), []], ids=[*SETUPS, "hardware preset"])
def test_reasoning_tokens_are_output_tokens_reported_apart(capsys, setup):
    plain = cli_json(capsys, *setup, "--in_tok", "2000", "--out_tok", "1000")
    thinking = cli_json(capsys, *setup, "--in_tok", "2000", "--out_tok", "1000", "--reasoning-tokens", "600")
    for name in RANGED:
        assert thinking[name] == pytest.approx(plain[name], rel=1e-12)  # the same output tokens: the same energy
    assert plain["reasoning_tokens"] == 0 and plain["reasoning_energy_kwh"] == 0 and plain["reasoning_energy_share"] == 0
    decode_share = thinking["decode_s"] / thinking["duration_s"]
    assert thinking["reasoning_energy_kwh"] == pytest.approx(thinking["energy_kwh"] * 0.6 * decode_share, rel=1e-12)
    assert thinking["reasoning_energy_share"] == pytest.approx(0.6 * decode_share, rel=1e-12)
    everything = cli_json(capsys, *setup, "--in_tok", "2000", "--out_tok", "1000", "--reasoning-tokens", "1000")
    assert everything["reasoning_energy_share"] == pytest.approx(decode_share, rel=1e-12)


def test_reasoning_share_in_the_parameter_method(capsys):
    data = cli_json(capsys, "--model", "mistral-large-2", "--method", "parameter", "--out_tok", "400", "--reasoning-tokens", "100")
    assert data["reasoning_energy_share"] == pytest.approx(0.25, rel=1e-12)
    assert data["reasoning_energy_kwh"] == pytest.approx(0.25 * 0.00495572, rel=1e-9)
    assert data["energy_kwh"] == pytest.approx(0.00495572, rel=1e-9)  # the calibration point is unchanged


def test_reasoning_line_in_text(capsys):
    assert interface.main(["--model", "gpt-4o", "--in_tok", "2000", "--out_tok", "400", "--reasoning-tokens", "200", "--cached-input-tokens", "1500"]) == 0
    text = capsys.readouterr().out
    assert "2,000 tokens in (1,500 cached), 400 out (200 reasoning)" in text
    assert "reasoning  " in text and "of the energy (the reasoning tokens' decode)" in text


# --- one-line errors -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--model", "llama-3.1-8b", "--in_tok", "2000", "--cached-input-tokens", "2001"],
            "--cached-input-tokens (cached_input_tokens): must be at most input_tokens (2,000)",
        ),
        (
            ["--model", "llama-3.1-8b", "--out_tok", "400", "--reasoning-tokens", "401"],
            "--reasoning-tokens (reasoning_tokens): must be at most output_tokens (400)",
        ),
        (["--model", "llama-3.1-8b", "--cached-input-tokens", "10"], "--cached-input-tokens (cached_input_tokens): needs input_tokens too"),
        (["--model", "llama-3.1-8b", "--reasoning-tokens", "10"], "--reasoning-tokens (reasoning_tokens): needs output_tokens too"),
        (["--model", "llama-3.1-8b", "--in_tok", "20", "--cached-input-tokens", "-1"], "--cached-input-tokens (cached_input_tokens): must be >= 0"),
        (["--model", "llama-3.1-8b", "--out_tok", "20", "--reasoning-tokens", "1.5"], "--reasoning-tokens (reasoning_tokens): must be an integer"),
        (
            ["--in_tok", "2000", "--cached-input-tokens", "10"],
            "--cached-input-tokens (cached_input_tokens): not used by method 'hardware' on a hardware preset",
        ),
        (["--method", "seed-quadratic", "--in_tok", "20", "--cached-input-tokens", "10"], "not used by the legacy method 'seed-quadratic'"),
    ],
)
def test_bad_token_parts_are_one_line_errors(capsys, argv, message):
    assert message in cli_error(capsys, *argv)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"model": "llama-3.1-8b", "input_tokens": 100, "cached_input_tokens": 101}, "cached_input_tokens"),
        ({"model": "llama-3.1-8b", "output_tokens": 100, "reasoning_tokens": 101}, "reasoning_tokens"),
        ({"model": "llama-3.1-8b", "cached_input_tokens": 5}, "cached_input_tokens"),
        ({"input_tokens": 100, "cached_input_tokens": 5}, "cached_input_tokens"),
    ],
)
def test_api_refuses_bad_token_parts_naming_the_field(body, field):
    answer = TestClient(api.app).post("/calculate", json=body)
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert detail.startswith(f"{field}: ") and "\n" not in detail


def test_the_request_value_object_refuses_a_part_above_its_whole():
    with pytest.raises(traitement.InvalidInputError, match=r"cached_input_tokens: must be at most input_tokens \(10\)"):
        traitement.parse(traitement.Requete, {"input_tokens": 10, "output_tokens": 5, "cached_input_tokens": 11})
    with pytest.raises(traitement.InvalidInputError, match="input_tokens: its range's min"):
        traitement.parse(traitement.Requete, {"input_tokens": 10, "output_tokens": 5, "cached_input_tokens": 8, "bounds": {"input_tokens": (5, 20)}})
    ok = traitement.parse(traitement.Requete, {"input_tokens": 10, "output_tokens": 5, "cached_input_tokens": 10, "reasoning_tokens": 5})
    assert (ok.cached_input_tokens, ok.reasoning_tokens) == (10, 5)
