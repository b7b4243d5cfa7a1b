"""The core formulas: hand-computed cases, the seed's figures, invariants."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

import traitement
from traitement import physics
from traitement.core import Modele, Requete, Site, estimate, footprint


def _modele(**overrides):
    values = dict(
        n_gpu=1,
        gpu_power_w=400.0,
        gpu_utilisation=0.5,
        cpu_power_w=100.0,
        cpu_utilisation=0.2,
        prefill_tokens_per_s=6000.0,
        decode_tokens_per_s=60.0,
        batch_size=1.0,
    )
    values.update(overrides)
    return Modele(**values)


def _site(**overrides):
    values = dict(carbon_intensity_gco2eq_per_kwh=55.0, pue=1.2)
    values.update(overrides)
    return Site(**values)


# Hand-computed cases of the hardware method (DESIGN.md section 2):
#   prefill_s = in / prefill, decode_s = out / decode, P = n*Pgpu*u + Pcpu*v,
#   E_it = P * (prefill_s + decode_s) / batch / 3.6e6, E = E_it * PUE, C = E * I.
HARDWARE_CASES = [
    pytest.param(
        dict(input_tokens=1000, output_tokens=200),
        {},
        {},
        dict(prefill_s=1 / 6, decode_s=10 / 3, energy_it_kwh=220 * 3.5 / 3.6e6, energy_kwh=220 * 3.5 * 1.2 / 3.6e6, carbon_gco2eq=220 * 3.5 * 1.2 * 55 / 3.6e6),
        id="issue-check-1000-in-200-out",
    ),
    pytest.param(
        dict(input_tokens=2000, output_tokens=500),
        dict(
            n_gpu=4,
            gpu_power_w=700.0,
            gpu_utilisation=0.6,
            cpu_power_w=350.0,
            cpu_utilisation=0.3,
            prefill_tokens_per_s=5000.0,
            decode_tokens_per_s=40.0,
            batch_size=32.0,
        ),
        dict(carbon_intensity_gco2eq_per_kwh=383.6, pue=1.57),
        # P = 4*700*0.6 + 350*0.3 = 1785 W; T = 0.4 + 12.5 = 12.9 s; E_it = 1785*12.9/32/3.6e6
        dict(
            prefill_s=0.4,
            decode_s=12.5,
            energy_it_kwh=1785 * 12.9 / 32 / 3.6e6,
            energy_kwh=1785 * 12.9 / 32 / 3.6e6 * 1.57,
            carbon_gco2eq=1785 * 12.9 / 32 / 3.6e6 * 1.57 * 383.6,
        ),
        id="seed-example-h100-usa",
    ),
    pytest.param(
        dict(input_tokens=100, output_tokens=100, count=10),
        dict(gpu_utilisation=1.0, cpu_power_w=0.0, prefill_tokens_per_s=100.0, decode_tokens_per_s=10.0, batch_size=2.0),
        dict(carbon_intensity_gco2eq_per_kwh=100.0, pue=1.0),
        # P = 400 W; T = 1 + 10 = 11 s; E_it = 10 * 400 * 11 / 2 / 3.6e6
        dict(
            prefill_s=1.0,
            decode_s=10.0,
            energy_it_kwh=10 * 400 * 11 / 2 / 3.6e6,
            energy_kwh=10 * 400 * 11 / 2 / 3.6e6,
            carbon_gco2eq=10 * 400 * 11 / 2 / 3.6e6 * 100,
        ),
        id="ten-requests-batch-2",
    ),
]


@pytest.mark.parametrize(("request_values", "modele_values", "site_values", "expected"), HARDWARE_CASES)
def test_hardware_method_hand_computed(request_values, modele_values, site_values, expected):
    result = estimate(Requete(**request_values), _modele(**modele_values), _site(**site_values))
    for name, value in expected.items():
        assert getattr(result, name) == pytest.approx(value, rel=1e-9), name


def test_seed_quadratic_reproduces_the_seed_time():
    # Seed test: 300 tokens in, 50 out at 1 token/s gives 90,050 s with (300^2 + 50) / 1.
    assert physics.seed_quadratic_duration_s(300, 50, 1.0) == pytest.approx(90_050, rel=1e-9)
    result = estimate(Requete(input_tokens=300, output_tokens=50), _modele(decode_tokens_per_s=1.0), _site(), "seed-quadratic")
    assert result.duration_s == pytest.approx(90_050, rel=1e-9)
    assert result.method == "seed-quadratic"
    assert any("legacy" in warning for warning in result.warnings)


def test_seed_quadratic_reproduces_the_seed_energy_and_carbon():
    # Seed test: 100 W for 3,600 s at PUE 1.5 and 100 g/kWh gives 0.15 kWh and 15 g.
    energy_it = physics.request_energy_kwh(100.0, 3600.0)
    energy = physics.facility_energy_kwh(energy_it, 1.5)
    assert energy == pytest.approx(0.15, rel=1e-9)
    assert physics.carbon_gco2eq(energy, 100.0) == pytest.approx(15.0, rel=1e-9)
    # The same through the method: 60 tokens out at 1 token/s... (0^2 is not allowed: 1 in) -> (1 + 3599) s at 100 W.
    result = estimate(
        Requete(input_tokens=1, output_tokens=3599),
        _modele(gpu_power_w=100.0, gpu_utilisation=1.0, cpu_power_w=0.0, decode_tokens_per_s=1.0),
        _site(pue=1.5, carbon_intensity_gco2eq_per_kwh=100.0),
        "seed-quadratic",
    )
    assert result.duration_s == pytest.approx(3600.0, rel=1e-9)
    assert result.carbon_gco2eq == pytest.approx(15.0, rel=1e-9)


def test_seed_example_is_physically_plausible_by_default():
    """The seed's CLI example must land between 0.01 and 2 Wh (published chat replies: 0.24 to 0.34 Wh)."""
    config = traitement.load_config()
    request = traitement.parse(traitement.NamedRequest, {"input_tokens": 2000, "output_tokens": 500, "region": "usa"})
    energy_wh = traitement.estimate_named(config, request).energy_kwh * 1000
    assert 0.01 <= energy_wh <= 2.0
    legacy = traitement.estimate_named(config, traitement.NamedRequest(input_tokens=2000, output_tokens=500, region="usa", method="seed-quadratic"))
    assert legacy.energy_kwh * 1000 / energy_wh > 1000  # the legacy formula is orders of magnitude off


