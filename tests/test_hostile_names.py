"""Hostile names (region, datacentre, hardware, profile, precision, model) in the CLI and the API.

Found by the hardening sweep:

* an unknown datacentre, profile, precision or serving setup was refused without
  the field's name (``unknown datacenter 'x'``), so the CLI could not name the flag,
  unlike an unknown region or model; ``analytics`` named neither;
* ``analytics --help`` offered the data pack's GPU boards for ``--hardware``, which
  analytics refuses (it runs a serving setup's speeds);
* a name typed in decomposed Unicode (``'E' + U+0301`` for ``É``, as some keyboards and
  macOS file names give it) was refused as "not a name", while the composed one was read.
"""

from __future__ import annotations

import json
import unicodedata

import pytest
from fastapi.testclient import TestClient

import api
import interface
from traitement.paths import DATA_DIR

client = TestClient(api.app, raise_server_exceptions=False)
SAMPLE = str(DATA_DIR / "sample-daily-analytics.yaml")


def cli_error(capsys, *argv: str) -> str:
    assert interface.main(list(argv)) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err, err
    return err.removeprefix("interface.py: error: ").rstrip("\n")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--datacenter", "garage"], "--datacenter (datacenter): unknown datacenter 'garage'; known: aws, google"),
        (["--profile", "poem"], "--profile (profile): unknown profile 'poem'; known: chatbot"),
        (["--active-params-b", "8", "--precision", "fp3"], "--precision (precision): unknown precision 'fp3'; known: bf16"),
        (["--model", "llama-3.1-8b", "--precision", "fp3"], "--precision (precision): unknown precision 'fp3'; known: bf16"),
        (["analytics", SAMPLE, "--datacenter", "garage"], "--datacenter (datacenter): unknown datacenter 'garage'; known: aws"),
        (["analytics", SAMPLE, "--hardware", "a10g"], "--hardware (hardware): unknown hardware 'a10g' (did you mean a100?); known: a100"),
        (["analytics", SAMPLE, "--region", "zz"], "--region (region): unknown region 'zz'"),
    ],
)
def test_an_unknown_name_names_the_flag(capsys, argv, expected) -> None:
    assert cli_error(capsys, *argv).startswith(expected)


@pytest.mark.parametrize(
    ("body", "field"),
    [({"datacenter": "garage"}, "datacenter"), ({"profile": "poem"}, "profile"), ({"active_params_b": 8, "precision": "fp3"}, "precision")],
)
def test_api_unknown_name_starts_with_the_field(body, field) -> None:
    answer = client.post("/calculate", json=body)
    assert answer.status_code == 404
    assert answer.json()["detail"].startswith(f"{field}: unknown {field} ")


def test_analytics_help_offers_serving_setups_only(capsys) -> None:
    assert interface.main(["analytics", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "not a bare GPU board" in text and "a10g" not in text
    assert interface.main(["estimate", "--help"]) == 0
    assert "a10g" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["Côte d'Ivoire", "Réunion", "São Tomé and Príncipe"])
def test_a_decomposed_unicode_name_is_the_composed_one(capsys, name) -> None:
    composed = unicodedata.normalize("NFC", name)
    decomposed = unicodedata.normalize("NFD", name)
    assert composed != decomposed
    answers = []
    for text in (composed, decomposed):
        assert interface.main(["--region", text, "--json"]) == 0
        answers.append(capsys.readouterr().out)
    assert answers[0] == answers[1]
    assert client.post("/calculate", json={"region": decomposed}).json()["region"] == client.post("/calculate", json={"region": composed}).json()["region"]


@pytest.mark.parametrize("name", ["usa\u200b", "\u202eusa", "a\u0000b", "\u001b[31m"])
def test_invisible_and_control_characters_are_not_a_name(capsys, name) -> None:
    assert "is not a region name" in cli_error(capsys, "--region", name)
    assert client.post("/calculate", json={"region": name}).status_code == 422


# --- values: words of the one formatter ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--in_tok", "1e308"], "--in_tok (input_tokens): is too large (got 1e+308); allowed: prompt length in tokens, an integer from 1 to 10,000,000"),
        (["--count", "1e30"], "--count (count): is too large (got 1e+30); allowed: number of such requests, an integer from 1 to 10,000,000,000,000"),
        (["--total-params-b", "5"], "--total-params-b (total_params_b): needs active_params_b (the model's size) or model as well"),
        (["--precision", "fp8"], "--precision (precision): needs active_params_b (the model's size) or model as well"),
    ],
)
def test_value_errors_name_the_flag_given(capsys, argv, expected) -> None:
    assert cli_error(capsys, *argv).startswith(expected)


@pytest.mark.parametrize("value", ["1e-320", "-0", "1_0", "inf"])
def test_a_bad_body_timeout_setting_is_one_line(capsys, monkeypatch, value) -> None:
    monkeypatch.setenv("GENAI_CARBON_BODY_TIMEOUT_S", value)
    assert interface.main(["--json"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith("interface.py: error: GENAI_CARBON_BODY_TIMEOUT_S: ")


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("claude-3.5-sonnet", "claude-3-5-sonnet"),
        ("anthropic/claude-3.5-sonnet", "claude-3-5-sonnet"),
        ("Claude 3.7 Sonnet", "claude-3-7-sonnet"),
        ("llama-3.1-70b", "llama-3.1-70b"),
        ("gpt-4.1", "gpt-4.1"),
    ],
)
def test_a_version_written_with_a_dot_finds_an_id_written_with_a_dash(capsys, name, model) -> None:
    assert interface.main(["--model", name, "--method", "parameter", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == model
    assert client.post("/calculate", json={"model": name, "method": "parameter"}).json()["model"] == model


def test_a_dashed_version_keeps_the_provider_check(capsys) -> None:
    assert "claude-3-5-sonnet is published by anthropic, not openai" in cli_error(capsys, "--model", "openai/claude-3.5-sonnet")


def test_a_name_with_bytes_that_are_not_utf8_is_worded(capsys) -> None:
    """A shell passes such bytes as lone surrogates (``$'\\xff'``); JSON can write one (``"\\ud800"``): pydantic's words were
    'input should be a valid string, unable to parse raw data as a unicode string'."""
    expected = "must be valid text (it holds bytes that are not UTF-8, or a lone surrogate)"
    assert cli_error(capsys, "--region", "\udcff").startswith(f"--region (region): {expected} (got '\\udcff')")
    answer = client.post("/calculate", content=b'{"model": "\\ud800"}', headers={"content-type": "application/json"})
    assert answer.status_code == 422 and answer.json()["detail"].startswith(f"model: {expected}")
