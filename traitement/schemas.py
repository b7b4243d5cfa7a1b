"""Request schemas shared by the CLI and the API, and the calls that serve them.

Both interfaces validate their input with these models, so they reject the
same input with the same words, then make one call: :func:`estimate_named` or
:func:`estimate_raw`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .config import Config
from .core import MAX_COUNT, MAX_TOKENS, METHODS, NOT_BOOL, Estimate, Modele, Requete, Site, estimate
from .errors import InvalidInputError, format_validation_error
from .parameter import PARAMETER_METHOD, ParameterEstimate
from .parameter import estimate_from_config as parameter_estimate
from .presets import modele_from_config, requete_from_profile, site_from_config

_SCHEMA = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, defer_build=True)

RawMethod = Literal["hardware", "seed-quadratic"]
Method = Literal["hardware", "seed-quadratic", "parameter"]
assert set(METHODS) == {"hardware", "seed-quadratic"}

# Fields of the serving setup: meaningless for the parameter method, which knows only the model's size.
_HARDWARE_ONLY = ("hardware", "datacenter", "batch_size", "gpu_utilisation", "pue")

TokenCount = Annotated[int, NOT_BOOL, Field(ge=1, le=MAX_TOKENS)]
RequestCount = Annotated[int, NOT_BOOL, Field(ge=1, le=MAX_COUNT)]


class NamedRequest(BaseModel):
    """An estimate from config names: ``POST /calculate`` and the CLI's estimate."""

    model_config = _SCHEMA
    region: str | None = Field(None, description="region name or ISO 3166 alpha-3 code (see /regions); default from config", max_length=64)
    datacenter: str | None = Field(None, description="datacentre preset (see /regions); default from config", max_length=64)
    hardware: str | None = Field(None, description="hardware preset (see /hardware); default from config", max_length=64)
    profile: str | None = Field(None, description="usage profile (see /profiles) giving the token counts when not set; default from config", max_length=64)
    input_tokens: TokenCount | None = Field(None, description=f"prompt length in tokens, an integer from 1 to {MAX_TOKENS:,}; default from the profile")
    output_tokens: TokenCount | None = Field(None, description=f"answer length in tokens, an integer from 1 to {MAX_TOKENS:,}; default from the profile")
    count: RequestCount = Field(1, description=f"number of such requests, an integer from 1 to {MAX_COUNT:,}")
    method: Method | None = Field(
        None,
        description="'hardware' (power x time), 'parameter' (from the model's size, seed 003) or 'seed-quadratic' (the seed's legacy formula); "
        "default: 'parameter' when model is given without hardware, else 'hardware'",
    )
    model: str | None = Field(None, description="LLM of the catalogue, e.g. mistral-large-2 (see /models); names match case-insensitively", max_length=64)
    mix: Literal["implied", "grid"] = Field(
        "implied",
        description="carbon factor of method 'parameter': 'implied' (scope 3 life cycle, calibrated on Mistral AI's figure) "
        "or 'grid' (scope 2, the region's grid)",
    )
    batch_size: Annotated[float, NOT_BOOL, Field(ge=1, le=100_000)] | None = Field(
        None, description="requests served at once, from 1 to 100,000; default from the hardware preset"
    )
    gpu_utilisation: Annotated[float, NOT_BOOL, Field(ge=0, le=1)] | None = Field(
        None, description="mean GPU draw as a fraction of board power, from 0 to 1; default from the hardware preset"
    )
    pue: Annotated[float, NOT_BOOL, Field(ge=1, le=3)] | None = Field(
        None, description="power usage effectiveness, from 1 to 3; default from the datacentre preset"
    )
    carbon_intensity_gco2eq_per_kwh: Annotated[float, NOT_BOOL, Field(ge=0, le=2000)] | None = Field(
        None, description="grid intensity in gCO2e/kWh, from 0 to 2000; default from the region"
    )


