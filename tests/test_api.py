"""The HTTP API in process, through FastAPI's TestClient."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

import api
import interface

client = TestClient(api.app, raise_server_exceptions=False)

SEED_PAYLOAD = {
    "region": {"pue": 1.2, "carbon_intensity": 55},
    "hardware": {"power_gpu": 400, "power_cpu": 100, "eta_cpu": 0.2},
    "profile": {"name": "custom", "input_size": 1000, "output_size": 200, "throughput": 60, "count": 1},
}


def with_(payload: dict, section: str, **values) -> dict:
    return {**payload, section: {**payload[section], **values}}


def test_seed_payload_unchanged_is_accepted():
    response = client.post("/calculate-raw", json=SEED_PAYLOAD)
    assert response.status_code == 200
    body = response.json()
    assert body["method"] == "hardware"
    assert len(body["warnings"]) == 2  # eta_gpu and prefill_throughput taken from the default preset


def test_issue_check_values():
    payload = with_(with_(SEED_PAYLOAD, "hardware", eta_gpu=0.5, n_gpu=1), "profile", prefill_throughput=6000, batch_size=1)
    body = client.post("/calculate-raw", json=payload).json()
    assert body["prefill_s"] == pytest.approx(1 / 6, rel=1e-9)
    assert body["decode_s"] == pytest.approx(10 / 3, rel=1e-9)
    assert body["energy_kwh"] == pytest.approx(2.5666666666666667e-4, rel=1e-9)
    assert body["carbon_gco2eq"] == pytest.approx(0.014116666666666667, rel=1e-9)
    assert body["warnings"] == []


def test_calculate_matches_cli(capsys):
    body = client.post("/calculate", json={"input_tokens": 2000, "output_tokens": 500, "region": "usa"}).json()
    assert interface.main(["--in_tok", "2000", "--out_tok", "500", "--region", "usa", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == body


def test_calculate_by_names():
    body = client.post("/calculate", json={"region": "FRA", "hardware": "A100", "profile": "translation", "count": 10}).json()
    assert body["region"] == "FRA" and body["count"] == 10
    assert body["assumptions"]["hardware"] == "a100"


@pytest.mark.parametrize("path", ["/regions", "/hardware", "/profiles", "/health", "/docs", "/openapi.json"])
def test_get_routes(path):
    assert client.get(path).status_code == 200


@pytest.mark.parametrize(
    ("path", "payload", "status", "expected"),
    [
        ("/calculate-raw", with_(SEED_PAYLOAD, "profile", input_size=-1), 422, "profile.input_size"),
        ("/calculate-raw", with_(SEED_PAYLOAD, "profile", input_size=0), 422, "profile.input_size"),
        ("/calculate-raw", with_(SEED_PAYLOAD, "profile", output_size=2.5), 422, "profile.output_size"),
        ("/calculate-raw", with_(SEED_PAYLOAD, "profile", output_size=10**12), 422, "profile.output_size"),
        ("/calculate-raw", with_(SEED_PAYLOAD, "profile", count="many"), 422, "profile.count"),
        ("/calculate-raw", with_(SEED_PAYLOAD, "region", pue=0.5), 422, "region.pue"),
        ("/calculate-raw", with_(SEED_PAYLOAD, "hardware", power_gpu=None), 422, "hardware.power_gpu"),
        ("/calculate-raw", with_(SEED_PAYLOAD, "hardware", colour="red"), 422, "hardware.colour"),
        ("/calculate-raw", {"region": SEED_PAYLOAD["region"]}, 422, "hardware"),
        ("/calculate-raw", [], 422, "body: must be a mapping of field names to values"),
        ("/calculate", {"region": "mars"}, 404, "unknown region 'mars'"),
        ("/calculate", {"hardware": "tpu"}, 404, "unknown hardware 'tpu'"),
        ("/calculate", {"profile": "poem"}, 404, "unknown profile 'poem'"),
        ("/calculate", {"input_tokens": -3}, 422, "input_tokens"),
        ("/calculate", {"input_tokens": True}, 422, "input_tokens"),
        ("/calculate", {"count": 0}, 422, "count"),
        ("/calculate", {"method": "magic"}, 422, "method"),
    ],
)
def test_bad_input_is_4xx_naming_the_field(path, payload, status, expected):
    response = client.post(path, json=payload)
    assert response.status_code == status
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail
    assert expected in detail


@pytest.mark.parametrize("body", [b"{bad json", b"", b'{"pue": NaN}', b"\xff\xfe"])
def test_malformed_bodies_are_422(body):
    response = client.post("/calculate", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "Traceback" not in response.text


def test_same_words_as_cli(capsys):
    detail = client.post("/calculate", json={"input_tokens": -5}).json()["detail"]
    interface.main(["--in_tok", "-5"])
    err = capsys.readouterr().err
    assert detail.split(": ", 1)[1] in err.replace("'-5'", "-5")
