"""Request schemas shared by the CLI and the API, and the calls that serve them.

Both interfaces validate their input with these models, so they reject the
same input with the same words, then make one call: :func:`estimate_named` or
:func:`estimate_raw`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from . import methods
from .base import NUMBER, Frozen, parse
from .config import Config
from .core import (
    CACHED_DESCRIPTION,
    MAX_COUNT,
    MAX_PARAMS_B,
    MAX_TOKENS,
    MIN_PARAMS_B,
    REASONING_DESCRIPTION,
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
    TokenPart,
    WueOffsiteLPerKwh,
    WueSiteLPerKwh,
    estimate,
    not_blank,
    part_of,
)
from .errors import InvalidInputError, UnknownNameError
from .parameter import IMPLIED_MIX, PARAMETER_METHOD, ParameterEstimate, parameter_block
from .parameter import estimate_from_config as parameter_estimate
from .presets import modele_from_config, requete_from_profile, site_and_record

# Fields of the serving setup: meaningless for the parameter method, which knows only the model's size.
_HARDWARE_ONLY = ("hardware", "datacenter", "batch_size", "gpu_utilisation", "pue", "active_params_b", "total_params_b", "precision")
MODEL_AWARE = methods.model_aware.NAME
ModelSizeB = Annotated[float, Field(ge=MIN_PARAMS_B, le=MAX_PARAMS_B), NUMBER]


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
    cached_input_tokens: TokenPart | None = Field(None, description=f"{CACHED_DESCRIPTION}; needs input_tokens; default 0")
    reasoning_tokens: TokenPart | None = Field(None, description=f"{REASONING_DESCRIPTION}; needs output_tokens; default 0")
    count: RequestCount = Field(1, description=f"number of such requests, an integer from 1 to {MAX_COUNT:,}")
    method: Annotated[str, methods.offered("estimate")] | None = Field(
        None,
        description=f"{methods.help_text('estimate')}; default: '{MODEL_AWARE}' when model is given without hardware, else '{methods.hardware.NAME}'",
    )
    model: Label | None = Field(
        None,
        description="LLM of the catalogue, e.g. llama-3.1-70b (see /models), case-insensitive; alone: method 'model-aware' with the deployment "
        "unknown (boards, GPUs, precision and batch as ranges); with hardware: the model-aware estimate on that hardware",
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

    @field_validator("cached_input_tokens")
    @classmethod
    def _cached_within_input(cls, value: int | None, info: ValidationInfo) -> int | None:
        return _part(value, info, "input_tokens", "the cached tokens are part of the prompt")

    @field_validator("reasoning_tokens")
    @classmethod
    def _reasoning_within_output(cls, value: int | None, info: ValidationInfo) -> int | None:
        return _part(value, info, "output_tokens", "the reasoning tokens are part of the output")


def _part(value: int | None, info: ValidationInfo, total_name: str, what: str) -> int | None:
    """A part of a token count: at most the count, which must then be given (a profile's count is a guess)."""
    if not value or total_name not in info.data:  # none, or the total was refused (its own error says why)
        return value
    total = info.data[total_name]
    if total is None:
        raise ValueError(f"needs {total_name} too: {what}, so give the whole count")
    return part_of(value, total, total_name, what)


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
    """The method asked for, or by default 'model-aware' when a model is given without hardware, else 'hardware'."""
    if request.method is not None:
        return request.method
    return MODEL_AWARE if request.model is not None and request.hardware is None else methods.hardware.NAME


def estimate_named(config: Config, request: NamedRequest) -> Estimate | ParameterEstimate:
    """Estimate from config names, with the request's overrides."""
    method = resolved_method(request)
    if method == PARAMETER_METHOD:
        return _parameter_named(config, request)
    if request.mix is not None:
        raise InvalidInputError(f"mix: used only by method 'parameter', not {method!r}; allowed: remove mix, or set method 'parameter'")
    site, record, notes = site_and_record(
        config,
        request.region,
        request.datacenter,
        pue=request.pue,
        carbon_intensity_gco2eq_per_kwh=request.carbon_intensity_gco2eq_per_kwh,
    )
    profile, requete = requete_from_profile(
        config, request.profile, request.input_tokens, request.output_tokens, request.count, request.cached_input_tokens, request.reasoning_tokens
    )
    if method == methods.seed_quadratic.NAME and requete.cached_input_tokens:
        raise InvalidInputError(
            "cached_input_tokens: not used by the legacy method 'seed-quadratic'; allowed: remove it, or use method 'model-aware'",
            code="cached-tokens-need-a-model",
        )
    if method == MODEL_AWARE and request.hardware is None:
        return _estimate_model_default(config, request, requete, site, profile, record, notes)
    if request.hardware is not None and not config.is_hardware_preset(request.hardware):
        return _estimate_model_aware(config, request, requete, site, profile, method, record, notes, board=request.hardware)
    hardware, modele = modele_from_config(config, request.hardware, batch_size=request.batch_size, gpu_utilisation=request.gpu_utilisation)
    if request.model is not None or request.active_params_b is not None or method == MODEL_AWARE:
        return _estimate_model_aware(config, request, requete, site, profile, method, record, notes)
    if request.total_params_b is not None or request.precision is not None:
        given = next(name for name in ("total_params_b", "precision") if getattr(request, name) is not None)
        raise InvalidInputError(f"{given}: needs active_params_b (the model's size) or model as well", code="missing-model-size")
    if requete.cached_input_tokens:
        raise InvalidInputError(
            f"cached_input_tokens: not used by method {method!r} on a hardware preset (its prefill speed knows no cache); "
            "allowed: give model (or active_params_b), whose KV cache the model-aware method reads, or remove cached_input_tokens",
            code="cached-tokens-need-a-model",
        )
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
        request.cached_input_tokens,
        request.reasoning_tokens,
    )