class RawRegion(BaseModel):
    """The seed payload's ``region``: a site given by its numbers."""

    model_config = _SCHEMA
    pue: Annotated[float, NOT_BOOL, Field(ge=1, le=3, description="power usage effectiveness (facility / IT energy), from 1 to 3")]
    carbon_intensity: Annotated[float, NOT_BOOL, Field(ge=0, le=2000, description="grid carbon intensity in gCO2e/kWh, from 0 to 2000")]
    wue_site_l_per_kwh: Annotated[float, NOT_BOOL, Field(ge=0, le=20, description="on-site water in L per kWh of IT energy, from 0 to 20")] = 0.0
    wue_offsite_l_per_kwh: Annotated[float, NOT_BOOL, Field(ge=0, le=50, description="off-site water of electricity in L per kWh, from 0 to 50")] = 0.0
    name: str = Field("custom", max_length=64, description="a label for the record")


class RawHardware(BaseModel):
    """The seed payload's ``hardware``: board powers in watts and utilisations."""

    model_config = _SCHEMA
    power_gpu: Annotated[float, NOT_BOOL, Field(gt=0, le=5000, description="board power of one GPU in watts, > 0 and <= 5000")]
    power_cpu: Annotated[float, NOT_BOOL, Field(ge=0, le=5000, description="host CPU power in watts, from 0 to 5000")] = 0.0
    eta_cpu: Annotated[float, NOT_BOOL, Field(ge=0, le=1, description="mean CPU draw as a fraction of its power, from 0 to 1")] = 0.0
    eta_gpu: (
        Annotated[
            float, NOT_BOOL, Field(ge=0, le=1, description="mean GPU draw as a fraction of board power, from 0 to 1; default from the default hardware preset")
        ]
        | None
    ) = None
    n_gpu: Annotated[int, NOT_BOOL, Field(ge=1, le=1024, description="number of GPUs, an integer from 1 to 1024")] = 1


class RawProfile(BaseModel):
    """The seed payload's ``profile``: token counts and speeds."""

    model_config = _SCHEMA
    name: str = Field("custom", max_length=64, description="a label for the record")
    input_size: Annotated[int, NOT_BOOL, Field(ge=1, le=MAX_TOKENS, description=f"prompt length in tokens, an integer from 1 to {MAX_TOKENS:,}")]
    output_size: Annotated[int, NOT_BOOL, Field(ge=1, le=MAX_TOKENS, description=f"answer length in tokens, an integer from 1 to {MAX_TOKENS:,}")]
    throughput: Annotated[float, NOT_BOOL, Field(gt=0, le=1e6, description="decode speed of one request in tokens/s, > 0 and <= 1,000,000")]
    count: Annotated[int, NOT_BOOL, Field(ge=1, le=MAX_COUNT, description=f"number of such requests, an integer from 1 to {MAX_COUNT:,}")] = 1
    prefill_throughput: (
        Annotated[
            float,
            NOT_BOOL,
            Field(gt=0, le=1e7, description="prompt reading speed in tokens/s, > 0 and <= 10,000,000; default from the default hardware preset"),
        ]
        | None
    ) = None
    batch_size: Annotated[float, NOT_BOOL, Field(ge=1, le=100_000, description="requests served at once, from 1 to 100,000")] = 1.0


class RawRequest(BaseModel):
    """``POST /calculate-raw``: the seed README's payload, plus optional fields."""

    model_config = _SCHEMA
    region: RawRegion
    hardware: RawHardware
    profile: RawProfile
    method: RawMethod = Field("hardware", description="'hardware' (power x time, the default) or 'seed-quadratic' (the seed's legacy formula)")


def parse(schema: type[BaseModel], data: object) -> BaseModel:
    """Validate ``data`` against ``schema``; a bad value raises one-line :class:`InvalidInputError`."""
    try:
        return schema.model_validate(data)
    except ValidationError as error:
        raise InvalidInputError(format_validation_error(error, schema)) from None


