"""Request schemas shared by the CLI and the API, and the calls that serve them.

Both interfaces validate their input with these models, so they reject the
same input with the same words, then make one call: :func:`estimate_named` or
:func:`estimate_raw`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .config import Config
from .core import MAX_COUNT, MAX_TOKENS, METHODS, MIN_TOKENS_PER_S, NOT_BOOL, Estimate, Modele, Requete, Site, estimate
from .errors import InvalidInputError, format_validation_error
from .presets import modele_from_config, requete_from_profile, site_from_config

_SCHEMA = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, defer_build=True)

Method = Literal["hardware", "seed-quadratic"]
assert set(METHODS) == {"hardware", "seed-quadratic"}

TokenCount = Annotated[int, Field(ge=1, le=MAX_TOKENS), NOT_BOOL]
RequestCount = Annotated[int, Field(ge=1, le=MAX_COUNT), NOT_BOOL]


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
    method: Method = Field("hardware", description="'hardware' (power x time, the default) or 'seed-quadratic' (the seed's legacy formula)")
    batch_size: Annotated[float, Field(ge=1, le=100_000), NOT_BOOL] | None = Field(
        None, description="requests served at once, from 1 to 100,000; default from the hardware preset"
    )
    gpu_utilisation: Annotated[float, Field(ge=0, le=1), NOT_BOOL] | None = Field(
        None, description="mean GPU draw as a fraction of board power, from 0 to 1; default from the hardware preset"
    )
    pue: Annotated[float, Field(ge=1, le=3), NOT_BOOL] | None = Field(
        None, description="power usage effectiveness, from 1 to 3; default from the datacentre preset"
    )
    carbon_intensity_gco2eq_per_kwh: Annotated[float, Field(ge=0, le=2000), NOT_BOOL] | None = Field(
        None, description="grid intensity in gCO2e/kWh, from 0 to 2000; default from the region"
    )


class RawRegion(BaseModel):
    """The seed payload's ``region``: a site given by its numbers."""

    model_config = _SCHEMA
    pue: Annotated[float, Field(ge=1, le=3, description="power usage effectiveness (facility / IT energy), from 1 to 3"), NOT_BOOL]
    carbon_intensity: Annotated[float, Field(ge=0, le=2000, description="grid carbon intensity in gCO2e/kWh, from 0 to 2000"), NOT_BOOL]
    wue_site_l_per_kwh: Annotated[float, Field(ge=0, le=20, description="on-site water in L per kWh of IT energy, from 0 to 20"), NOT_BOOL] = 0.0
    wue_offsite_l_per_kwh: Annotated[float, Field(ge=0, le=50, description="off-site water of electricity in L per kWh, from 0 to 50"), NOT_BOOL] = 0.0
    name: str = Field("custom", max_length=64, description="a label for the record")


class RawHardware(BaseModel):
    """The seed payload's ``hardware``: board powers in watts and utilisations."""

    model_config = _SCHEMA
    power_gpu: Annotated[float, Field(gt=0, le=5000, description="board power of one GPU in watts, > 0 and <= 5000"), NOT_BOOL]
    power_cpu: Annotated[float, Field(ge=0, le=5000, description="host CPU power in watts, from 0 to 5000"), NOT_BOOL] = 0.0
    eta_cpu: Annotated[float, Field(ge=0, le=1, description="mean CPU draw as a fraction of its power, from 0 to 1"), NOT_BOOL] = 0.0
    eta_gpu: (
        Annotated[
            float, Field(ge=0, le=1, description="mean GPU draw as a fraction of board power, from 0 to 1; default from the default hardware preset"), NOT_BOOL
        ]
        | None
    ) = None
    n_gpu: Annotated[int, Field(ge=1, le=1024, description="number of GPUs, an integer from 1 to 1024"), NOT_BOOL] = 1


class RawProfile(BaseModel):
    """The seed payload's ``profile``: token counts and speeds."""

    model_config = _SCHEMA
    name: str = Field("custom", max_length=64, description="a label for the record")
    input_size: Annotated[int, Field(ge=1, le=MAX_TOKENS, description=f"prompt length in tokens, an integer from 1 to {MAX_TOKENS:,}"), NOT_BOOL]
    output_size: Annotated[int, Field(ge=1, le=MAX_TOKENS, description=f"answer length in tokens, an integer from 1 to {MAX_TOKENS:,}"), NOT_BOOL]
    throughput: Annotated[float, Field(ge=MIN_TOKENS_PER_S, le=1e6, description="decode speed of one request in tokens/s, from 0.01 to 1,000,000"), NOT_BOOL]
    count: Annotated[int, Field(ge=1, le=MAX_COUNT, description=f"number of such requests, an integer from 1 to {MAX_COUNT:,}"), NOT_BOOL] = 1
    prefill_throughput: (
        Annotated[
            float,
            Field(ge=MIN_TOKENS_PER_S, le=1e7, description="prompt reading speed in tokens/s, from 0.01 to 10,000,000; default: the default hardware preset's"),
            NOT_BOOL,
        ]
        | None
    ) = None
    batch_size: Annotated[float, Field(ge=1, le=100_000, description="requests served at once, from 1 to 100,000"), NOT_BOOL] = 1.0


class RawRequest(BaseModel):
    """``POST /calculate-raw``: the seed README's payload, plus optional fields."""

    model_config = _SCHEMA
    region: RawRegion
    hardware: RawHardware
    profile: RawProfile
    method: Method = Field("hardware", description="'hardware' (power x time, the default) or 'seed-quadratic' (the seed's legacy formula)")


def parse(schema: type[BaseModel], data: object) -> BaseModel:
    """Validate ``data`` against ``schema``; a bad value raises one-line :class:`InvalidInputError`."""
    try:
        return schema.model_validate(data)
    except ValidationError as error:
        raise InvalidInputError(format_validation_error(error, schema)) from None


def estimate_named(config: Config, request: NamedRequest) -> Estimate:
    """Estimate from config names, with the request's overrides."""
    hardware, modele = modele_from_config(config, request.hardware, batch_size=request.batch_size, gpu_utilisation=request.gpu_utilisation)
    site = site_from_config(
        config,
        request.region,
        request.datacenter,
        pue=request.pue,
        carbon_intensity_gco2eq_per_kwh=request.carbon_intensity_gco2eq_per_kwh,
    )
    profile, requete = requete_from_profile(config, request.profile, request.input_tokens, request.output_tokens, request.count)
    return estimate(requete, modele, site, request.method, {"hardware": hardware, "profile": profile})


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
