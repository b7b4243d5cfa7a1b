"""Value objects (``Modele``, ``Requete``, ``Site``) and the estimate of one kind of request.

``Modele`` is the serving setup, ``Requete`` the request (tokens and how many),
``Site`` where it runs (grid and datacentre). :func:`estimate` applies a method
to them and returns an :class:`Estimate` with the central value and a low/high
range from the inputs' ranges.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from . import physics
from .errors import InvalidInputError
from .fields import Record, custom, record, scalar

MAX_TOKENS = 10_000_000
"""Largest token count accepted for one request (the longest context windows are 1 to 10 million)."""
MIN_TOKENS_PER_S = 0.01
"""Slowest speed accepted, in tokens/s (one token in 100 s, far below any CPU inference); speeds divide
token counts, so a speed near zero would overflow the result to infinity (found by fuzzing the API)."""
MAX_COUNT = 10**13
"""Largest number of requests accepted in one estimate (about 1,000 years of 300 requests per second)."""

HARDWARE_METHOD = "hardware"
SEED_QUADRATIC_METHOD = "seed-quadratic"
METHODS = (HARDWARE_METHOD, SEED_QUADRATIC_METHOD)


# Inputs whose growth lowers the energy: the low estimate takes their maximum.
_LOWERS_ENERGY = frozenset({"prefill_tokens_per_s", "decode_tokens_per_s", "batch_size", "lifetime_years"})

COVERS = {
    "energy_gpu_kwh": "GPU boards only",
    "energy_cpu_kwh": "host CPUs only",
    "energy_it_kwh": "server IT energy: GPUs + host CPUs",
    "energy_kwh": "facility: server IT energy x PUE (cooling, power conversion)",
    "carbon_gco2eq": "scope 2, location-based: facility energy x grid intensity; usage only",
    "carbon_embodied_gco2eq": "scope 3: share of the GPUs' and server's manufacturing; NOT included in carbon_gco2eq",
    "water_l": "on-site cooling water (x IT energy) + off-site water of electricity generation (x facility energy)",
}


def _parse_bounds(where: str, value: Any) -> dict[str, tuple[float, float]]:
    """``{field: (min, max)}`` with finite numbers."""
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"{where}: must be a mapping of field names to (min, max)")
    out = {}
    for name, pair in value.items():
        try:
            low, high = (float(x) for x in pair)
        except (TypeError, ValueError):
            raise InvalidInputError(f"{where}.{name}: must be a (min, max) pair of numbers (got {pair!r})") from None
        out[str(name)] = (low, high)
    return out


def _bounds_field() -> Any:
    return custom(_parse_bounds, "(min, max) of uncertain fields, by field name; each range must hold the field's value", dict)


class _Bounded(Record):
    """A record whose uncertain fields carry a (min, max) range in ``bounds``."""

    bounds: dict[str, tuple[float, float]]

    def __post_init__(self) -> None:
        if not self.bounds:
            return
        for name, (low, high) in self.bounds.items():
            if name == "bounds" or name not in type(self).model_fields:
                raise ValueError(f"bounds: unknown field {name!r}")
            value = getattr(self, name)
            if not low <= value <= high:
                raise ValueError(f"bounds.{name}: need min <= value <= max, got {low} <= {value} <= {high}")

    def at(self, side: Literal["low", "high"]) -> Any:
        """A copy with each uncertain field at the bound that gives the lowest (or highest) energy."""
        if not self.bounds:
            return self
        update = {}
        for name, (low, high) in self.bounds.items():
            lowers = name in _LOWERS_ENERGY
            update[name] = high if (side == "low") == lowers else low
        return self.model_copy(update=update)


@record
class Requete(_Bounded):
    """A request: tokens in, tokens out, and how many such requests."""

    input_tokens: int = scalar(int, f"prompt length in tokens, an integer from 1 to {MAX_TOKENS:,}", ge=1, le=MAX_TOKENS)
    output_tokens: int = scalar(int, f"answer length in tokens, an integer from 1 to {MAX_TOKENS:,}", ge=1, le=MAX_TOKENS)
    count: int = scalar(int, f"number of such requests, an integer from 1 to {MAX_COUNT:,}", 1, ge=1, le=MAX_COUNT)
    bounds: dict[str, tuple[float, float]] = _bounds_field()


@record
class Modele(_Bounded):
    """The serving setup: GPUs and their power, host CPU, throughputs and batch."""

    gpu_power_w: float = scalar(float, "board power of one GPU in watts, > 0 and <= 5000", gt=0, le=5000)
    gpu_utilisation: float = scalar(float, "mean GPU power draw as a fraction of board power, from 0 to 1", ge=0, le=1)
    prefill_tokens_per_s: float = scalar(
        float, "prompt reading speed of one request in tokens/s, from 0.01 to 10,000,000", ge=MIN_TOKENS_PER_S, le=1e7
    )
    decode_tokens_per_s: float = scalar(float, "generation speed of one request in tokens/s, from 0.01 to 1,000,000", ge=MIN_TOKENS_PER_S, le=1e6)
    n_gpu: int = scalar(int, "number of GPUs serving the model, an integer from 1 to 1024", 1, ge=1, le=1024)
    cpu_power_w: float = scalar(float, "host CPU power in watts, from 0 to 5000", 0.0, ge=0, le=5000)
    cpu_utilisation: float = scalar(float, "mean CPU power draw as a fraction of its power, from 0 to 1", 0.0, ge=0, le=1)
    batch_size: float = scalar(float, "requests served at once (mean running batch), from 1 to 100,000", 1.0, ge=1, le=100_000)
    gpu_embodied_kgco2eq: float = scalar(float, "manufacturing emissions of one GPU in kgCO2e, from 0 to 100,000", 0.0, ge=0, le=1e5)
    server_embodied_kgco2eq: float = scalar(float, "manufacturing emissions of the server without GPUs in kgCO2e, from 0 to 1,000,000", 0.0, ge=0, le=1e6)
    lifetime_years: float = scalar(float, "hardware lifetime in years, from 0.1 to 30", 4.0, ge=0.1, le=30)
    bounds: dict[str, tuple[float, float]] = _bounds_field()


@record
class Site(_Bounded):
    """Where the request runs: grid carbon intensity, PUE and water factors."""

    carbon_intensity_gco2eq_per_kwh: float = scalar(float, "grid carbon intensity in gCO2e/kWh, from 0 to 2000", ge=0, le=2000)
    region: str = scalar(str, "region name, for the record", "custom", max_length=64)
    datacenter: str = scalar(str, "datacentre preset name, for the record", "custom", max_length=64)
    pue: float = scalar(float, "power usage effectiveness (facility / IT energy), from 1 to 3", 1.0, ge=1, le=3)
    wue_site_l_per_kwh: float = scalar(float, "on-site water in litres per kWh of IT energy, from 0 to 20", 0.0, ge=0, le=20)
    wue_offsite_l_per_kwh: float = scalar(float, "off-site water of electricity generation in litres per kWh, from 0 to 50", 0.0, ge=0, le=50)
    bounds: dict[str, tuple[float, float]] = _bounds_field()


@dataclass(frozen=True)
class Estimate:
    """The footprint of ``count`` identical requests: per-request times, totals, ranges."""

    method: str
    count: int
    input_tokens: int
    output_tokens: int
    prefill_s: float
    decode_s: float
    duration_s: float
    energy_gpu_kwh: float
    energy_cpu_kwh: float
    energy_it_kwh: float
    energy_kwh: float
    carbon_gco2eq: float
    water_l: float
    carbon_embodied_gco2eq: float
    low: Mapping[str, float]
    high: Mapping[str, float]
    assumptions: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    RANGED = ("energy_kwh", "carbon_gco2eq", "water_l", "carbon_embodied_gco2eq")

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape shared by the CLI's ``--json`` and the API."""
        out: dict[str, Any] = {
            "method": self.method,
            "region": self.assumptions.get("region"),
            "count": self.count,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "prefill_s": self.prefill_s,
            "decode_s": self.decode_s,
            "duration_s": self.duration_s,
            "energy_gpu_kwh": self.energy_gpu_kwh,
            "energy_cpu_kwh": self.energy_cpu_kwh,
            "energy_it_kwh": self.energy_it_kwh,
            "energy_kwh": self.energy_kwh,
            "carbon_gco2eq": self.carbon_gco2eq,
            "water_l": self.water_l,
            "carbon_embodied_gco2eq": self.carbon_embodied_gco2eq,
        }
        add_ranges(out, self.RANGED, self.low, self.high)
        out["per_request"] = per_request(self.count, self.energy_kwh, self.carbon_gco2eq, water_l=self.water_l)
        out["covers"] = dict(COVERS)
        out["assumptions"] = dict(self.assumptions)
        out["warnings"] = list(self.warnings)
        return out


