"""Request schemas shared by the CLI and the API, and the calls that serve them.

Both interfaces validate their input with these models, so they reject the
same input with the same words, then make one call: :func:`estimate_named` or
:func:`estimate_raw`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from . import methods
from .base import NUMBER, Frozen, parse
from .config import Config
from .core import (
    MAX_COUNT,
    MAX_TOKENS,
    BatchSize,
    BoardPowerW,
    DecodeSpeed,
    Estimate,
    Fraction,
    GpuCount,
    HostPowerW,
    IntensityGPerKwh,
    Label,
    Modele,
    PrefillSpeed,
    Pue,
    RequestCount,
    Requete,
    Site,
    TokenCount,
    WueOffsiteLPerKwh,
    WueSiteLPerKwh,
    estimate,
    not_blank,
)
from .errors import InvalidInputError, UnknownNameError
from .parameter import IMPLIED_MIX, PARAMETER_METHOD, ParameterEstimate
from .parameter import estimate_from_config as parameter_estimate
from .presets import modele_from_config, requete_from_profile, site_and_record

# Fields of the serving setup: meaningless for the parameter method, which knows only the model's size.
_HARDWARE_ONLY = ("hardware", "datacenter", "batch_size", "gpu_utilisation", "pue", "active_params_b", "total_params_b", "precision")
ModelSizeB = Annotated[float, Field(ge=0.1, le=100_000), NUMBER]


class SetupOptions(Frozen):
    """Where and on what the requests run, and overrides of those presets (taken as exact): an estimate's and an analytics file's."""

    region: Label | None = Field(None, description="region name or ISO 3166 code (see /regions); default from config")
    datacenter: Label | None = Field(None, description="datacentre preset (see /regions); default from config")
    hardware: Label | None = Field(None, description="hardware preset (see /hardware); default from config")
    batch_size: BatchSize | None = Field(None, description="requests served at once, from 1 to 100,000; default from the hardware preset")
    gpu_utilisation: Fraction | None = Field(None, description="mean GPU draw as a fraction of board power, from 0 to 1; default from the hardware preset")
    pue: Pue | None = Field(None, description="power usage effectiveness, from 1 to 3; default from the datacentre preset")
    carbon_intensity_gco2eq_per_kwh: IntensityGPerKwh | None = Field(None, description="grid intensity in gCO2e/kWh, from 0 to 2000; default from the region")


class NamedRequest(SetupOptions):
    """An estimate from config names: ``POST /calculate`` and the CLI's estimate."""

    profile: Label | None = Field(None, description="usage profile (see /profiles) giving the token counts when not set; default from config")
    input_tokens: TokenCount | None = Field(None, description=f"prompt length in tokens, an integer from 1 to {MAX_TOKENS:,}; default from the profile")
    output_tokens: TokenCount | None = Field(None, description=f"answer length in tokens, an integer from 1 to {MAX_TOKENS:,}; default from the profile")
    count: RequestCount = Field(1, description=f"number of such requests, an integer from 1 to {MAX_COUNT:,}")
    method: Annotated[str, methods.offered("estimate")] | None = Field(
        None,
        description=f"{methods.help_text('estimate')}; default: '{PARAMETER_METHOD}' when model is given without hardware, else '{methods.hardware.NAME}'",
    )
    model: Label | None = Field(
        None,
        description="LLM of the catalogue, e.g. mistral-large-2 (see /models), case-insensitive; alone: method 'parameter'; with hardware: "
        "the model-aware hardware estimate from its size",
    )
    mix: Literal["implied", "grid"] | None = Field(
        None,
        description="carbon factor of method 'parameter': 'implied' (scope 3 life cycle, calibrated on Mistral AI's figure, the default) "
        "or 'grid' (scope 2, the region's grid)",
    )
    active_params_b: ModelSizeB | None = Field(
        None,
        description="model size: parameters used per token in billions, from 0.1 to 100,000; when set, GPUs, speeds and draw come from the "
        "model-aware energy model on the hardware preset's GPU board",
    )
    total_params_b: ModelSizeB | None = Field(
        None, description="all parameters in billions (mixture of experts), from 0.1 to 100,000, >= active_params_b; default active_params_b"
    )
    precision: Annotated[str, Field(min_length=1, max_length=16), AfterValidator(not_blank)] | None = Field(
        None, description="weight precision: bf16, fp16, fp8, int8, mxfp4 or int4; default bf16"
    )


class RawRegion(Frozen):
    """``region`` of ``POST /calculate-raw``: a site given by its numbers."""

    pue: Pue = Field(description="power usage effectiveness (facility / IT energy), from 1 to 3")
    carbon_intensity: IntensityGPerKwh = Field(description="grid carbon intensity in gCO2e/kWh, from 0 to 2000")
    wue_site_l_per_kwh: WueSiteLPerKwh = Field(0.0, description="on-site water in L per kWh of IT energy, from 0 to 20")
    wue_offsite_l_per_kwh: WueOffsiteLPerKwh = Field(0.0, description="off-site water of electricity in L per kWh, from 0 to 50")
    name: Label = Field("custom", description="a label for the record")


