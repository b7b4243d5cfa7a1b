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
from traitement.core import Estimate, Modele, Requete, Site, footprint
from traitement.errors import InvalidInputError
from traitement.fields import Record

client = TestClient(api.app)
CONFIG = traitement.load_config()
SEED = {
    "region": {"pue": 1.2, "carbon_intensity": 55},
    "hardware": {"power_gpu": 400, "power_cpu": 100, "eta_cpu": 0.2},
    "profile": {"name": "test", "input_size": 1000, "output_size": 200, "throughput": 60, "count": 1},
}

# estimate_raw: value object field <- (request section, field); the request's spec must be at least as strict.
RAW_TO_VALUE_OBJECTS = {
    (Modele, "n_gpu"): ("hardware", "n_gpu"),
    (Modele, "gpu_power_w"): ("hardware", "power_gpu"),
    (Modele, "gpu_utilisation"): ("hardware", "eta_gpu"),
    (Modele, "cpu_power_w"): ("hardware", "power_cpu"),
    (Modele, "cpu_utilisation"): ("hardware", "eta_cpu"),
    (Modele, "prefill_tokens_per_s"): ("profile", "prefill_throughput"),
    (Modele, "decode_tokens_per_s"): ("profile", "throughput"),
    (Modele, "batch_size"): ("profile", "batch_size"),
    (Site, "region"): ("region", "name"),
    (Site, "carbon_intensity_gco2eq_per_kwh"): ("region", "carbon_intensity"),
    (Site, "pue"): ("region", "pue"),
    (Site, "wue_site_l_per_kwh"): ("region", "wue_site_l_per_kwh"),
    (Site, "wue_offsite_l_per_kwh"): ("region", "wue_offsite_l_per_kwh"),
    (Requete, "input_tokens"): ("profile", "input_size"),
    (Requete, "output_tokens"): ("profile", "output_size"),
    (Requete, "count"): ("profile", "count"),
}


def _lower(spec) -> tuple[float, bool]:
    """(bound, strict) of a spec's lower end; (-inf, False) when none."""
    if spec.gt is not None:
        return spec.gt, True
    return (spec.ge, False) if spec.ge is not None else (float("-inf"), False)


@pytest.mark.parametrize(("target", "source"), list(RAW_TO_VALUE_OBJECTS.items()), ids=lambda x: ".".join(x) if isinstance(x[0], str) else x[1])
def test_raw_request_specs_are_as_strict_as_the_value_objects(target, source) -> None:
    """estimate_raw trusts a validated RawRequest: each of its specs must allow nothing the value object's forbids."""
    (value_object, name), (section, field) = target, source
    wanted = value_object.model_fields[name].spec
    section_record = traitement.RawRequest.model_fields[section].record
    given_spec = section_record.model_fields[field].spec
    assert given_spec.kind is wanted.kind
    (low, strict), (wanted_low, wanted_strict) = _lower(given_spec), _lower(wanted)
    assert low > wanted_low or (low == wanted_low and (strict or not wanted_strict))
    assert (wanted.le is None) or (given_spec.le is not None and given_spec.le <= wanted.le)
    assert wanted.max_length is None or (given_spec.max_length is not None and given_spec.max_length <= wanted.max_length)
    assert wanted.choices is None and wanted.pattern is None


def test_estimate_fields_are_the_footprint_and_the_request() -> None:
    """estimate() fills Estimate's fields from footprint()'s keys: they must match exactly."""
    _, modele = traitement.modele_from_config(CONFIG)
    keys = set(footprint(100, 10, 1, modele, traitement.site_from_config(CONFIG)))
    fields = set(Estimate.__dataclass_fields__)
    assert keys | {"method", "count", "input_tokens", "output_tokens", "low", "high", "assumptions", "warnings"} == fields


def test_trusted_equals_from_dict_with_the_same_types() -> None:
    validated = traitement.RawRequest.from_dict(SEED)
    trusted = traitement.RawRequest.trusted(api.RawRequestBody.model_validate_json(json.dumps(SEED)).model_dump(exclude_unset=True))
    assert trusted == validated
    assert repr(trusted) == repr(validated)  # 400 and 400.0 are equal; their types must be too (the JSON answer shows them)


def test_trusted_runs_the_checks_across_fields() -> None:
    with pytest.raises(InvalidInputError, match="bounds.pue"):
        Site.trusted({"carbon_intensity_gco2eq_per_kwh": 50.0, "pue": 1.2, "bounds": {"pue": (1.3, 1.5)}})
    with pytest.raises(TypeError, match="unknown field 'colour'"):
        Site.trusted({"carbon_intensity_gco2eq_per_kwh": 50.0, "colour": "red"})
    with pytest.raises(TypeError, match="missing field"):
        Site.trusted({})


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


@pytest.mark.parametrize(
    "overrides",
    [{}, {"batch_size": 8}, {"gpu_utilisation": 0.3}, {"batch_size": 2.0, "gpu_utilisation": 1}],
)
def test_cached_presets_equal_a_fresh_build(overrides) -> None:
    from traitement.presets import _modele

    name, setup = CONFIG.hardware()
    _, cached = traitement.modele_from_config(CONFIG, None, **overrides)
    assert repr(cached) == repr(_modele(CONFIG, setup, dict(overrides)))
    assert traitement.modele_from_config(CONFIG)[1].bounds, "the preset keeps its ranges"


def test_cached_presets_reject_bad_overrides_in_the_same_words() -> None:
    with pytest.raises(InvalidInputError) as fast:
        traitement.modele_from_config(CONFIG, None, batch_size=0, gpu_utilisation=2)
    assert str(fast.value).startswith("gpu_utilisation: must be <= 1")  # field order, as Modele.create
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
