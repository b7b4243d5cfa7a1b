"""Method 'parameter' (seed 003) and the model catalogue: pinned numbers, invariants, interfaces, bad inputs."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

import api
import interface
import traitement
from traitement import parameter
from traitement.errors import ConfigError, InvalidInputError, UnknownNameError

ALPHA = 8.91e-5  # Wh per token per billion active parameters (seed 003)
BETA = 1.43e-3  # Wh per token (seed 003)
# Mistral Large 2, 400 tokens: 400 * (8.91e-5 * 123 + 1.43e-3) = 400 * 0.0123893 = 4.95572 Wh, and 1.14 gCO2e.
LARGE_2_WH = 4.95572
IMPLIED_MIX = 1.14 / LARGE_2_WH  # 0.23004 gCO2e/Wh


@pytest.fixture(scope="module")
def config():
    return traitement.load_config()


def cli_json(capsys, *argv):
    code = interface.main([*argv, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def cli_error(capsys, *argv):
    code = interface.main(list(argv))
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    return code, lines[0]


# --- the calibration point -------------------------------------------------------


def test_calibration_point_through_the_cli(capsys):
    result = cli_json(capsys, "--model", "mistral-large-2", "--out_tok", "400", "--method", "parameter")
    assert result["method"] == "parameter"
    assert result["energy_kwh"] == pytest.approx(0.00495572, rel=1e-9)
    assert round(result["energy_kwh"], 7) == 0.0049557
    assert result["carbon_gco2eq"] == pytest.approx(1.14, rel=1e-9)
    assert result["mix"] == "implied"
    assert "scope 3" in result["scope"] and "life cycle" in result["scope"]
    assert "scope 3" in result["covers"]["carbon_gco2eq"] and "life cycle" in result["covers"]["carbon_gco2eq"]
    assert result["region"] is None


def test_implied_mix_is_computed_from_the_calibration_point(config):
    assert parameter.implied_mix_from_config(config) == pytest.approx(IMPLIED_MIX, rel=1e-9)
    assert round(parameter.implied_mix_from_config(config), 4) == 0.2300
    assert parameter.implied_mix_gco2eq_per_wh(1.14, 400, 123, ALPHA, BETA) == pytest.approx(IMPLIED_MIX, rel=1e-9)


# --- alpha/beta arithmetic, hand-computed --------------------------------------------

CASES = [
    # name, output tokens, energy Wh by hand
    ("mistral-small", 100, 100 * (8.91e-5 * 24 + 1.43e-3)),  # 100 * 0.0035684 = 0.35684 Wh
    ("llama-3.1-70b", 250, 250 * (8.91e-5 * 70.6 + 1.43e-3)),  # 250 * 0.00772046 = 1.930115 Wh
    ("Llama3.1-8B", 1000, 1000 * (8.91e-5 * 8.03 + 1.43e-3)),  # alias, any case: 2.145473 Wh
]


@pytest.mark.parametrize(("model", "tokens", "energy_wh"), CASES)
def test_alpha_beta_arithmetic(config, model, tokens, energy_wh):
    assert energy_wh == pytest.approx({100: 0.35684, 250: 1.930115, 1000: 2.145473}[tokens], rel=1e-9)
    result = parameter.estimate_from_config(config, model, output_tokens=tokens).to_dict()
    assert result["energy_kwh"] == pytest.approx(energy_wh / 1000, rel=1e-9)
    assert result["carbon_gco2eq"] == pytest.approx(energy_wh * 1.14 / LARGE_2_WH, rel=1e-9)
    assert result["per_request"]["energy_wh"] == pytest.approx(energy_wh, rel=1e-9)


def test_grid_mix_is_energy_times_the_region_intensity(capsys, config):
    result = cli_json(capsys, "--model", "mistral-small", "--out_tok", "100", "--mix", "grid", "--region", "DEU", "--method", "parameter")
    intensity = config.region("DEU")[1].carbon_intensity_gco2eq_per_kwh
    assert result["carbon_gco2eq"] == pytest.approx(0.35684 / 1000 * intensity, rel=1e-9)
    assert result["region"] == "DEU"
    assert (result["assumptions"]["carbon_intensity_year"], result["assumptions"]["carbon_intensity_source"]) == (2024, "ember-2024")
    assert result["scope"] == "scope 2, electricity only"
    assert "scope 2" in result["covers"]["carbon_gco2eq"] and "grid" in result["covers"]["carbon_gco2eq"]
    # same energy whatever the mix
    implied = cli_json(capsys, "--model", "mistral-small", "--out_tok", "100", "--method", "parameter")
    assert implied["energy_kwh"] == pytest.approx(result["energy_kwh"], rel=1e-12)


def test_count_multiplies(config):
    one = parameter.estimate_from_config(config, "codestral", output_tokens=300).to_dict()
    many = parameter.estimate_from_config(config, "codestral", output_tokens=300, count=1000).to_dict()
    assert many["energy_kwh"] == pytest.approx(1000 * one["energy_kwh"], rel=1e-12)
    assert many["per_request"]["carbon_gco2eq"] == pytest.approx(one["carbon_gco2eq"], rel=1e-12)


# --- mixture of experts ---------------------------------------------------------


@pytest.mark.parametrize(("model", "active_b", "total_b"), [("qwen3-30b-a3b", 3.3, 30.5), ("mixtral-8x7b", 12.9, 46.7), ("deepseek-v3", 37, 671)])
def test_mixture_of_experts_uses_active_parameters(config, model, active_b, total_b):
    result = parameter.estimate_from_config(config, model, output_tokens=500).to_dict()
    assert result["energy_kwh"] == pytest.approx(500 * (ALPHA * active_b + BETA) / 1000, rel=1e-9)
    assert result["energy_kwh"] < 500 * (ALPHA * total_b + BETA) / 1000
    assert result["assumptions"]["total_params_b"] == total_b


def test_catalogue_marks_mixture_of_experts(config):
    models = traitement.describe_models(config)["models"]
    for name in ("qwen3-30b-a3b", "qwen3-235b-a22b", "gpt-oss-20b", "gpt-oss-120b", "mixtral-8x7b", "mixtral-8x22b", "deepseek-v3"):
        assert models[name]["mixture_of_experts"], name
    for name in ("mistral-large-2", "llama-3.1-405b", "qwen3-32b"):
        assert not models[name]["mixture_of_experts"], name


# --- ranges ----------------------------------------------------------------------


def test_undisclosed_size_gives_a_range(config):
    result = parameter.estimate_from_config(config, "mistral-medium", output_tokens=400).to_dict()
    assert result["energy_kwh_min"] == pytest.approx(400 * (ALPHA * 45 + BETA) / 1000, rel=1e-9)
    assert result["energy_kwh_max"] == pytest.approx(400 * (ALPHA * 180 + BETA) / 1000, rel=1e-9)
    assert result["carbon_gco2eq_min"] < result["carbon_gco2eq"] < result["carbon_gco2eq_max"]
    assert any("not disclosed" in w for w in result["warnings"])
    entry = config.llm("mistral-medium")[1]
    assert entry.estimate and "ESTIMATE" in entry.source_note


def test_profile_token_range_gives_a_range(config):
    result = parameter.estimate_from_config(config, "mistral-small", profile="chatbot").to_dict()
    assert result["output_tokens"] == 75
    assert result["energy_kwh_min"] == pytest.approx(50 * (ALPHA * 24 + BETA) / 1000, rel=1e-9)
    assert result["energy_kwh_max"] == pytest.approx(100 * (ALPHA * 24 + BETA) / 1000, rel=1e-9)


def test_warnings_say_what_is_not_covered(config):
    quiet = parameter.estimate_from_config(config, "mistral-small", output_tokens=10).to_dict()
    assert not any("input tokens are ignored" in w for w in quiet["warnings"])
    assert any("R^2 <= 0.8" in w for w in quiet["warnings"])
    told = parameter.estimate_from_config(config, "mistral-small", input_tokens=20_000, output_tokens=10).to_dict()
    assert any("input tokens are ignored" in w for w in told["warnings"])
    assert told["energy_kwh"] == quiet["energy_kwh"]
    assert "input tokens are not counted" in told["covers"]["energy_kwh"]


# --- invariants ------------------------------------------------------------------


@given(
    tokens=st.integers(min_value=1, max_value=10**6),
    params=st.floats(min_value=0.1, max_value=2000),
    factor=st.integers(min_value=2, max_value=50),
)
def test_linear_in_tokens_and_monotone_in_size(tokens, params, factor):
    base = parameter.energy_wh(tokens, params, ALPHA, BETA)
    assert parameter.energy_wh(tokens * factor, params, ALPHA, BETA) == pytest.approx(factor * base, rel=1e-12)
    assert parameter.energy_wh(tokens, params * 1.5, ALPHA, BETA) > base


def test_vectorised_equals_scalar():
    tokens = np.array([1, 75, 400, 10_000])
    params = np.array([3.3, 24.0, 123.0, 405.9])
    column = parameter.footprint(tokens, 3, params, ALPHA, BETA, IMPLIED_MIX)
    for i in range(len(tokens)):
        one = parameter.footprint(int(tokens[i]), 3, float(params[i]), ALPHA, BETA, IMPLIED_MIX)
        assert column["energy_kwh"][i] == pytest.approx(one["energy_kwh"], rel=1e-12)
        assert column["carbon_gco2eq"][i] == pytest.approx(one["carbon_gco2eq"], rel=1e-12)


# --- the catalogue ---------------------------------------------------------------

REQUIRED = [
    "mistral-large-2",
    "mistral-medium",
    "mistral-small",
    "ministral-8b",
    "mixtral-8x7b",
    "mixtral-8x22b",
    "codestral",
    "llama-3.1-8b",
    "llama-3.1-70b",
    "llama-3.1-405b",
    "qwen3-8b",
    "qwen3-32b",
    "qwen3-30b-a3b",
    "qwen3-235b-a22b",
    "gpt-oss-20b",
    "gpt-oss-120b",
    "deepseek-v3",
]


def test_catalogue_holds_the_required_models(config):
    for name in REQUIRED:
        key, entry = config.llm(name)
        assert key == name
        assert entry.provider and entry.source
        assert 0 < entry.active_params_b.value <= entry.total_params_b.value


@pytest.mark.parametrize(
    ("given_name", "key"),
    [("MISTRAL-LARGE-2", "mistral-large-2"), ("mistral-large-2407", "mistral-large-2"), ("Ministral", "ministral-8b")],
)
def test_names_match_case_insensitively_and_by_alias(config, given_name, key):
    assert config.llm(given_name)[0] == key


def test_unknown_model_suggests_the_closest(config, capsys):
    with pytest.raises(UnknownNameError, match=r"closest: qwen3-30b-a3b"):
        config.llm("qwen3-30b")
    code, line = cli_error(capsys, "--model", "mistral-larg", "--out_tok", "400")
    assert code == 2
    assert "unknown model 'mistral-larg'" in line and "mistral-large-2" in line


def test_models_command(capsys):
    data = cli_json(capsys, "models")
    assert set(REQUIRED) <= set(data["models"])
    assert data["parameter_method"]["implied_mix_gco2eq_per_wh"] == pytest.approx(IMPLIED_MIX, rel=1e-9)
    assert interface.main(["models"]) == 0
    assert "qwen3-30b-a3b" in capsys.readouterr().out


def test_bad_catalogue_is_refused(tmp_path):
    for name in ("config.yaml", "config_model.yaml", "models.yaml"):
        shutil.copy(traitement.config.CONFIG_DIR / name, tmp_path / name)
    text = (tmp_path / "models.yaml").read_text()
    (tmp_path / "models.yaml").write_text(text.replace("    active_params_b: 123\n    output_tokens: 400", "    active_params_b: 124\n    output_tokens: 400"))
    with pytest.raises(ConfigError, match="calibration.active_params_b"):
        traitement.load_config(tmp_path).models_file()  # read on first use


# --- method selection and bad inputs ----------------------------------------------


def test_method_defaults(config):
    def method(**fields):
        return traitement.estimate_named(config, traitement.parse(traitement.NamedRequest, fields)).method

    assert method(model="mistral-small") == "model-aware"  # a model alone: the validated method, the deployment as ranges
    assert method() == "hardware"
    assert method(model="mistral-small", hardware="a100") == "hardware"  # model-aware hardware: another branch
    assert method(model="mistral-small", method="parameter") == "parameter"


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--model", "mistral-small", "--out_tok", "-5"], "--out_tok (output_tokens)"),
        (["--model", "mistral-small", "--out_tok", "0"], "--out_tok (output_tokens): must be >= 1"),
        (["--model", "mistral-small", "--method", "parameter", "--pue", "1.2"], "--pue (pue): not used by method 'parameter'"),
        (["--model", "mistral-small", "--method", "parameter", "--hardware", "a100"], "--hardware (hardware): not used by method 'parameter'"),
        (["--model", "mistral-small", "--mix", "coal"], "--mix (mix)"),
        (["--model", "mistral-small", "--method", "parameter", "--intensity", "50"], "not used by the implied mix"),
        (["--mix", "grid"], "--mix (mix): used only by method 'parameter'"),
        (["--method", "parameter"], "--model (model): required by method 'parameter'"),
        (["--model", "mistral-small", "--method", "parameter", "--mix", "grid", "--region", "atlantis"], "unknown region 'atlantis'"),
        (["--model", "mistral-small", "--mix", "grid"], "--mix (mix): used only by method 'parameter', not 'model-aware'"),
    ],
)
def test_bad_inputs_cli(capsys, argv, needle):
    code, line = cli_error(capsys, *argv)
    assert code == 2
    assert needle in line


def test_invalid_input_error_in_core(config):
    with pytest.raises(InvalidInputError, match="output_tokens"):
        traitement.parse(traitement.NamedRequest, {"model": "mistral-small", "output_tokens": -1})


# --- API ---------------------------------------------------------------------------

client = TestClient(api.app)


def test_api_models_and_calculate():
    models = client.get("/models")
    assert models.status_code == 200
    assert set(REQUIRED) <= set(models.json()["models"])
    answer = client.post("/calculate", json={"model": "Mistral-Large-2", "output_tokens": 400, "method": "parameter"})
    assert answer.status_code == 200
    assert answer.json()["carbon_gco2eq"] == pytest.approx(1.14, rel=1e-9)
    assert answer.json()["method"] == "parameter"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"model": "gpt-99"}, 404, "unknown-model"),
        ({"model": "mistral-small", "output_tokens": -3}, 422, "invalid-input"),
        ({"model": "mistral-small", "mix": "coal"}, 422, "invalid-input"),
        ({"model": "mistral-small", "method": "parameter", "batch_size": 8}, 422, "invalid-input"),
    ],
)
def test_api_bad_inputs(body, status, code):
    answer = client.post("/calculate", json=body)
    assert answer.status_code == status
    assert answer.json()["code"] == code
    assert "\n" not in answer.json()["detail"]


def test_hardware_json_keys_are_unchanged(capsys):
    result = cli_json(capsys, "--in_tok", "2000", "--out_tok", "500", "--region", "usa")
    assert result["method"] == "hardware"
    for key in ("prefill_s", "decode_s", "duration_s", "energy_gpu_kwh", "water_l", "carbon_embodied_gco2eq", "water_l_min"):
        assert key in result