def resolved_method(request: NamedRequest) -> str:
    """The method asked for, or by default 'parameter' when a model is given without hardware, else 'hardware'."""
    if request.method is not None:
        return request.method
    return PARAMETER_METHOD if request.model is not None and request.hardware is None else "hardware"


def estimate_named(config: Config, request: NamedRequest) -> Estimate | ParameterEstimate:
    """Estimate from config names, with the request's overrides."""
    method = resolved_method(request)
    if method == PARAMETER_METHOD:
        return _parameter_named(config, request)
    if "mix" in request.model_fields_set:
        raise InvalidInputError(f"mix: used only by method 'parameter', not {method!r}; allowed: remove mix, or give model without hardware")
    hardware, modele = modele_from_config(config, request.hardware, batch_size=request.batch_size, gpu_utilisation=request.gpu_utilisation)
    site = site_from_config(
        config,
        request.region,
        request.datacenter,
        pue=request.pue,
        carbon_intensity_gco2eq_per_kwh=request.carbon_intensity_gco2eq_per_kwh,
    )
    profile, requete = requete_from_profile(config, request.profile, request.input_tokens, request.output_tokens, request.count)
    return estimate(requete, modele, site, method, {"hardware": hardware, "profile": profile})


def _parameter_named(config: Config, request: NamedRequest) -> ParameterEstimate:
    """The parameter method: only the model, the tokens and (for mix 'grid') the region count."""
    if request.model is None:
        raise InvalidInputError("model: required by method 'parameter'; allowed: a model name of the catalogue (GET /models, or the CLI's models command)")
    for name in _HARDWARE_ONLY:
        if getattr(request, name) is not None:
            raise InvalidInputError(f"{name}: not used by method 'parameter' (it knows only the model's size); allowed: remove it, or use method 'hardware'")
    if request.mix == "implied" and request.carbon_intensity_gco2eq_per_kwh is not None:
        raise InvalidInputError("carbon_intensity_gco2eq_per_kwh: not used by the implied mix (a life-cycle factor); allowed: remove it, or set mix 'grid'")
    return parameter_estimate(
        config,
        request.model,
        request.mix,
        request.region,
        request.profile,
        request.input_tokens,
        request.output_tokens,
        request.count,
        request.carbon_intensity_gco2eq_per_kwh,
    )


def estimate_raw(config: Config, request: RawRequest) -> Estimate:
    """Estimate from the seed payload's numbers; missing optional speeds come from the default hardware preset."""
    preset_name, preset = config.hardware()
    warnings = []
    eta_gpu = request.hardware.eta_gpu
    if eta_gpu is None:
        eta_gpu = preset.gpu_utilisation.value
        warnings.append(f"hardware.eta_gpu not given: {eta_gpu} taken from the default hardware preset '{preset_name}'")
    prefill = request.profile.prefill_throughput
    if prefill is None:
        prefill = preset.prefill_tokens_per_s.value
        warnings.append(f"profile.prefill_throughput not given: {prefill} tokens/s taken from the default hardware preset '{preset_name}'")
    modele = Modele.create(
        n_gpu=request.hardware.n_gpu,
        gpu_power_w=request.hardware.power_gpu,
        gpu_utilisation=eta_gpu,
        cpu_power_w=request.hardware.power_cpu,
        cpu_utilisation=request.hardware.eta_cpu,
        prefill_tokens_per_s=prefill,
        decode_tokens_per_s=request.profile.throughput,
        batch_size=request.profile.batch_size,
    )
    site = Site.create(
        region=request.region.name,
        carbon_intensity_gco2eq_per_kwh=request.region.carbon_intensity,
        pue=request.region.pue,
        wue_site_l_per_kwh=request.region.wue_site_l_per_kwh,
        wue_offsite_l_per_kwh=request.region.wue_offsite_l_per_kwh,
    )
    requete = Requete.create(input_tokens=request.profile.input_size, output_tokens=request.profile.output_size, count=request.profile.count)
    return estimate(requete, modele, site, request.method, {"profile": request.profile.name}, tuple(warnings))
