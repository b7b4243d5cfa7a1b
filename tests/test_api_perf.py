"""The fast paths of the estimate routes give the same records and answers as the validated ones.

``Record.trusted`` skips the checks of values already validated by the pydantic
model generated from the same specs; presets are built once per config;
``estimate_raw`` builds its value objects without checking again. These tests
show each shortcut is sound: the specs it relies on are as strict as the ones it
skips, and the results equal those of the full path.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import api
import traitement
from traitement.errors import InvalidInputError
from traitement.fields import Record

client = TestClient(api.app)
CONFIG = traitement.load_config()
SEED = {
    "region": {"pue": 1.2, "carbon_intensity": 55},
    "hardware": {"power_gpu": 400, "power_cpu": 100, "eta_cpu": 0.2},
    "profile": {"name": "test", "input_size": 1000, "output_size": 200, "throughput": 60, "count": 1},
}

def test_trusted_equals_from_dict_with_the_same_types() -> None:
    validated = traitement.RawRequest.from_dict(SEED)
    trusted = traitement.RawRequest.trusted(api.RawRequestBody.model_validate_json(json.dumps(SEED)).model_dump(exclude_unset=True))
    assert trusted == validated
    assert repr(trusted) == repr(validated)  # 400 and 400.0 are equal; their types must be too (the JSON answer shows them)


_NUMBERS = st.one_of(st.integers(-10, 10**8), st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0, 0.5, 1, 1.0, 2.5, 1e7]))
_VALUES = st.one_of(_NUMBERS, st.none(), st.booleans(), st.text(max_size=5), st.sampled_from(["2000", "custom", "seed-quadratic"]))


_SECTIONS = st.sampled_from(["region", "hardware", "profile", None])
_KEYS = st.text(min_size=1, max_size=20) | st.sampled_from(
    ["pue", "carbon_intensity", "wue_site_l_per_kwh", "name", "power_gpu", "eta_gpu", "n_gpu", "input_size", "count", "throughput",
     "prefill_throughput", "batch_size", "method", "bounds"])


def _seed_with(section: str | None, key: str, value) -> str | None:
    """The seed body as JSON text with one key set (in a section, or at the top); None when JSON cannot hold the value."""
    body = json.loads(json.dumps(SEED))
    (body[section] if section else body)[key] = value
    try:
        return json.dumps(body, allow_nan=True)
    except ValueError:
        return None


@settings(max_examples=300, deadline=None)
@given(section=_SECTIONS, key=_KEYS, value=_VALUES)
def test_pydantic_accepts_only_what_the_record_accepts(section, key, value) -> None:
    """The API validates with pydantic then trusts: whatever pydantic accepts, from_dict accepts, to the same record."""
    text = _seed_with(section, key, value)
    try:
        model = api.RawRequestBody.model_validate_json(text or "")
    except ValidationError:
        return
    trusted = traitement.RawRequest.trusted(model.model_dump(exclude_unset=True))
    assert repr(trusted) == repr(traitement.RawRequest.from_dict(json.loads(text)))


@settings(max_examples=400, deadline=None)
@given(section=_SECTIONS, key=_KEYS, value=_VALUES | st.dictionaries(st.sampled_from(["pue", "x"]), _NUMBERS, max_size=2))
def test_fast_validator_accepts_only_what_the_model_accepts(section, key, value) -> None:
    """read_json_body's fast path (strict, into dicts) must give the model's dump or refuse; the model then decides."""
    text = _seed_with(section, key, value)
    try:
        fast = api.RawRequestJson.validate_json(text or "")
    except ValidationError:
        return
    model = api.RawRequestBody.model_validate_json(text).model_dump(exclude_unset=True)  # raises if the model refuses it
    assert repr(fast) == repr(model)


@pytest.mark.parametrize(
    ("body", "fast_takes_it"),
    [
        (SEED, True),
        ({**SEED, "profile": {**SEED["profile"], "input_size": 1000.0}}, False),  # an integer written 1000.0: the model's lax mode
        ({**SEED, "profile": {**SEED["profile"], "input_size": "1000"}}, False),  # a number as text: the model's lax mode
        ({**SEED, "region": {**SEED["region"], "pue": True}}, False),  # refused by both, worded by the core
    ],
)
def test_bodies_the_fast_path_refuses_get_the_models_answer(body, fast_takes_it) -> None:
    text = json.dumps(body)
    try:
        api.RawRequestJson.validate_json(text)
        taken = True
    except ValidationError:
        taken = False
    assert taken is fast_takes_it
    answer = client.post("/calculate-raw", content=text, headers={"content-type": "application/json"})
    if body["region"]["pue"] is True:
        assert answer.status_code == 422 and answer.json()["detail"].startswith("region.pue: a boolean is not allowed")
    else:
        assert answer.status_code == 200 and answer.json()["input_tokens"] == 1000


def test_fast_validators_cover_the_named_request_too() -> None:
    named = {"input_tokens": 2000, "output_tokens": 500, "region": "usa", "hardware": "default"}
    text = json.dumps(named)
    assert api.NamedRequestJson.validate_json(text) == api.NamedRequestBody.model_validate_json(text).model_dump(exclude_unset=True)
    with pytest.raises(ValidationError):
        api.NamedRequestJson.validate_json(json.dumps({**named, "colour": "red"}))  # unknown keys refused, as the model does


def test_cached_presets_reject_bad_overrides_in_the_same_words() -> None:
    with pytest.raises(InvalidInputError) as fast:
        traitement.modele_from_config(CONFIG, None, batch_size=0, gpu_utilisation=2)
    assert str(fast.value).startswith("gpu_utilisation: must be <= 1")  # the first field in declaration order
    with pytest.raises(InvalidInputError, match="count"):
        traitement.requete_from_profile(CONFIG, None, 10, 10, 0)


def test_estimate_raw_without_defaults_warns_once_each() -> None:
    answer = client.post("/calculate-raw", json=SEED).json()
    assert [w.split(":")[0] for w in answer["warnings"]] == ["hardware.eta_gpu not given", "profile.prefill_throughput not given"]
    given = {**SEED, "hardware": {**SEED["hardware"], "eta_gpu": 0.5}, "profile": {**SEED["profile"], "prefill_throughput": 5000}}
    assert client.post("/calculate-raw", json=given).json()["warnings"] == []


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", "application/vnd.api+json", "text/plain", None])
def test_content_types_are_treated_as_before(content_type) -> None:
    """As FastAPI's body parameter: JSON media types are read, others are refused 422 naming the body."""
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/calculate-raw", content=json.dumps(SEED).encode(), headers=headers)
    if content_type in (None, "text/plain"):
        assert response.status_code == 422 and response.json()["detail"].startswith("body: must be an object")
    else:
        assert response.status_code == 200 and response.json()["input_tokens"] == 1000


def test_body_schema_is_documented_for_both_routes() -> None:
    schema = client.get("/openapi.json").json()
    for path, name in (("/calculate", "NamedRequest"), ("/calculate-raw", "RawRequest")):
        body = schema["paths"][path]["post"]["requestBody"]
        assert body["required"] is True and body["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{name}"}
        assert schema["components"]["schemas"][name]["additionalProperties"] is False
    assert schema["components"]["schemas"]["RawProfile"]["properties"]["input_size"]["maximum"] == 10_000_000


def test_records_are_still_records() -> None:
    assert isinstance(traitement.RawRequest.trusted({"region": {"pue": 1, "carbon_intensity": 0}, "hardware": {"power_gpu": 1},
                                                      "profile": {"input_size": 1, "output_size": 1, "throughput": 1}}).region, Record)