class RawHardware(Frozen):
    """``hardware`` of ``POST /calculate-raw``: board powers in watts and utilisations."""

    power_gpu: BoardPowerW = Field(description="board power of one GPU in watts, > 0 and <= 5000")
    power_cpu: HostPowerW = Field(0.0, description="host CPU power in watts, from 0 to 5000")
    eta_cpu: Fraction = Field(0.0, description="mean CPU draw as a fraction of its power, from 0 to 1")
    eta_gpu: Fraction | None = Field(None, description="mean GPU draw as a fraction of board power, from 0 to 1; default from the default hardware preset")
    n_gpu: GpuCount = Field(1, description="number of GPUs, an integer from 1 to 1024")


class RawProfile(Frozen):
    """``profile`` of ``POST /calculate-raw``: token counts and speeds."""

    input_size: TokenCount = Field(description=f"prompt length in tokens, an integer from 1 to {MAX_TOKENS:,}")
    output_size: TokenCount = Field(description=f"answer length in tokens, an integer from 1 to {MAX_TOKENS:,}")
    throughput: DecodeSpeed = Field(description="decode speed of one request in tokens/s, from 0.01 to 1,000,000")
    name: Label = Field("custom", description="a label for the record")
    count: RequestCount = Field(1, description=f"number of such requests, an integer from 1 to {MAX_COUNT:,}")
    prefill_throughput: PrefillSpeed | None = Field(
        None, description="prompt reading speed in tokens/s, from 0.01 to 10,000,000; default from the default hardware preset"
    )
    batch_size: BatchSize = Field(1.0, description="requests served at once, from 1 to 100,000")


class RawRequest(Frozen):
    """``POST /calculate-raw``: a site, a server and a request given by their numbers."""

    region: RawRegion = Field(description="the site: PUE and grid intensity")
    hardware: RawHardware = Field(description="the server: powers in watts and utilisations")
    profile: RawProfile = Field(description="the request: tokens, speeds, count, batch")
    method: Annotated[str, methods.offered("raw")] = Field(methods.hardware.NAME, description=methods.help_text("raw"))


def resolved_method(request: NamedRequest) -> str:
    """The method asked for, or by default 'parameter' when a model is given without hardware, else 'hardware'."""
    if request.method is not None:
        return request.method
    return PARAMETER_METHOD if request.model is not None and request.hardware is None else methods.hardware.NAME


def estimate_named(config: Config, request: NamedRequest) -> Estimate | ParameterEstimate:
    """Estimate from config names, with the request's overrides."""
    method = resolved_method(request)
    if method == PARAMETER_METHOD:
        return _parameter_named(config, request)
    if request.mix is not None:
        raise InvalidInputError(f"mix: used only by method 'parameter', not {method!r}; allowed: remove mix, or give model without hardware")
    site, record, notes = site_and_record(
        config,
        request.region,
        request.datacenter,
        pue=request.pue,
        carbon_intensity_gco2eq_per_kwh=request.carbon_intensity_gco2eq_per_kwh,
    )
    profile, requete = requete_from_profile(config, request.profile, request.input_tokens, request.output_tokens, request.count)
    if request.hardware is not None and not config.is_hardware_preset(request.hardware):
        return _estimate_model_aware(config, request, requete, site, profile, method, record, notes, board=request.hardware)
    hardware, modele = modele_from_config(config, request.hardware, batch_size=request.batch_size, gpu_utilisation=request.gpu_utilisation)
    if request.model is not None or request.active_params_b is not None:
        return _estimate_model_aware(config, request, requete, site, profile, method, record, notes)
    if request.total_params_b is not None or request.precision is not None:
        raise InvalidInputError("total_params_b, precision: need active_params_b (the model's size) or model as well", code="missing-model-size")
    return estimate(requete, modele, site, method, {"hardware": hardware, "profile": profile, **record}, notes)


def _parameter_named(config: Config, request: NamedRequest) -> ParameterEstimate:
    """The parameter method: only the model, the tokens and (for mix 'grid') the region count."""
    if request.model is None:
        raise InvalidInputError("model: required by method 'parameter'; allowed: a model name of the catalogue (GET /models, or the CLI's models command)")
    for name in _HARDWARE_ONLY:
        if getattr(request, name) is not None:
            raise InvalidInputError(f"{name}: not used by method 'parameter' (it knows only the model's size); allowed: remove it, or use method 'hardware'")
    mix = request.mix or IMPLIED_MIX
    if mix == IMPLIED_MIX and request.carbon_intensity_gco2eq_per_kwh is not None:
        raise InvalidInputError("carbon_intensity_gco2eq_per_kwh: not used by the implied mix (a life-cycle factor); allowed: remove it, or set mix 'grid'")
    return parameter_estimate(
        config,
        request.model,
        mix,
        request.region,
        request.profile,
        request.input_tokens,
        request.output_tokens,
        request.count,
        request.carbon_intensity_gco2eq_per_kwh,
    )