def add_ranges(out: dict[str, Any], names: tuple[str, ...], low: Mapping[str, float], high: Mapping[str, float]) -> None:
    """Add ``<name>_min`` and ``<name>_max`` to a result dict, for each ranged quantity."""
    keys = _RANGE_KEYS.get(names)
    if keys is None:
        keys = _RANGE_KEYS[names] = tuple((name, f"{name}_min", f"{name}_max") for name in names)
    for name, low_key, high_key in keys:
        out[low_key] = low[name]
        out[high_key] = high[name]


_RANGE_KEYS: dict[tuple[str, ...], tuple[tuple[str, str, str], ...]] = {}


def per_request(count: int, energy_kwh: float, carbon_gco2eq: float, **totals: float) -> dict[str, float]:
    """Totals over ``count`` requests divided per request (energy also in Wh), for the ``per_request`` key."""
    out = {"energy_kwh": energy_kwh / count, "energy_wh": energy_kwh / count * physics.WH_PER_KWH, "carbon_gco2eq": carbon_gco2eq / count}
    out.update({name: value / count for name, value in totals.items()})
    return out


def footprint(
    input_tokens: Any,
    output_tokens: Any,
    count: Any,
    modele: Modele,
    site: Site,
    method: str = HARDWARE_METHOD,
) -> dict[str, Any]:
    """The formulas of DESIGN.md section 2 over scalars or numpy columns.

    Returns per-request ``prefill_s``, ``decode_s``, ``duration_s`` and totals
    over ``count`` for every energy, carbon and water quantity. Token and count
    arguments may be floats or arrays; the setup and site are scalars.
    """
    if method == SEED_QUADRATIC_METHOD:
        # The seed's formula: one throughput for both phases, no batch sharing.
        prefill_s = input_tokens * input_tokens / modele.decode_tokens_per_s
        decode_s = physics.decode_duration_s(output_tokens, modele.decode_tokens_per_s)
        duration_s = physics.seed_quadratic_duration_s(input_tokens, output_tokens, modele.decode_tokens_per_s)
        batch_size = 1.0
    elif method == HARDWARE_METHOD:
        prefill_s = physics.prefill_duration_s(input_tokens, modele.prefill_tokens_per_s)
        decode_s = physics.decode_duration_s(output_tokens, modele.decode_tokens_per_s)
        duration_s = prefill_s + decode_s
        batch_size = modele.batch_size
    else:
        raise InvalidInputError(f"method: unknown method {method!r}; allowed: {', '.join(METHODS)}", code="unknown-method")
    gpu_w = physics.gpu_power_w(modele.n_gpu, modele.gpu_power_w, modele.gpu_utilisation)
    cpu_w = physics.cpu_power_w(modele.cpu_power_w, modele.cpu_utilisation)
    busy_s = duration_s * count
    energy_gpu_kwh = physics.request_energy_kwh(gpu_w, busy_s, batch_size)
    energy_cpu_kwh = physics.request_energy_kwh(cpu_w, busy_s, batch_size)
    energy_it_kwh = energy_gpu_kwh + energy_cpu_kwh
    energy_kwh = physics.facility_energy_kwh(energy_it_kwh, site.pue)
    return {
        "prefill_s": prefill_s,
        "decode_s": decode_s,
        "duration_s": duration_s,
        "energy_gpu_kwh": energy_gpu_kwh,
        "energy_cpu_kwh": energy_cpu_kwh,
        "energy_it_kwh": energy_it_kwh,
        "energy_kwh": energy_kwh,
        "carbon_gco2eq": physics.carbon_gco2eq(energy_kwh, site.carbon_intensity_gco2eq_per_kwh),
        "water_l": physics.water_l(energy_it_kwh, energy_kwh, site.wue_site_l_per_kwh, site.wue_offsite_l_per_kwh),
        "carbon_embodied_gco2eq": physics.embodied_gco2eq(
            modele.n_gpu,
            modele.gpu_embodied_kgco2eq,
            modele.server_embodied_kgco2eq,
            busy_s,
            batch_size,
            modele.lifetime_years,
        ),
    }


