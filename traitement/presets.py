"""Build ``Modele``, ``Site`` and ``Requete`` from named config entries.

These functions take an already loaded :class:`~traitement.config.Config`; they
read no file. Values written in the config as ``{value, min, max}`` become the
value object's central value and its ``bounds``; an explicit override replaces
both (a value given by the user is taken as exact).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .config import Config, Uncertain
from .core import Modele, Requete, Site
from .errors import InvalidInputError
from .fields import Record, check


def _split(values: dict[str, Any]) -> dict[str, Any]:
    """Turn ``Uncertain`` entries into central values plus a ``bounds`` mapping."""
    out: dict[str, Any] = {}
    bounds: dict[str, tuple[float, float]] = {}
    for name, value in values.items():
        if isinstance(value, Uncertain):
            out[name] = value.value
            if value.low != value.high:
                bounds[name] = (value.low, value.high)
        else:
            out[name] = value
    out["bounds"] = bounds
    return out


def _apply(values: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Overrides that are not ``None`` replace a value and drop its range."""
    for name, value in overrides.items():
        if value is not None:
            values[name] = value
            values["bounds"].pop(name, None)
    return values


def _preset(config: Config, key: tuple[str, ...], build: Callable[[], Record]) -> Record | None:
    """The value object of a preset without overrides, built and validated once per config, then reused.

    A config is immutable, and so are the value objects, so the cache lives on
    the config itself (no stale entry after a reload: a reload is a new config).
    ``None`` when the preset alone is invalid: the caller then takes the
    uncached path, where an override may replace the invalid value.
    """
    cache = config.__dict__.get("_presets")
    if cache is None:
        cache = {}
        object.__setattr__(config, "_presets", cache)  # a frozen dataclass: derived data, not a field
    if key not in cache:
        try:
            cache[key] = build()
        except InvalidInputError:
            cache[key] = None
    return cache[key]


def _with(base: Record, overrides: dict[str, Any]) -> Record | None:
    """``base`` with the overrides that are not ``None`` (each checked by the field's spec, as ``create`` would), their ranges dropped.

    ``None`` when an override is not a plain field of ``base``: the caller then takes the uncached path.
    """
    given = {name: value for name, value in overrides.items() if value is not None}
    if not given:
        return base
    infos = type(base).model_fields
    if any(name not in infos or infos[name].spec is None for name in given):
        return None
    update = {name: check(name, given[name], info.spec) for name, info in infos.items() if name in given}  # field order: the same first error
    bounds = base.bounds  # type: ignore[attr-defined]
    update["bounds"] = {name: pair for name, pair in bounds.items() if name not in update}
    return base.model_copy(update=update)


def modele_from_config(config: Config, hardware: str | None = None, **overrides: Any) -> tuple[str, Modele]:
    """The serving setup named ``hardware`` (default from config), with optional overrides."""
    name, setup = config.hardware(hardware)
    base = _preset(config, ("hardware", name), lambda: _modele(config, setup, {}))
    fast = _with(base, overrides) if base is not None else None
    return name, fast if fast is not None else _modele(config, setup, overrides)  # type: ignore[return-value]


def _modele(config: Config, setup: Any, overrides: dict[str, Any]) -> Modele:
    _, gpu = config.gpu(setup.gpu)
    values = _split(
        {
            "n_gpu": setup.n_gpu,
            "gpu_power_w": gpu.power_w,
            "gpu_utilisation": setup.gpu_utilisation,
            "cpu_power_w": setup.cpu_power_w,
            "cpu_utilisation": setup.cpu_utilisation,
            "prefill_tokens_per_s": setup.prefill_tokens_per_s,
            "decode_tokens_per_s": setup.decode_tokens_per_s,
            "batch_size": setup.batch_size,
            "gpu_embodied_kgco2eq": gpu.embodied_kgco2eq,
            "server_embodied_kgco2eq": setup.server_embodied_kgco2eq,
            "lifetime_years": setup.lifetime_years,
        }
    )
    return Modele.create(**_apply(values, overrides))


def site_from_config(config: Config, region: str | None = None, datacenter: str | None = None, **overrides: Any) -> Site:
    """The grid of ``region`` and the datacentre preset ``datacenter`` (defaults from config)."""
    region_name, grid = config.region(region)
    center_name, center = config.datacenter(datacenter)
    base = _preset(config, ("site", region_name, center_name), lambda: _site(region_name, grid, center_name, center, {}))
    fast = _with(base, overrides) if base is not None else None
    return fast if fast is not None else _site(region_name, grid, center_name, center, overrides)  # type: ignore[return-value]


def _site(region_name: str, grid: Any, center_name: str, center: Any, overrides: dict[str, Any]) -> Site:
    values = _split(
        {
            "region": region_name,
            "datacenter": center_name,
            "carbon_intensity_gco2eq_per_kwh": grid.carbon_intensity_gco2eq_per_kwh,
            "pue": center.pue,
            "wue_site_l_per_kwh": center.wue_site_l_per_kwh,
            "wue_offsite_l_per_kwh": grid.wue_offsite_l_per_kwh,
        }
    )
    return Site.create(**_apply(values, overrides))


def requete_from_profile(
    config: Config,
    profile: str | None = None,
    input_tokens: Any = None,
    output_tokens: Any = None,
    count: Any = 1,
) -> tuple[str, Requete]:
    """A request of the usage profile ``profile``; given token counts replace the profile's (and its range)."""
    name, usage = config.profile(profile)
    count = 1 if count is None else count
    base = _preset(config, ("profile", name), lambda: _requete(usage, 1, {}))
    fast = _with(base, {"input_tokens": input_tokens, "output_tokens": output_tokens, "count": count}) if base is not None else None
    return name, fast if fast is not None else _requete(usage, count, {"input_tokens": input_tokens, "output_tokens": output_tokens})  # type: ignore[return-value]


def _requete(usage: Any, count: Any, overrides: dict[str, Any]) -> Requete:
    values = _split({"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens})
    values["input_tokens"] = round(values["input_tokens"])
    values["output_tokens"] = round(values["output_tokens"])
    values["count"] = count
    return Requete.create(**_apply(values, overrides))


def describe_regions(config: Config) -> dict[str, Any]:
    """Regions and datacentre presets as JSON-ready dicts (``regions`` command, ``GET /regions``)."""
    return {
        "regions": {name: region.model_dump() for name, region in config.site.regions.items()},
        "datacenters": {name: center.model_dump() for name, center in config.site.datacenters.items()},
    }


def describe_hardware(config: Config) -> dict[str, Any]:
    """Hardware presets with their GPU boards (``hardware`` command, ``GET /hardware``)."""
    setups = {}
    for name, setup in config.model.hardware.items():
        _, modele = modele_from_config(config, name)
        setups[name] = {
            "description": setup.description,
            "gpu": setup.gpu,
            **modele.model_dump(exclude={"bounds"}),
            "ranges": {field: list(bounds) for field, bounds in modele.bounds.items()},
            "source": setup.source,
        }
    return {"hardware": setups, "gpus": {name: gpu.model_dump() for name, gpu in config.model.gpus.items()}}


def describe_profiles(config: Config) -> dict[str, Any]:
    """Usage profiles (``profiles`` command, ``GET /profiles``)."""
    return {"profiles": {name: profile.model_dump() for name, profile in config.model.profiles.items()}}
