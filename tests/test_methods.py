"""The registry of methods: each declared once, and every interface reads its names from it."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

import api
import interface
import traitement
from traitement import methods


def test_every_method_is_declared_once_with_what_its_figures_cover():
    assert list(methods.REGISTRY) == ["hardware", "model-aware", "ecologits", "parameter", "seed-quadratic", "measured"]
    for name, method in methods.REGISTRY.items():
        assert method.name == name and method.description and method.covers and method.interfaces
        assert all(key.endswith(("_kwh", "_gco2eq", "_l")) for key in method.covers), name


@pytest.mark.parametrize(
    ("interface_name", "names"),
    [
        ("estimate", ("hardware", "model-aware", "parameter", "seed-quadratic")),
        ("raw", ("hardware", "seed-quadratic")),
        ("batch", ("hardware", "seed-quadratic")),
        ("validate", ("model-aware", "ecologits", "parameter", "seed-quadratic")),
        ("measure", ("measured",)),
    ],
)
def test_names_offered_by_each_interface(interface_name, names):
    assert methods.names(interface_name) == names


def test_an_unknown_method_names_the_allowed_ones():
    with pytest.raises(traitement.InvalidInputError, match="method: unknown method 'magic'; allowed: hardware, seed-quadratic") as caught:
        methods.get("magic", "batch")
    assert caught.value.code == "unknown-method"
    with pytest.raises(ValueError, match="unknown interface"):
        methods.names("fax")


def test_footprint_runs_only_the_methods_with_a_time_model():
    config = traitement.load_config()
    _, modele = traitement.modele_from_config(config)
    site = traitement.site_from_config(config)
    with pytest.raises(traitement.InvalidInputError, match="'parameter' does not run on a serving setup; allowed: hardware, model-aware, seed-quadratic"):
        traitement.footprint(10, 10, 1, modele, site, "parameter")


def test_an_answer_covers_what_its_method_declares(capsys):
    for argv, name in ((["--in_tok", "10", "--out_tok", "10"], "hardware"), (["--method", "seed-quadratic", "--out_tok", "10"], "seed-quadratic")):
        assert interface.main([*argv, "--json"]) == 0
        answer = json.loads(capsys.readouterr().out)
        assert answer["covers"] == dict(methods.get(name).covers)
        assert set(answer["covers"]) <= set(answer)


def test_the_cli_and_the_api_list_the_registry(capsys):
    assert interface.main(["methods", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed == TestClient(api.app).get("/methods").json() == methods.describe()
    assert list(listed) == list(methods.REGISTRY)