def _estimate_model_aware(
    config: Config,
    request: NamedRequest,
    requete: Requete,
    site: Site,
    profile: str,
    method: str,
    record: dict[str, Any],
    notes: tuple[str, ...],
    board: str | None = None,
) -> Estimate:
    """The model-aware mode: the serving setup from the model's size (given, or the data pack's), precision and a GPU board.

    The board is the hardware preset's, or ``board`` (a GPU board of the data pack given as ``hardware``): then the default
    preset gives the host CPU, embodied carbon, lifetime and batch per GPU, and a request without a model serves the
    ``board_model`` of ``config_model.yaml`` (a 70B-class model, as the presets do).
    """
    from .energy_model import load_energy_model, model_aware_modele

    active, total, precision, named = request.active_params_b, request.total_params_b, request.precision, {}
    model_name = request.model
    if board is not None:
        try:
            config.gpu(board, "hardware")
        except UnknownNameError as error:
            closest = str(error).partition("; closest: ")[2]
            raise UnknownNameError(
                f"hardware: unknown hardware {board!r}: neither a serving setup ({', '.join(config.model.hardware)}) nor a GPU board of the data pack"
                + (f"; closest boards: {closest}" if closest else ""),
                code="unknown-hardware",
            ) from None
        if model_name is None and active is None:
            model_name = config.model.defaults.board_model
            notes = (*notes, f"no model given for the bare GPU board {board!r}: it serves {model_name} (config_model.yaml defaults.board_model)")
    if model_name is not None:
        name, llm = config.llm(model_name)
        active = llm.active_params_b.value if active is None else active
        total = llm.total_params_b.value if total is None else total
        precision = llm.precision if precision is None else precision
        named = {"model": name, "model_source": f"{llm.source} ({llm.year})", "model_size_estimate": llm.estimate}
        if llm.estimate and request.active_params_b is None:
            notes = (
                *notes,
                f"{name}: size not published; active parameters {llm.active_params_b.min:g} to {llm.active_params_b.max:g} B, "
                f"central {llm.active_params_b.value:g} used ({llm.source_note})",
            )
    if active is None:
        raise InvalidInputError("active_params_b: required by the model-aware mode; allowed: a model size, or model with hardware", code="missing-model-size")
    modele, assumptions, model_notes = model_aware_modele(
        config,
        load_energy_model(config.directory),
        active_params_b=active,
        total_params_b=total,
        precision=precision,
        hardware=None if board is not None else request.hardware,
        gpu=board,
        batch_size=request.batch_size,
        input_tokens=requete.input_tokens,
        output_tokens=requete.output_tokens,
    )
    if request.gpu_utilisation is not None:
        bounds = {name: pair for name, pair in modele.bounds.items() if name != "gpu_utilisation"}
        modele = parse(Modele, {**modele.model_dump(), "gpu_utilisation": request.gpu_utilisation, "bounds": bounds})
    if board is not None:
        assumptions["hardware"] = f"{assumptions['gpu']} (a bare board; host, batch per GPU and lifetime of preset {assumptions['hardware']!r})"
    return estimate(requete, modele, site, method, {**named, **assumptions, "profile": profile, **record}, (*notes, *model_notes))


def estimate_raw(config: Config, request: RawRequest) -> Estimate:
    """Estimate from the numbers of ``POST /calculate-raw``; missing optional speeds come from the default hardware preset."""
    name, preset = config.hardware()
    taken = f"taken from the default hardware preset '{name}'"
    warnings = []
    hardware, profile, region = request.hardware, request.profile, request.region
    eta_gpu = hardware.eta_gpu
    if eta_gpu is None:
        eta_gpu = preset.gpu_utilisation.value
        warnings.append(f"hardware.eta_gpu not given: {eta_gpu} {taken}")
    prefill = profile.prefill_throughput
    if prefill is None:
        prefill = preset.prefill_tokens_per_s.value
        warnings.append(f"profile.prefill_throughput not given: {prefill} tokens/s {taken}")
    modele = parse(
        Modele,
        {
            "n_gpu": hardware.n_gpu,
            "gpu_power_w": hardware.power_gpu,
            "gpu_utilisation": eta_gpu,
            "cpu_power_w": hardware.power_cpu,
            "cpu_utilisation": hardware.eta_cpu,
            "prefill_tokens_per_s": prefill,
            "decode_tokens_per_s": profile.throughput,
            "batch_size": profile.batch_size,
        },
    )
    site = parse(
        Site,
        {
            "region": region.name,
            "carbon_intensity_gco2eq_per_kwh": region.carbon_intensity,
            "pue": region.pue,
            "wue_site_l_per_kwh": region.wue_site_l_per_kwh,
            "wue_offsite_l_per_kwh": region.wue_offsite_l_per_kwh,
        },
    )
    requete = parse(Requete, {"input_tokens": profile.input_size, "output_tokens": profile.output_size, "count": profile.count})
    return estimate(requete, modele, site, request.method, {"profile": profile.name}, tuple(warnings))