def test_water_splits_site_and_offsite():
    site = _site(wue_site_l_per_kwh=1.8, wue_offsite_l_per_kwh=3.13, pue=1.5)
    result = estimate(Requete(input_tokens=600, output_tokens=60), _modele(), site)
    # T = 0.1 + 1 = 1.1 s at 220 W: E_it = 242 / 3.6e6 kWh; water = E_it*1.8 + E_it*1.5*3.13
    energy_it = 220 * 1.1 / 3.6e6
    assert result.water_l == pytest.approx(energy_it * 1.8 + energy_it * 1.5 * 3.13, rel=1e-9)


def test_embodied_carbon_is_time_share_of_lifetime():
    modele = _modele(gpu_embodied_kgco2eq=164.0, server_embodied_kgco2eq=2850.0, lifetime_years=4.0, n_gpu=4)
    result = estimate(Requete(input_tokens=600, output_tokens=60), modele, _site())
    seconds_4_years = 4 * 365.25 * 86400
    assert result.carbon_embodied_gco2eq == pytest.approx((4 * 164 + 2850) * 1000 * 1.1 / seconds_4_years, rel=1e-9)


# --- invariants ---------------------------------------------------------------


def test_linear_in_count_and_output_tokens():
    modele, site = _modele(prefill_tokens_per_s=1e7), _site()
    one = footprint(10, 100, 1, modele, site)
    assert footprint(10, 100, 7, modele, site)["energy_kwh"] == pytest.approx(7 * one["energy_kwh"], rel=1e-12)
    # decode part is linear in output tokens
    a = footprint(10, 100, 1, modele, site)["energy_kwh"]
    b = footprint(10, 200, 1, modele, site)["energy_kwh"]
    c = footprint(10, 300, 1, modele, site)["energy_kwh"]
    assert c - b == pytest.approx(b - a, rel=1e-9)


