"""Hypothesis properties of the core: linearity, monotonicity, scalar = vectorised, min <= central <= max.

Every property is checked on random setups drawn inside the validated ranges of
``Modele``, ``Site`` and ``Requete``, so a counter-example is a real input.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import traitement
from traitement.core import MIN_TOKENS_PER_S

REL = 1e-9
QUANTITIES = ("energy_gpu_kwh", "energy_cpu_kwh", "energy_it_kwh", "energy_kwh", "carbon_gco2eq", "water_l", "carbon_embodied_gco2eq")
METHODS = st.sampled_from(traitement.methods.names("batch"))  # the methods that run on a serving setup
tokens = st.integers(1, 200_000)
counts = st.integers(1, 10**9)


def floats(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)  # a subnormal is refused (issue 15, item 28)


@st.composite
def modeles(draw) -> traitement.Modele:
    return traitement.Modele(
        n_gpu=draw(st.integers(1, 16)),
        gpu_power_w=draw(floats(50, 1500)),
        gpu_utilisation=draw(floats(0.05, 1)),
        cpu_power_w=draw(floats(0, 2000)),
        cpu_utilisation=draw(floats(0, 1)),
        prefill_tokens_per_s=draw(floats(100, 1e6)),
        decode_tokens_per_s=draw(floats(MIN_TOKENS_PER_S, 1e4)),
        batch_size=draw(floats(1, 512)),
        gpu_embodied_kgco2eq=draw(floats(0, 1000)),
        server_embodied_kgco2eq=draw(floats(0, 10_000)),
        lifetime_years=draw(floats(1, 10)),
    )


@st.composite
def sites(draw) -> traitement.Site:
    return traitement.Site(
        carbon_intensity_gco2eq_per_kwh=draw(floats(0, 1200)),
        pue=draw(floats(1, 2.5)),
        wue_site_l_per_kwh=draw(floats(0, 5)),
        wue_offsite_l_per_kwh=draw(floats(0, 10)),
    )


def _close(a: dict, b: dict, scale_b: float = 1.0) -> None:
    for name in QUANTITIES:
        assert a[name] == pytest.approx(b[name] * scale_b, rel=REL, abs=1e-300), name


@settings(max_examples=150, deadline=None)
@given(tokens, tokens, counts, st.integers(2, 1000), modeles(), sites(), METHODS)
def test_linear_in_count(input_tokens, output_tokens, count, factor, modele, site, method) -> None:
    one = traitement.footprint(input_tokens, output_tokens, count, modele, site, method)
    many = traitement.footprint(input_tokens, output_tokens, count * factor, modele, site, method)
    _close(many, one, factor)
    for per_request in ("prefill_s", "decode_s", "duration_s"):
        assert many[per_request] == one[per_request]


@settings(max_examples=150, deadline=None)
@given(tokens, tokens, st.integers(1, 1000), modeles(), sites())
def test_hardware_method_is_linear_in_output_tokens(input_tokens, output_tokens, extra, modele, site) -> None:
    # Energy is affine in output tokens: f(out + k) - f(out) = k x (f(out + 1) - f(out)).
    f = [traitement.footprint(input_tokens, output_tokens + k, 1, modele, site) for k in (0, 1, extra)]
    for name in QUANTITIES:
        step = f[1][name] - f[0][name]
        assert f[2][name] - f[0][name] == pytest.approx(extra * step, rel=1e-6, abs=1e-18), name
    # and the decode time is proportional to the output tokens
    assert f[2]["decode_s"] == pytest.approx(f[0]["decode_s"] * (output_tokens + extra) / output_tokens, rel=REL)


INCREASING = {  # field of Modele or Site: quantities that must not decrease when it grows
    "gpu_power_w": ("energy_gpu_kwh", "energy_kwh", "carbon_gco2eq", "water_l"),
    "gpu_utilisation": ("energy_gpu_kwh", "energy_kwh", "carbon_gco2eq", "water_l"),
    "cpu_utilisation": ("energy_cpu_kwh", "energy_kwh", "carbon_gco2eq", "water_l"),
    "pue": ("energy_kwh", "carbon_gco2eq", "water_l"),
    "carbon_intensity_gco2eq_per_kwh": ("carbon_gco2eq",),
    "wue_site_l_per_kwh": ("water_l",),
    "wue_offsite_l_per_kwh": ("water_l",),
}
DECREASING = {"decode_tokens_per_s": QUANTITIES, "prefill_tokens_per_s": QUANTITIES, "batch_size": QUANTITIES}


@settings(max_examples=200, deadline=None)
@given(tokens, tokens, counts, modeles(), sites(), METHODS, st.sampled_from(sorted({**INCREASING, **DECREASING})), floats(1.0001, 3))
def test_monotone_in_power_utilisation_intensity_pue_and_speed(input_tokens, output_tokens, count, modele, site, method, name, factor) -> None:
    target = modele if name in traitement.Modele.model_fields else site
    bounds = {"gpu_utilisation": 1, "cpu_utilisation": 1, "pue": 3, "gpu_power_w": 5000, "decode_tokens_per_s": 1e6, "prefill_tokens_per_s": 1e7}
    bounds["carbon_intensity_gco2eq_per_kwh"] = 2000
    value = getattr(target, name)
    grown = min(max(value, 0.01) * factor, bounds.get(name, float("inf")))
    changed = target.model_copy(update={name: grown})
    args = (changed, site) if target is modele else (modele, changed)
    before = traitement.footprint(input_tokens, output_tokens, count, modele, site, method)
    after = traitement.footprint(input_tokens, output_tokens, count, *args, method)
    for quantity in INCREASING.get(name, ()):
        assert after[quantity] >= before[quantity] * (1 - REL), quantity
    for quantity in DECREASING.get(name, ()):
        assert after[quantity] <= before[quantity] * (1 + REL), quantity


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(tokens, tokens, counts), min_size=1, max_size=40), modeles(), sites(), METHODS)
def test_scalar_equals_vectorised(rows, modele, site, method) -> None:
    columns = np.array(rows, dtype=np.float64).T
    vectorised = traitement.footprint(columns[0], columns[1], columns[2], modele, site, method)
    for index, (input_tokens, output_tokens, count) in enumerate(rows):
        scalar = traitement.footprint(input_tokens, output_tokens, count, modele, site, method)
        for name, value in scalar.items():
            assert vectorised[name][index] == pytest.approx(value, rel=REL), name


@settings(max_examples=100, deadline=None)
@given(st.data(), METHODS)
def test_range_holds_the_central_value_for_every_preset(data, method) -> None:
    config = traitement.load_config()
    request = traitement.NamedRequest(
        region=data.draw(st.sampled_from(sorted(config.site.defaults.compared_regions))),
        datacenter=data.draw(st.sampled_from(sorted(config.site.datacenters))),
        hardware=data.draw(st.sampled_from(sorted(config.model.hardware))),
        profile=data.draw(st.sampled_from(sorted(config.model.profiles))),
        input_tokens=data.draw(st.none() | tokens),
        output_tokens=data.draw(st.none() | tokens),
        count=data.draw(counts),
        method=method,
    )
    result = traitement.estimate_named(config, request).to_dict()
    for name in traitement.Estimate.RANGED:
        low, central, high = result[f"{name}_min"], result[name], result[f"{name}_max"]
        assert 0 <= low <= central * (1 + REL) and central <= high * (1 + REL), (name, low, central, high)
        assert np.isfinite([low, central, high]).all()
    assert result["per_request"]["energy_kwh"] * result["count"] == pytest.approx(result["energy_kwh"], rel=REL)
