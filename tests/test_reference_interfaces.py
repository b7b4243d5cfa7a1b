"""Issue 13's "done when": the data pack through the CLI and the API, with its version and each figure's source year."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

import api
import interface

client = TestClient(api.app)
VERSION = "2026.12"

# (CLI arguments, the same request for POST /calculate, what the answer must hold)
DONE_WHEN = [
    (["--region", "ESP"], {"region": "ESP"}, {"region": "ESP", "carbon_intensity_gco2eq_per_kwh": 174.05, "carbon_intensity_year": 2023}),
    (["--region", "brazil"], {"region": "brazil"}, {"region": "BRA", "carbon_intensity_year": 2023}),
    (["--region", "US-CA"], {"region": "US-CA"}, {"region": "US-CA", "carbon_intensity_source": "egrid-2023-via-codecarbon", "carbon_intensity_year": 2023}),
    (["--region", "aws:us-east-1"], {"region": "aws:us-east-1"}, {"region": "aws:us-east-1", "datacenter": "aws", "location": "US-VA", "pue": 1.15}),
    (
        ["--region", "gcp:europe-west9"],
        {"region": "gcp:europe-west9"},
        {"datacenter": "google", "carbon_intensity_gco2eq_per_kwh": 16.3, "carbon_intensity_year": 2024},
    ),
    (["--region", "azure:westeurope"], {"region": "azure:westeurope"}, {"datacenter": "microsoft", "location": "NLD", "carbon_intensity_year": 2024}),
    (
        ["--model", "gpt-4o-2024-08-06", "--out_tok", "400"],
        {"model": "gpt-4o-2024-08-06", "output_tokens": 400},
        {"model": "gpt-4o", "model_size_estimate": True},
    ),
    (["--model", "claude-sonnet-4", "--out_tok", "400"], {"model": "claude-sonnet-4", "output_tokens": 400}, {"model": "claude-sonnet-4"}),
    (["--model", "openai/gpt-4o-mini", "--out_tok", "400"], {"model": "openai/gpt-4o-mini", "output_tokens": 400}, {"model": "gpt-4o-mini"}),
    (["--hardware", "a10g"], {"hardware": "a10g"}, {"gpu": "a10g", "model": "llama-3.1-70b", "n_gpu": 8}),
]  # fmt: skip


def _cli(capsys, argv):
    assert interface.main([*argv, "--json"]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(("argv", "body", "expected"), DONE_WHEN, ids=[" ".join(case[0]) for case in DONE_WHEN])
def test_done_when_through_the_cli_and_the_api(capsys, argv, body, expected):
    by_cli = _cli(capsys, argv)
    response = client.post("/calculate", json=body)
    assert response.status_code == 200, response.text
    by_api = response.json()
    assert by_api == by_cli  # one core call behind both
    assumptions = by_cli["assumptions"]
    assert assumptions["data_pack_version"] == VERSION
    for key, value in expected.items():
        found = by_cli[key] if key in ("region", "model") and key in by_cli else assumptions[key]
        assert found == value, key
    if by_cli["method"] == "parameter":
        assert assumptions["model_source"].endswith(")")  # "ecologits-models-0.11.3 (2026)"
    else:
        assert isinstance(assumptions["carbon_intensity_year"], int) and isinstance(assumptions["wue_offsite_year"], int)


def test_a_bare_board_says_how_its_setup_was_derived(capsys):
    result = _cli(capsys, ["--hardware", "mi325x", "--model", "llama-3.3-70b"])
    assumptions = result["assumptions"]
    assert assumptions["gpu"] == "mi325x" and assumptions["n_gpu"] == 1  # 70.6 B x 2 bytes x 1.2 fits in 256 GB
    assert assumptions["gpu_source"] == "AMD Instinct MI325X product page (2024)"
    assert "a bare board" in assumptions["hardware"]
    assert any("embodied carbon of the mi325x boards not counted" in warning for warning in result["warnings"])


def test_the_world_average_water_is_a_warning(capsys):
    aruba = _cli(capsys, ["--region", "Aruba"])
    assert aruba["assumptions"]["wue_offsite_l_per_kwh"] == 3.91
    assert any("world average 3.91 L/kWh stands in for Aruba (ABW)" in warning for warning in aruba["warnings"])
    france = _cli(capsys, ["--region", "France"])
    assert not any("world average" in warning for warning in france["warnings"])


def test_a_given_datacenter_wins_over_the_cloud_providers(capsys):
    result = _cli(capsys, ["--region", "aws:us-east-1", "--datacenter", "google"])
    assert result["assumptions"]["datacenter"] == "google" and result["assumptions"]["datacenter_from"] == "given"


@pytest.mark.parametrize(
    ("argv", "body", "status", "words"),
    [
        (["--region", ""], {"region": ""}, 422, "must not be empty"),
        (["--region", "spian"], {"region": "spian"}, 404, "unknown region 'spian'; closest: Spain (ESP)"),
        (["--region", "US-ZZ"], {"region": "US-ZZ"}, 404, "unknown ISO 3166-2 subdivision 'US-ZZ'"),
        (["--region", "aws:"], {"region": "aws:"}, 422, "is not a cloud region"),
        (["--region", "12"], {"region": "12"}, 422, "is a number"),
        (["--model", "gtp-4o", "--out_tok", "400"], {"model": "gtp-4o", "output_tokens": 400}, 404, "unknown model 'gtp-4o'; closest: gpt-4o"),
        (["--model", ""], {"model": ""}, 422, "must not be empty"),
        (["--hardware", "h1000"], {"hardware": "h1000"}, 404, "unknown hardware 'h1000'"),
        (["--hardware", ""], {"hardware": ""}, 422, "must not be empty"),
    ],
)
def test_bad_names_are_one_line_exit_2_and_4xx(capsys, argv, body, status, words):
    assert interface.main(argv) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1 and err.startswith(f"interface.py: error: {argv[0]} (")
    response = client.post("/calculate", json=body)
    assert response.status_code == status and words in response.json()["detail"]


def test_lists_filter_and_sources(capsys):
    assert interface.main(["regions", "--provider", "aws", "--json"]) == 0
    regions = json.loads(capsys.readouterr().out)
    assert regions["data_pack_version"] == VERSION and regions["count"] == len(regions["regions"]) >= 30
    assert all(ident.startswith("aws:") for ident in regions["regions"])
    assert client.get("/regions", params={"provider": "aws"}).json() == regions
    assert interface.main(["regions", "--country", "canada", "--kind", "subdivision"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Regions of data pack 2026.12: 13 ") and "CA-QC" in out and "Quebec" in out
    assert interface.main(["models", "sonnet", "--provider", "anthropic", "--json"]) == 0
    models = json.loads(capsys.readouterr().out)
    assert "claude-sonnet-4" in models["models"] and {m["provider"] for m in models["models"].values()} == {"anthropic"}
    assert interface.main(["sources", "--json"]) == 0
    sources = json.loads(capsys.readouterr().out)
    assert sources == client.get("/sources").json()
    assert sources["sources"]["ember-2024"]["licence"] == "CC-BY-4.0" and sources["sources"]["ember-2024"]["year"] == 2024
    assert interface.main(["regions", "--provider", "ovh"]) == 2
    assert "provider: unknown cloud provider 'ovh'" in capsys.readouterr().err
    assert client.get("/regions", params={"provider": "ovh"}).status_code == 422
    assert client.get("/regions", params={"country": "atlantis"}).status_code == 404
