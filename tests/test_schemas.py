"""The request schemas shared by the CLI and the API: one rule for numbers, the same words, enums from the registry.

The API takes them as ordinary FastAPI body and query parameters; the CLI
validates its text with the same models. So both read a number the same way
(issue 15, item 27) and document each choice as an enum (item 29).
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import api
import interface
import traitement
from traitement.errors import InvalidInputError

client = TestClient(api.app, raise_server_exceptions=False)
CONFIG = traitement.load_config()
SEED = {
    "region": {"pue": 1.2, "carbon_intensity": 55},
    "hardware": {"power_gpu": 400, "power_cpu": 100, "eta_cpu": 0.2},
    "profile": {"name": "test", "input_size": 1000, "output_size": 200, "throughput": 60, "count": 1},
}


# --- one rule for numbers, CLI text and JSON alike (issue 15, item 27) -------------------------------------


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("1000", 1000),
        (" 1000 ", 1000),
        ("1e3", 1000),  # the CLI refused it, the API took it: both take it now
        ("1000.0", 1000),
        ("1_000", None),  # Python's underscores: refused by both (the CLI read --pue 1_5 as 15)
        ("\u0661\u0660\u0660\u0660", None),  # Arabic-Indic digits: refused by both (the CLI took them)
        ("1.5", None),
        ("0x10", None),
        ("inf", None),
        ("", None),
    ],
)
def test_cli_and_api_read_a_number_by_one_rule(capsys, text, accepted):
    code = interface.main(["--in_tok", text, "--out_tok", "10", "--json"])
    captured = capsys.readouterr()
    api_answer = client.post("/calculate", json={"input_tokens": text, "output_tokens": 10})
    if accepted is None:
        assert code == 2 and api_answer.status_code == 422
        cli_message = captured.err.strip().split("(input_tokens): ", 1)[1]
        assert cli_message == api_answer.json()["detail"].split("input_tokens: ", 1)[1]  # the same words
    else:
        assert code == 0 and api_answer.status_code == 200
        assert json.loads(captured.out)["input_tokens"] == api_answer.json()["input_tokens"] == accepted


def test_a_json_number_and_its_text_are_the_same_value():
    as_number = client.post("/calculate", json={"input_tokens": 1e3, "output_tokens": 10, "pue": 1.5}).json()
    as_text = client.post("/calculate", json={"input_tokens": "1e3", "output_tokens": "10", "pue": "1.5"}).json()
    assert as_number == as_text


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="0123456789.eE+-_ \u0661x", max_size=8))
def test_the_rule_is_the_same_in_every_schema(text):
    """A text accepted for a token count by NamedRequest is accepted by Requete and RawProfile, with the same value."""
    results = []
    for schema, data in (
        (traitement.NamedRequest, {"input_tokens": text}),
        (traitement.Requete, {"input_tokens": text, "output_tokens": 1}),
        (traitement.schemas.RawProfile, {"input_size": text, "output_size": 1, "throughput": 1}),
    ):
        try:
            model = schema.model_validate(data)
        except ValidationError:
            results.append(None)
        else:
            results.append(getattr(model, "input_tokens", None) or getattr(model, "input_size", None))
    assert results.count(results[0]) == 3, (text, results)


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/calculate", '{"count": 1%s}', "count"),
    ("/calculate", '{"input_tokens": 1%s}', "input_tokens"),
    ("/calculate", '{"pue": 1%s}', "pue"),
    ("/calculate", '{"batch_size": 1%s}', "batch_size"),
    ("/calculate-raw", '{"region": {"pue": 1%s, "carbon_intensity": 1}, "hardware": {"power_gpu": 1}, "profile": {"input_size": 1, "output_size": 1, '
     '"throughput": 1}}', "region.pue"),
])
def test_a_400_digit_integer_is_a_one_line_422(path, body, field):
    """Issue 15, item 16: 10**400 as a JSON number is refused naming the field (it was an OverflowError), and not echoed whole."""
    response = client.post(path, content=(body % ("0" * 400)).encode(), headers={"content-type": "application/json"})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith(f"{field}: must be ") and "\n" not in detail and len(detail) < 300


@pytest.mark.parametrize("value", [True, False])
def test_booleans_are_not_numbers(value):
    with pytest.raises(InvalidInputError, match="input_tokens: a boolean is not allowed here"):
        traitement.parse(traitement.NamedRequest, {"input_tokens": value})
    assert client.post("/calculate", json={"input_tokens": value}).json()["detail"].startswith("input_tokens: a boolean is not allowed here")


# --- the request bodies as FastAPI documents them -------------------------------------------------------------


def test_body_schemas_are_documented_with_their_bounds():
    schema = client.get("/openapi.json").json()
    for path, name in (("/calculate", "NamedRequest"), ("/calculate-raw", "RawRequest")):
        body = schema["paths"][path]["post"]["requestBody"]
        assert body["required"] is True and body["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{name}"}
        assert schema["components"]["schemas"][name]["additionalProperties"] is False
    assert schema["components"]["schemas"]["RawProfile"]["properties"]["input_size"]["maximum"] == 10_000_000
    assert "HTTPValidationError" not in schema["components"]["schemas"]


def _enum(parameter_or_property: dict) -> list:
    schema = parameter_or_property.get("schema", parameter_or_property)
    for option in [schema, *schema.get("anyOf", [])]:
        items = option.get("items", option)
        if "enum" in items:
            return items["enum"]
    raise AssertionError(f"no enum in {parameter_or_property}")


def test_method_choices_are_enums_from_the_registry():
    """Issue 15, item 29: the method parameters are enums in OpenAPI, read from the registry."""
    schema = client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    assert _enum(components["NamedRequest"]["properties"]["method"]) == list(traitement.methods.names("estimate"))
    assert _enum(components["RawRequest"]["properties"]["method"]) == list(traitement.methods.names("raw"))
    validate = {p["name"]: p for p in schema["paths"]["/validate"]["post"]["parameters"]}
    assert _enum(validate["method"]) == list(traitement.methods.names("validate"))
    batch = {p["name"]: p for p in schema["paths"]["/batch"]["post"]["parameters"]}
    assert _enum(batch["method"]) == [traitement.logs.AUTO, *traitement.methods.names("batch")]  # auto: by the row's model
    assert _enum(batch["format"]) == list(traitement.logs.FORMATS)
    assert set(_enum(batch["group_by"])) == set(traitement.logs.GROUP_BY)


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", "application/vnd.api+json", "text/plain", None])
def test_content_types_as_fastapi_reads_them(content_type):
    """JSON media types are read; another content type, or none, is refused 415 naming the content type (issue 15, item 23)."""
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/calculate-raw", content=json.dumps(SEED).encode(), headers=headers)
    if content_type in (None, "text/plain"):
        assert response.status_code == 415 and response.json()["code"] == "unsupported-media-type"
        assert response.json()["detail"].startswith("content-type: must be application/json")
        assert "1000" not in response.json()["detail"]  # the body is not echoed back
    else:
        assert response.status_code == 200 and response.json()["input_tokens"] == 1000


# --- estimates from the schemas -----------------------------------------------------------------------------------


def test_estimate_raw_without_defaults_warns_once_each():
    answer = client.post("/calculate-raw", json=SEED).json()
    assert [w.split(":")[0] for w in answer["warnings"]] == ["hardware.eta_gpu not given", "profile.prefill_throughput not given"]
    given = {**SEED, "hardware": {**SEED["hardware"], "eta_gpu": 0.5}, "profile": {**SEED["profile"], "prefill_throughput": 5000}}
    assert client.post("/calculate-raw", json=given).json()["warnings"] == []


def test_preset_overrides_are_checked_in_field_order():
    with pytest.raises(InvalidInputError) as caught:
        traitement.modele_from_config(CONFIG, None, batch_size=0, gpu_utilisation=2)
    assert str(caught.value).startswith("gpu_utilisation: must be <= 1")  # the first field in declaration order
    with pytest.raises(InvalidInputError, match="count"):
        traitement.requete_from_profile(CONFIG, None, 10, 10, 0)


def test_an_override_drops_the_presets_range():
    _, preset = traitement.modele_from_config(CONFIG)
    _, fixed = traitement.modele_from_config(CONFIG, batch_size=8)
    assert "batch_size" in preset.bounds and "batch_size" not in fixed.bounds and fixed.batch_size == 8