@pytest.mark.parametrize(
    ("field", "low", "high", "target"),
    [
        ("gpu_power_w", 300.0, 700.0, "modele"),
        ("gpu_utilisation", 0.3, 0.9, "modele"),
        ("cpu_power_w", 50.0, 500.0, "modele"),
        ("pue", 1.1, 1.8, "site"),
        ("carbon_intensity_gco2eq_per_kwh", 30.0, 700.0, "site"),
    ],
)
def test_monotone_in_power_and_intensity(field, low, high, target):
    request = Requete(input_tokens=1000, output_tokens=100)
    results = []
    for value in (low, high):
        modele = _modele(**({field: value} if target == "modele" else {}))
        site = _site(**({field: value} if target == "site" else {}))
        results.append(estimate(request, modele, site).carbon_gco2eq)
    assert results[0] < results[1]


def test_scalar_equals_vectorised():
    rng = np.random.default_rng(0)
    inputs = rng.integers(1, 20_000, size=1000)
    outputs = rng.integers(1, 2_000, size=1000)
    counts = rng.integers(1, 50, size=1000)
    modele, site = _modele(batch_size=8.0), _site(wue_site_l_per_kwh=0.3, wue_offsite_l_per_kwh=3.0)
    columns = footprint(inputs, outputs, counts, modele, site)
    for i in (0, 17, 999):
        scalar = estimate(Requete(input_tokens=int(inputs[i]), output_tokens=int(outputs[i]), count=int(counts[i])), modele, site)
        for name in ("duration_s", "energy_it_kwh", "energy_kwh", "carbon_gco2eq", "water_l", "carbon_embodied_gco2eq"):
            assert columns[name][i] == pytest.approx(getattr(scalar, name), rel=1e-12), name


def test_range_orders_and_collapses():
    request = Requete(input_tokens=1000, output_tokens=100)
    exact = estimate(request, _modele(), _site())
    for name in exact.RANGED:
        assert exact.low[name] == exact.high[name] == pytest.approx(getattr(exact, name), rel=1e-12)
    uncertain = estimate(
        request,
        _modele(bounds={"gpu_utilisation": (0.3, 0.8), "batch_size": (1.0, 4.0)}),
        _site(bounds={"pue": (1.1, 1.6), "carbon_intensity_gco2eq_per_kwh": (40.0, 80.0)}),
    )
    for name in ("energy_kwh", "carbon_gco2eq"):
        assert uncertain.low[name] < getattr(uncertain, name) < uncertain.high[name]
    # T = 1000/6000 + 100/60 = 11/6 s. low: u=0.3, batch 4, PUE 1.1 -> (400*0.3 + 20) W * T / 4 * 1.1
    assert uncertain.low["energy_kwh"] == pytest.approx(140 * 11 / 6 / 4 * 1.1 / 3.6e6, rel=1e-9)
    # high: u=0.8, batch 1, PUE 1.6, 80 g/kWh -> (320 + 20) W * T * 1.6 * 80
    assert uncertain.high["carbon_gco2eq"] == pytest.approx(340 * 11 / 6 * 1.6 * 80 / 3.6e6, rel=1e-9)


# --- validation of value objects ----------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field"),
    [
        (dict(input_tokens=0, output_tokens=1), "input_tokens"),
        (dict(input_tokens=-5, output_tokens=1), "input_tokens"),
        (dict(input_tokens=1.5, output_tokens=1), "input_tokens"),
        (dict(input_tokens=float("nan"), output_tokens=1), "input_tokens"),
        (dict(input_tokens=10, output_tokens=10**9), "output_tokens"),
        (dict(input_tokens=10, output_tokens=True), "output_tokens"),
        (dict(input_tokens=10, output_tokens=10, count=0), "count"),
        (dict(input_tokens=10), "output_tokens"),
    ],
)
def test_requete_rejects_bad_values_naming_the_field(values, field):
    with pytest.raises(ValidationError):
        Requete(**values)  # at construction, not later
    with pytest.raises(traitement.InvalidInputError) as caught:
        traitement.parse(Requete, values)  # the one-line message the CLI and the API show
    message = str(caught.value)
    assert message.startswith(f"{field}:")
    assert "\n" not in message


