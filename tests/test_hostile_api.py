"""Hostile requests to the API (besides the request logs): query strings and bodies found by the hardening sweep.

* an unknown query parameter was silently ignored (``/equivalences?energy_kwhh=5``
  answered as if no figure were given, ``/validation?method_=x`` with all methods);
  it is now a 422 naming it and the route's parameters. The pages (``/``, which keeps
  the calculator's state in its query, ``/method``) and the docs take any.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

import api

client = TestClient(api.app, raise_server_exceptions=False)


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("/equivalences?energy_kwhh=5", "energy_kwhh: unknown field (got '5'); allowed: one of carbon_gco2eq, energy_kwh"),
        ("/regions?serch=paris", "serch: unknown field (got 'paris'); allowed: one of country, kind, provider, search"),
        ("/validation?methods=parameter", "methods: unknown field (got 'parameter'); allowed: one of cases, cross_validate, method"),
        ("/sources?x=1", "x: unknown field (got '1'); allowed: no query parameter on this path"),
        ("/health?%00=1", "'\\x00': unknown field (got '1'); allowed: no query parameter on this path"),
        ("/health?a%0Ab=1", "'a\\nb': unknown field (got '1'); allowed: no query parameter on this path"),
        ("/regions?=1", "'': unknown field (got '1'); allowed: one of country, kind, provider, search"),
    ],
)
def test_an_unknown_query_parameter_is_422_naming_it(path, detail) -> None:
    answer = client.get(path)
    assert answer.status_code == 422, answer.text
    assert answer.json() == {"detail": detail, "code": "unknown-parameter"}


def test_an_unknown_query_parameter_of_an_upload_route_is_422() -> None:
    upload = {"file": ("a.yaml", b"genai: {chatbots: [], completions: [], translations: []}")}
    answer = client.post("/analytics?regoin=france", files=upload)
    assert answer.status_code == 422 and answer.json()["code"] == "unknown-parameter"


def test_head_gets_the_same_refusal() -> None:
    assert client.head("/equivalences?energy_kwhh=5").status_code == 422


@pytest.mark.parametrize("path", ["/?region=france&input_tokens=2000", "/method?tab=validation", "/docs?x=1", "/static/app.js?v=2"])
def test_pages_and_docs_take_any_query(path) -> None:
    assert client.get(path).status_code == 200


def test_known_parameters_still_answer() -> None:
    answer = client.get("/equivalences?energy_kwh=2")
    assert answer.status_code == 200 and answer.json()
    assert client.get("/validation?cases=published&method=parameter&method=ecologits").status_code == 200


# --- multipart uploads: one field, file, once ------------------------------------------------------------------------

SMALL = b"genai:\n  chatbots: [{date: 2025-01-06, count: 5}]\n  completions: []\n  translations: []\n"


@pytest.mark.parametrize("route", ["/analytics", "/validate"])
def test_a_second_file_is_refused_not_silently_dropped(route) -> None:
    answer = client.post(route, files=[("file", ("a.yaml", SMALL)), ("file", ("b.yaml", SMALL))])
    assert answer.status_code == 422
    assert answer.json() == {"detail": "file: given 2 times in the form; allowed: one file per request", "code": "repeated-form-field"}


@pytest.mark.parametrize(("route", "field"), [("/analytics", "region"), ("/validate", "method"), ("/analytics", "file2")])
def test_an_option_sent_in_the_form_is_refused_not_ignored(route, field) -> None:
    answer = client.post(route, files=[("file", ("a.yaml", SMALL))], data={field: "france"})
    assert answer.status_code == 422
    assert answer.json() == {
        "detail": f"{field}: unknown form field; allowed: one field, file (the options go in the query: ?region=...)",
        "code": "unknown-form-field",
    }


def test_one_file_with_its_options_in_the_query_still_answers() -> None:
    answer = client.post("/analytics?region=france", files=[("file", ("a.yaml", SMALL))])
    assert answer.status_code == 200 and answer.json()["assumptions"]["region"] == "FRA"


def test_a_boolean_query_parameter_is_worded() -> None:
    answer = client.get("/validation?cross_validate=maybe")
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("cross_validate: must be true or false (got 'maybe'); allowed: also refit")