def _estimate_model_default(
    config: Config, request: NamedRequest, requete: Requete, site: Site, profile: str, record: dict[str, Any], notes: tuple[str, ...]
) -> Estimate:
    """The model-aware method with the deployment unknown: boards, GPU count, precision and batch as ranges (traitement.deployment).

    The central value is the config's typical deployment; the range spans the deployment's ranges, the model's size range,
    the fit's residual factor, the site's ranges and the profile's token ranges. Given fields fix their axis (``batch_size``,
    ``precision``); the sizes given replace the model's.
    """
    from .deployment import ModelSizes, central_notes, deployment_for, model_footprint
    from .energy_model import load_energy_model

    if request.gpu_utilisation is not None:
        raise InvalidInputError(
            "gpu_utilisation: the model-aware method derives the draw from the batch; allowed: remove gpu_utilisation, or give hardware with it"
        )
    energy_model = load_energy_model(config.directory)
    named: dict[str, Any] = {}
    if request.model is not None:
        name, entry = config.llm(request.model)
        sizes = ModelSizes.of(entry)
        if request.active_params_b is not None or request.total_params_b is not None:
            active = request.active_params_b if request.active_params_b is not None else entry.active_params_b.value
            sizes = ModelSizes.exact(
                active, request.total_params_b if request.total_params_b is not None else max(active, entry.total_params_b.value), entry.precision, name
            )
        named = {"model": name, "provider": entry.provider, "model_source": f"{entry.source} ({entry.year})", "model_size_estimate": entry.estimate}
        if entry.estimate and sizes.active_params_b.low != sizes.active_params_b.high:
            notes = (
                *notes,
                f"{name}: size not published; active parameters {entry.active_params_b.min:g} to {entry.active_params_b.max:g} B "
                f"(central {entry.active_params_b.value:g}), total {_span_words(entry.total_params_b)} B, in the range ({entry.source_note})",
            )
    elif request.active_params_b is not None:
        sizes = ModelSizes.exact(request.active_params_b, request.total_params_b)
    else:
        raise InvalidInputError(
            "model: required by method 'model-aware' (or active_params_b); allowed: a model name of the catalogue (GET /models, or the CLI's models command)",
            code="missing-model-size",
        )
    deployment = deployment_for(config, energy_model, sizes, precision=request.precision, batch_size=request.batch_size)
    # Three rows: the request, then its tokens at the low and the high end of the profile's ranges.
    ends = [requete, requete.at("low"), requete.at("high")]
    result = model_footprint(
        sizes,
        site,
        [r.input_tokens * r.count for r in ends],
        [r.output_tokens * r.count for r in ends],
        [r.count for r in ends],
        [r.cached_input_tokens * r.count for r in ends],
        [r.reasoning_tokens * r.count for r in ends],
        config=config,
        energy_model=energy_model,
        deployment=deployment,
    )
    columns, central = result.columns, result.central
    board = deployment.central_board
    n_gpu, batch = int(central["n_gpu"][0]), float(central["batch_size"][0])
    precision = deployment.central_precision
    active, total = sizes.sizes("central")
    assumptions = {
        **named,
        "energy_model": "model-aware",
        "deployment": "unknown: ranges (see the deployment block)"
        if not deployment.known
        else f"partly known ({', '.join(deployment.known)}): ranges for the rest",
        "hardware": f"{n_gpu} x {board.name}",
        "gpu": board.name,
        "gpu_source": board.source,
        "active_params_b": active,
        "total_params_b": total,
        "precision": precision,
        "n_gpu": n_gpu,
        "gpu_power_w": board.power_w,
        "gpu_utilisation": float(central["gpu_utilisation"][0]),
        "batch_size": batch,
        "cpu_power_w": float(central["host_power_w"][0]),
        "cpu_utilisation": 1.0,
        "prefill_tokens_per_s": float(central["prefill_tokens_per_s"][0]),
        "decode_tokens_per_s": float(central["decode_tokens_per_s"][0]),
        "decode_step_energy_j": float(central["decode_step_energy_j"][0]),
        "prefill_energy_j": float(central["prefill_energy_j"][0]),
        "weight_read_gb": float(central["weight_read_gb"][0]),
        "kv_cache_read_gb": float(central["kv_cache_read_gb"][0]),
        "host_share_of_gpu_energy": energy_model.boundaries.host_share_of_gpu_energy + energy_model.boundaries.idle_reserve_share_of_gpu_energy,
        "profile": profile,
        **record,
    }
    recorded = {"region": site.region, "datacenter": site.datacenter, **site.model_dump(exclude={"bounds", "region", "datacenter"}), **assumptions}
    extra: dict[str, Any] = {"deployment": {**deployment.describe(), "central": deployment_words(n_gpu, board.name, precision, batch)}}
    if request.model is not None:
        extra["parameter_method"] = parameter_block(
            config,
            str(named["model"]),
            request.profile,
            request.input_tokens,
            request.output_tokens,
            request.count,
            request.cached_input_tokens,
            request.reasoning_tokens,
        )
    row = {name: float(values[0]) for name, values in columns.items()}
    return Estimate(
        method=MODEL_AWARE,
        count=requete.count,
        input_tokens=requete.input_tokens,
        output_tokens=requete.output_tokens,
        **{name: row[name] for name in ("prefill_s", "decode_s", "duration_s", "energy_gpu_kwh", "energy_cpu_kwh", "energy_it_kwh", "energy_kwh")},
        **{name: row[name] for name in ("carbon_gco2eq", "water_l", "carbon_embodied_gco2eq")},
        low={name: min(float(columns[f"{name}_min"][index]) for index in (0, 1)) for name in Estimate.RANGED},
        high={name: max(float(columns[f"{name}_max"][index]) for index in (0, 2)) for name in Estimate.RANGED},
        assumptions=recorded,
        warnings=(*notes, *central_notes(deployment, sizes, {name: values[:1] for name, values in central.items()}, energy_model), DEPLOYMENT_NOTE),
        cached_input_tokens=requete.cached_input_tokens,
        reasoning_tokens=requete.reasoning_tokens,
        reasoning_energy_kwh=row["reasoning_energy_kwh"],
        extra=extra,
    )


def _span_words(span: Any) -> str:
    """``440`` for an exact figure, ``200 to 600`` for a range."""
    return f"{span.value:g}" if span.min == span.max else f"{span.min:g} to {span.max:g}"


DEPLOYMENT_NOTE = (
    "deployment unknown: the range spans the boards, GPU counts, precisions and batches such models are served with "
    "(config/energy_model.yaml deployment:) and the fit's residual; give hardware (and batch_size) for a known setup"
)


def deployment_words(n_gpu: int, board: str, precision: str, batch_size: float) -> str:
    """The central deployment in plain words."""
    return f"{n_gpu} x {board} in {precision}, {batch_size:,.0f} requests served at once"


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
        cached_input_tokens=requete.cached_input_tokens,
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
