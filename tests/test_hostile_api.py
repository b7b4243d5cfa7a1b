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