_SITE_SKIPPED = frozenset({"bounds", "region", "datacenter"})
_MODELE_SKIPPED = frozenset({"bounds"})
_NAMES: dict[tuple[type, frozenset[str]], tuple[str, ...]] = {}


def _values(value_object: Record, skipped: frozenset[str]) -> dict[str, Any]:
    """The scalar fields of ``value_object`` but ``skipped``, in field order (``model_dump`` without its per-call overhead)."""
    key = (type(value_object), skipped)
    names = _NAMES.get(key)
    if names is None:
        names = _NAMES[key] = tuple(name for name in type(value_object).model_fields if name not in skipped)
    state = value_object.__dict__
    return {name: state[name] for name in names}


def estimate(
    requete: Requete,
    modele: Modele,
    site: Site,
    method: str = HARDWARE_METHOD,
    assumptions: Mapping[str, Any] | None = None,
    notes: tuple[str, ...] = (),
) -> Estimate:
    """Footprint of ``requete.count`` requests, with low and high values from the inputs' ranges."""
    central = footprint(requete.input_tokens, requete.output_tokens, requete.count, modele, site, method)
    if requete.bounds or modele.bounds or site.bounds:
        sides = {}
        for side in ("low", "high"):
            bounded = requete.at(side)
            values = footprint(bounded.input_tokens, bounded.output_tokens, bounded.count, modele.at(side), site.at(side), method)
            sides[side] = {name: values[name] for name in Estimate.RANGED}
    else:  # exact inputs: the range is the central value (one read-only mapping for both ends)
        exact = {name: central[name] for name in Estimate.RANGED}
        sides = {"low": exact, "high": exact}
    warnings = list(notes)
    if method == SEED_QUADRATIC_METHOD:
        warnings.append(
            "seed-quadratic is the seed README's legacy formula (Input^2 + Output) / throughput: "
            "it is dimensionally wrong and overstates time and energy by orders of magnitude; "
            "use it only to reproduce the seed's numbers"
        )
    recorded = {"region": site.region, "datacenter": site.datacenter}
    recorded.update(_values(site, _SITE_SKIPPED))
    recorded.update(_values(modele, _MODELE_SKIPPED))
    if assumptions:
        recorded.update(assumptions)
    # Estimate's fields written straight into its state: the frozen dataclass's __init__ costs a setattr call per field.
    result = object.__new__(Estimate)
    state = result.__dict__
    state["method"] = method
    state["count"] = requete.count
    state["input_tokens"] = requete.input_tokens
    state["output_tokens"] = requete.output_tokens
    state.update(central)
    state["low"] = sides["low"]
    state["high"] = sides["high"]
    state["assumptions"] = recorded
    state["warnings"] = tuple(warnings)
    return result
