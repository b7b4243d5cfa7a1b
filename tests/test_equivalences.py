"""Everyday equivalences (``config/equivalences.yaml``, ``traitement.equivalences``): pinned by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from traitement.config import ConfigError
from traitement.equivalences import amount, describe_equivalences, equivalences, load_equivalences

TABLE = load_equivalences()


def test_every_factor_has_value_unit_source_and_year() -> None:
    assert list(TABLE.equivalences) == ["car_distance", "smartphone_charges", "household_hours"]
    for factor in TABLE.equivalences.values():
        assert factor.value > 0 and factor.unit and factor.source and factor.url.startswith("https://")
        assert 2015 <= factor.year <= 2026


@pytest.mark.parametrize(
    ("name", "figure", "expected"),
    [
        ("car_distance", 21.76, 0.1),  # 21.76 gCO2e / 217.6 gCO2e per km
        ("car_distance", 1_000_000.0, 1_000_000 / 217.6),  # one tonne: 4,595.6 km
        ("smartphone_charges", 0.019, 1.0),
        ("smartphone_charges", 1.0, 1 / 0.019),  # 52.63 charges per kWh
        ("household_hours", 10_715.0, 8_760.0),  # a year of a US home's electricity is 8,760 hours
        ("household_hours", 1.0, 8_760 / 10_715),  # one kWh: 0.8175 hours (49 minutes)
    ],
)
def test_amount_pinned(name: str, figure: float, expected: float) -> None:
    assert amount(figure, TABLE.equivalences[name]) == pytest.approx(expected, rel=1e-9)


def test_equivalences_of_the_default_estimate() -> None:
    """The default estimate (0.06593 Wh, 0.02529 gCO2e): 0.116 m by car, 3.5 phone charges, 3.2 s of a home."""
    energy_kwh, carbon_gco2eq = 6.592569010416667e-05, 0.025289094723958336
    rows = {row["name"]: row for row in equivalences(TABLE, energy_kwh, carbon_gco2eq)}
    assert rows["car_distance"]["amount"] == pytest.approx(carbon_gco2eq / 217.6, rel=1e-9)
    assert rows["smartphone_charges"]["amount"] == pytest.approx(energy_kwh / 0.019, rel=1e-9)
    assert rows["household_hours"]["amount"] == pytest.approx(energy_kwh / 10_715 * 8_760, rel=1e-9)
    assert rows["car_distance"]["quantity_value"] == carbon_gco2eq
    assert rows["car_distance"]["result_unit"] == "km" and rows["car_distance"]["year"] == 2025


def test_a_figure_left_out_skips_its_equivalences() -> None:
    assert [row["name"] for row in equivalences(TABLE, energy_kwh=1.0)] == ["smartphone_charges", "household_hours"]
    assert [row["name"] for row in equivalences(TABLE, carbon_gco2eq=1.0)] == ["car_distance"]
    assert equivalences(TABLE) == []


def test_linear_and_vectorised() -> None:
    column = np.array([0.0, 1e-6, 0.5, 3.0, 1e9])
    for factor in TABLE.equivalences.values():
        vector = amount(column, factor)
        assert vector == pytest.approx([amount(float(x), factor) for x in column], rel=1e-12)
        assert amount(3.0, factor) == pytest.approx(3 * amount(1.0, factor), rel=1e-12)


def test_describe_lists_every_factor_and_the_note() -> None:
    data = describe_equivalences(TABLE, energy_kwh=0.019)
    assert set(data["factors"]) == set(TABLE.equivalences)
    assert "illustrations" in data["note"]
    assert [row["name"] for row in data["equivalences"]] == ["smartphone_charges", "household_hours"]


def test_a_unit_that_does_not_match_its_quantity_stops_with_the_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "equivalences.yaml").write_text(
        "equivalences:\n  car:\n    label: x\n    quantity: carbon_gco2eq\n    value: 200\n    unit: kWh/km\n"
        "    result_unit: km\n    basis: x\n    source: x\n    url: https://x\n    year: 2024\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"equivalences\.yaml: .*unit: must start with 'gCO2e/'"):
        load_equivalences(tmp_path)


def test_an_unknown_key_stops(tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parent.parent / "config/equivalences.yaml").read_text(encoding="utf-8")
    (tmp_path / "equivalences.yaml").write_text(text.replace("    per: 1\n", "    per: 1\n    colour: red\n", 1), encoding="utf-8")
    with pytest.raises(ConfigError, match="colour"):
        load_equivalences(tmp_path)


# --- GET /equivalences ------------------------------------------------------------------


@pytest.fixture(scope="module")
def client():
    from fastapi.testclient import TestClient

    import api

    return TestClient(api.app)


def test_api_equivalences_pinned(client) -> None:
    data = client.get("/equivalences", params={"energy_kwh": 0.019, "carbon_gco2eq": 21.76}).json()
    amounts = {row["name"]: row["amount"] for row in data["equivalences"]}
    assert amounts == pytest.approx({"car_distance": 0.1, "smartphone_charges": 1.0, "household_hours": 0.019 / 10_715 * 8_760}, rel=1e-9)
    assert data["factors"]["household_hours"]["source"].startswith("US EIA")
    assert client.get("/equivalences").json()["equivalences"] == []


@pytest.mark.parametrize(
    ("query", "start"),
    [
        ("energy_kwh=-1", "energy_kwh: must be >= 0 (got -1); allowed: energy in kWh"),
        ("carbon_gco2eq=abc", "carbon_gco2eq: must be a number (got 'abc')"),
        ("energy_kwh=nan", "energy_kwh: must be a number (got 'nan')"),
        ("energy_kwh=inf", "energy_kwh: must be a number (got 'inf')"),
        ("energy_kwh=1_000", "energy_kwh: must be a number (got '1_000')"),
        ("carbon_gco2eq=2e18", "carbon_gco2eq: must be <= 1e+18"),
    ],
)
def test_api_equivalences_refuses_bad_figures(client, query: str, start: str) -> None:
    response = client.get(f"/equivalences?{query}")
    assert response.status_code == 422
    assert response.json()["detail"].startswith(start)