def test_value_objects_are_frozen():
    request = Requete(input_tokens=10, output_tokens=10)
    with pytest.raises(ValidationError, match="frozen"):
        request.input_tokens = 20  # type: ignore[misc]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        (dict(gpu_power_w=-1.0), "gpu_power_w"),
        (dict(gpu_utilisation=1.5), "gpu_utilisation"),
        (dict(decode_tokens_per_s=0.0), "decode_tokens_per_s"),
        (dict(batch_size=0.5), "batch_size"),
        (dict(gpu_power_w=float("inf")), "gpu_power_w"),
        (dict(bounds={"gpu_utilisation": (0.6, 0.9)}), "gpu_utilisation"),
    ],
)
def test_modele_rejects_bad_values(values, field):
    with pytest.raises(ValidationError, match=field):
        _modele(**values)


def test_modele_refuses_a_bad_value_at_construction():
    with pytest.raises(ValidationError, match="gpu_power_w"):
        Modele(gpu_power_w=-5, gpu_utilisation=0.5, prefill_tokens_per_s=6000, decode_tokens_per_s=60)


@pytest.mark.parametrize(
    ("target", "bounds", "expected"),
    [
        # issue 15, item 12: a range is validated like the value it bounds
        ("modele", {"gpu_utilisation": (-3.0, 0.5)}, "gpu_utilisation: the range's min must be >= 0, as the field itself (got -3)"),
        ("modele", {"gpu_utilisation": (0.5, 5.0)}, "gpu_utilisation: the range's max must be <= 1, as the field itself (got 5)"),
        ("modele", {"decode_tokens_per_s": (0.0, 80.0)}, "decode_tokens_per_s: the range's min must be >= 0.01"),
        ("modele", {"batch_size": (0.0, 8.0)}, "batch_size: the range's min must be >= 1"),
        ("modele", {"lifetime_years": (0.0, 4.0)}, "lifetime_years: the range's min must be >= 0.1"),
        ("modele", {"gpu_embodied_kgco2eq": (-10.0, 0.0)}, "gpu_embodied_kgco2eq: the range's min must be >= 0"),
        ("modele", {"colour": (1.0, 2.0)}, "colour: unknown field"),
        ("modele", {"bounds": (1.0, 2.0)}, "bounds: unknown field"),
        ("site", {"pue": (0.5, 1.5)}, "pue: the range's min must be >= 1"),
        ("site", {"pue": (1.3, 1.5)}, "pue: need min <= value <= max, got 1.3 <= 1.2 <= 1.5"),
        ("requete", {"input_tokens": (0.0, 2000.0)}, "input_tokens: the range's min must be >= 1"),
    ],
)
def test_bounds_obey_the_fields_own_constraints(target, bounds, expected):
    build = {"modele": _modele, "site": _site, "requete": lambda **v: Requete(input_tokens=1000, output_tokens=10, **v)}[target]
    with pytest.raises(ValidationError) as caught:
        build(bounds=bounds)
    schema = {"modele": Modele, "site": Site, "requete": Requete}[target]
    message = traitement.errors.format_validation_error(caught.value, schema)
    assert message.startswith("bounds: ") and expected in message, message
    assert "\n" not in message


def test_bounds_at_the_fields_limits_are_accepted():
    modele = _modele(gpu_utilisation=0.5, bounds={"gpu_utilisation": (0.0, 1.0), "decode_tokens_per_s": (0.01, 1e6)})
    assert modele.at("high").gpu_utilisation == 1.0 and modele.at("low").decode_tokens_per_s == 1e6


def test_unknown_method_is_an_error():
    with pytest.raises(traitement.InvalidInputError, match="unknown method"):
        footprint(1, 1, 1, _modele(), _site(), "magic")
