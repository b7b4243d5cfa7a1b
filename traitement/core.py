"""Value objects (``Modele``, ``Requete``, ``Site``) and the estimate of one kind of request.

``Modele`` is the serving setup, ``Requete`` the request (tokens and how many),
``Site`` where it runs (grid and datacentre). :func:`estimate` applies a method
to them and returns an :class:`Estimate` with the central value and a low/high
range from the inputs' ranges.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from . import methods, physics
from .base import INTEGER, NUMBER, Frozen, check_against
from .errors import InvalidInputError

MAX_TOKENS = 10_000_000
"""Largest token count accepted for one request (the longest context windows are 1 to 10 million)."""
MIN_TOKENS_PER_S = 0.01
"""Slowest speed accepted, in tokens/s (one token in 100 s, far below any CPU inference); speeds divide
token counts, so a speed near zero would overflow the result to infinity (found by fuzzing the API)."""
MAX_PREFILL_TOKENS_PER_S = 1e7
"""Fastest prompt reading speed accepted, in tokens/s (``Modele.prefill_tokens_per_s``)."""
MIN_PARAMS_B = 0.1
"""Smallest model size accepted, in billions of parameters (``active_params_b``, ``total_params_b``)."""
MAX_PARAMS_B = 100_000
"""Largest model size accepted, in billions of parameters (100 trillion)."""
MAX_COUNT = 10**13
"""Largest number of requests accepted in one estimate (about 1,000 years of 300 requests per second)."""

DEFAULT_METHOD = methods.hardware.NAME
"""The method of an estimate when none is named."""

# Inputs whose growth lowers the energy: the low estimate takes their maximum.
_LOWERS_ENERGY = frozenset({"prefill_tokens_per_s", "decode_tokens_per_s", "batch_size", "lifetime_years"})


Bounds = dict[str, tuple[Annotated[float, NUMBER], Annotated[float, NUMBER]]]
"""``{field: (min, max)}``: the range of each uncertain field of a value object."""
_BOUNDS_DESCRIPTION = "(min, max) of uncertain fields, by field name; each range holds the field's value and obeys the field's own bounds"

# The constrained number types shared by the value objects and the request schemas (traitement/schemas.py).
TokenCount = Annotated[int, Field(ge=1, le=MAX_TOKENS), INTEGER]
TokenPart = Annotated[int, Field(ge=0, le=MAX_TOKENS), INTEGER]
"""A part of a token count (cached input, reasoning output): 0 or more."""
RequestCount = Annotated[int, Field(ge=1, le=MAX_COUNT), INTEGER]
GpuCount = Annotated[int, Field(ge=1, le=1024), INTEGER]
Fraction = Annotated[float, Field(ge=0, le=1), NUMBER]
BoardPowerW = Annotated[float, Field(gt=0, le=5000), NUMBER]
HostPowerW = Annotated[float, Field(ge=0, le=5000), NUMBER]
PrefillSpeed = Annotated[float, Field(ge=MIN_TOKENS_PER_S, le=MAX_PREFILL_TOKENS_PER_S), NUMBER]
DecodeSpeed = Annotated[float, Field(ge=MIN_TOKENS_PER_S, le=1e6), NUMBER]
BatchSize = Annotated[float, Field(ge=1, le=100_000), NUMBER]
Pue = Annotated[float, Field(ge=1, le=3), NUMBER]
IntensityGPerKwh = Annotated[float, Field(ge=0, le=2000), NUMBER]
WueSiteLPerKwh = Annotated[float, Field(ge=0, le=20), NUMBER]
WueOffsiteLPerKwh = Annotated[float, Field(ge=0, le=50), NUMBER]
GpuEmbodiedKg = Annotated[float, Field(ge=0, le=1e5), NUMBER]
ServerEmbodiedKg = Annotated[float, Field(ge=0, le=1e6), NUMBER]
LifetimeYears = Annotated[float, Field(ge=0.1, le=30), NUMBER]


def not_blank(value: str) -> str:
    """A name is never empty nor only spaces: it would silently stand for the default (issue 15, item 13)."""
    if not value.strip():
        raise ValueError("must not be empty or blank")
    return value


Label = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(not_blank)]
"""A name (region, datacentre, hardware, profile, model) or a label for the record: 1 to 64 characters, not all spaces."""


B = TypeVar("B", bound="_Bounded")


class _Bounded(Frozen):
    """A value object whose uncertain fields carry a (min, max) range in ``bounds`` (its last field)."""

    if TYPE_CHECKING:  # each subclass declares it last, after the fields it bounds (its check reads them)
        bounds: Bounds

    @field_validator("bounds", check_fields=False)
    @classmethod
    def _ranges_hold_their_values(cls, bounds: Bounds, info: ValidationInfo) -> Bounds:
        """Each range names a field, holds its value and obeys the field's own bounds (a speed's minimum is never 0)."""
        if not bounds:  # exact values: nothing to check
            return bounds
        fields = cls.model_fields
        for name, (low, high) in bounds.items():
            if name == "bounds" or name not in fields:
                raise ValueError(f"{name}: unknown field; allowed: one of {', '.join(n for n in fields if n != 'bounds')}")
            value = info.data.get(name)
            if value is None:  # the field itself was refused: its own error says why
                continue
            if not low <= value <= high:
                raise ValueError(f"{name}: need min <= value <= max, got {low:g} <= {value:g} <= {high:g}")
            for end, bound in (("min", low), ("max", high)):
                problem = check_against(fields[name], bound)
                if problem is not None:
                    raise ValueError(f"{name}: the range's {end} {problem}, as the field itself (got {bound:g})")
        return bounds

    def at(self: B, side: Literal["low", "high"]) -> B:
        """A copy with each uncertain field at the bound that gives the lowest (or highest) energy."""
        if not self.bounds:
            return self
        update = {}
        for name, (low, high) in self.bounds.items():
            lowers = name in _LOWERS_ENERGY
            update[name] = high if (side == "low") == lowers else low
        return self.model_copy(update=update)


CACHED_DESCRIPTION = "input tokens read from the KV cache (prompt caching) instead of recomputed, an integer from 0 to input_tokens (they are part of it)"
REASONING_DESCRIPTION = "output tokens spent reasoning before the answer, an integer from 0 to output_tokens (they are part of it)"


def part_of(value: int, total: int | None, name: str, what: str) -> int:
    """``value`` when it is at most ``total`` (a subset of it), else a one-line error naming ``name``."""
    if total is not None and value > total:
        raise ValueError(f"must be at most {name} ({total:,}): {what}")
    return value


class Requete(_Bounded):
    """A request: tokens in (of which some cached), tokens out (of which some reasoning), and how many such requests."""

    input_tokens: TokenCount = Field(description=f"prompt length in tokens, an integer from 1 to {MAX_TOKENS:,}")
    output_tokens: TokenCount = Field(description=f"answer length in tokens, an integer from 1 to {MAX_TOKENS:,}")
    count: RequestCount = Field(1, description=f"number of such requests, an integer from 1 to {MAX_COUNT:,}")
    cached_input_tokens: TokenPart = Field(0, description=CACHED_DESCRIPTION)
    reasoning_tokens: TokenPart = Field(0, description=REASONING_DESCRIPTION)
    bounds: Bounds = Field(default_factory=dict, description=_BOUNDS_DESCRIPTION)

    @field_validator("cached_input_tokens")
    @classmethod
    def _cached_within_input(cls, value: int, info: ValidationInfo) -> int:
        return part_of(value, info.data.get("input_tokens"), "input_tokens", "the cached tokens are part of the prompt")

    @field_validator("reasoning_tokens")
    @classmethod
    def _reasoning_within_output(cls, value: int, info: ValidationInfo) -> int:
        return part_of(value, info.data.get("output_tokens"), "output_tokens", "the reasoning tokens are part of the output")

    @model_validator(mode="after")
    def _parts_within_ranges(self) -> Requete:
        """A ranged token count keeps its part within it at both ends (the low estimate takes the low end)."""
        for total, part in (("input_tokens", self.cached_input_tokens), ("output_tokens", self.reasoning_tokens)):
            low = self.bounds.get(total, (part, part))[0]
            if part > low:
                raise ValueError(f"{total}: its range's min ({low:g}) is below its part ({part:,}); give {total} exactly")
        return self


class Modele(_Bounded):
    """The serving setup: GPUs and their power, host CPU, throughputs and batch."""

    gpu_power_w: BoardPowerW = Field(description="board power of one GPU in watts, > 0 and <= 5000")
    gpu_utilisation: Fraction = Field(description="mean GPU power draw as a fraction of board power, from 0 to 1")
    prefill_tokens_per_s: PrefillSpeed = Field(description="prompt reading speed of one request in tokens/s, from 0.01 to 10,000,000")
    decode_tokens_per_s: DecodeSpeed = Field(description="generation speed of one request in tokens/s, from 0.01 to 1,000,000")
    n_gpu: GpuCount = Field(1, description="number of GPUs serving the model, an integer from 1 to 1024")
    cpu_power_w: HostPowerW = Field(0.0, description="host CPU power in watts, from 0 to 5000")
    cpu_utilisation: Fraction = Field(0.0, description="mean CPU power draw as a fraction of its power, from 0 to 1")
    batch_size: BatchSize = Field(1.0, description="requests served at once (mean running batch), from 1 to 100,000")
    gpu_embodied_kgco2eq: GpuEmbodiedKg = Field(0.0, description="manufacturing emissions of one GPU in kgCO2e, from 0 to 100,000")
    server_embodied_kgco2eq: ServerEmbodiedKg = Field(0.0, description="manufacturing emissions of the server without GPUs in kgCO2e, from 0 to 1,000,000")
    lifetime_years: LifetimeYears = Field(4.0, description="hardware lifetime in years, from 0.1 to 30")
    bounds: Bounds = Field(default_factory=dict, description=_BOUNDS_DESCRIPTION)


class Site(_Bounded):
    """Where the request runs: grid carbon intensity, PUE and water factors."""

    carbon_intensity_gco2eq_per_kwh: IntensityGPerKwh = Field(description="grid carbon intensity in gCO2e/kWh, from 0 to 2000")
    region: Label = Field("custom", description="region name, for the record")
    datacenter: Label = Field("custom", description="datacentre preset name, for the record")
    pue: Pue = Field(1.0, description="power usage effectiveness (facility / IT energy), from 1 to 3")
    wue_site_l_per_kwh: WueSiteLPerKwh = Field(0.0, description="on-site water in litres per kWh of IT energy, from 0 to 20")
    wue_offsite_l_per_kwh: WueOffsiteLPerKwh = Field(0.0, description="off-site water of electricity generation in litres per kWh, from 0 to 50")
    bounds: Bounds = Field(default_factory=dict, description=_BOUNDS_DESCRIPTION)


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
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0
    reasoning_energy_kwh: float = 0.0
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Blocks of some methods' answers (``deployment``, ``parameter_method``), added to ``to_dict`` as they are."""

    RANGED: ClassVar[tuple[str, ...]] = ("energy_gpu_kwh", "energy_it_kwh", "energy_kwh", "carbon_gco2eq", "water_l", "carbon_embodied_gco2eq")

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape shared by the CLI's ``--json`` and the API."""
        out: dict[str, Any] = {
            "method": self.method,
            "region": self.assumptions.get("region"),
            "count": self.count,
            "input_tokens": self.input_tokens,
            "cached_input_tokens": self.cached_input_tokens,
            "output_tokens": self.output_tokens,
            "reasoning_tokens": self.reasoning_tokens,
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
        out.update(reasoning_share(self.reasoning_energy_kwh, self.energy_kwh))
        out["per_request"] = per_request(self.count, self.energy_kwh, self.carbon_gco2eq, water_l=self.water_l)
        out["covers"] = dict(methods.get(self.method).covers)
        out["assumptions"] = dict(self.assumptions)
        out["warnings"] = list(self.warnings)
        out.update(self.extra)
        return out


def reasoning_share(reasoning_energy_kwh: float, energy_kwh: float) -> dict[str, float]:
    """``reasoning_energy_kwh`` and its share of the energy (0 when there is none)."""
    return {"reasoning_energy_kwh": reasoning_energy_kwh, "reasoning_energy_share": reasoning_energy_kwh / energy_kwh if energy_kwh > 0 else 0.0}


def add_ranges(out: dict[str, Any], names: tuple[str, ...], low: Mapping[str, float], high: Mapping[str, float]) -> None:
    """Add ``<name>_min`` and ``<name>_max`` to a result dict, for each ranged quantity."""
    for name in names:
        out[f"{name}_min"] = low[name]
        out[f"{name}_max"] = high[name]


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
    method: str = DEFAULT_METHOD,
) -> dict[str, Any]:
    """The formulas of DESIGN.md section 2 over scalars or numpy columns, with ``method``'s time model.

    Returns per-request ``prefill_s``, ``decode_s``, ``duration_s`` and totals
    over ``count`` for every energy, carbon and water quantity. Token and count
    arguments may be floats or arrays; the setup and site are scalars.
    """
    times = methods.get(method).times
    if times is None:
        allowed = ", ".join(name for name, entry in methods.REGISTRY.items() if entry.times is not None)
        raise InvalidInputError(f"method: {method!r} does not run on a serving setup; allowed: {allowed}", code="unknown-method")
    prefill_s, decode_s, duration_s, batch_size = times(input_tokens, output_tokens, modele)
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


def estimate(
    requete: Requete,
    modele: Modele,
    site: Site,
    method: str = DEFAULT_METHOD,
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
    warnings = [*notes, *methods.get(method).warnings]
    reasoning_kwh = physics.reasoning_energy_kwh(
        central["energy_kwh"], central["decode_s"], central["duration_s"], requete.reasoning_tokens, requete.output_tokens
    )
    recorded: dict[str, Any] = {"region": site.region, "datacenter": site.datacenter}
    recorded.update(site.model_dump(exclude={"bounds", "region", "datacenter"}))
    recorded.update(modele.model_dump(exclude={"bounds"}))
    if assumptions:
        recorded.update(assumptions)
    return Estimate(
        method=method,
        count=requete.count,
        input_tokens=requete.input_tokens,
        output_tokens=requete.output_tokens,
        **central,
        low=sides["low"],
        high=sides["high"],
        assumptions=recorded,
        warnings=tuple(warnings),
        cached_input_tokens=requete.cached_input_tokens,
        reasoning_tokens=requete.reasoning_tokens,
        reasoning_energy_kwh=float(reasoning_kwh),
    )
