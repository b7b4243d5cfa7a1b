"""Build ``Modele``, ``Site`` and ``Requete`` from named config entries.

These functions take an already loaded :class:`~traitement.config.Config`; they
read no file. Values written in the config as ``{value, min, max}`` become the
value object's central value and its ``bounds``; an explicit override replaces
both (a value given by the user is taken as exact).
"""

from __future__ import annotations

from typing import Any

from .base import parse
from .config import Config, Uncertain
from .core import Modele, Requete, Site


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


def modele_from_config(config: Config, hardware: str | None = None, **overrides: Any) -> tuple[str, Modele]:
    """The serving setup named ``hardware`` (default from config), with optional overrides."""
    name, setup = config.hardware(hardware)
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
    return name, parse(Modele, _apply(values, overrides))


def site_from_config(config: Config, region: str | None = None, datacenter: str | None = None, **overrides: Any) -> Site:
    """The grid of ``region`` and the datacentre preset ``datacenter`` (defaults from config)."""
    region_name, grid = config.region(region)
    center_name, center = config.datacenter(datacenter)
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
    return parse(Site, _apply(values, overrides))


def requete_from_profile(
    config: Config,
    profile: str | None = None,
    input_tokens: Any = None,
    output_tokens: Any = None,
    count: Any = 1,
) -> tuple[str, Requete]:
    """A request of the usage profile ``profile``; given token counts replace the profile's (and its range)."""
    name, usage = config.profile(profile)
    values = _split({"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens})
    values["input_tokens"] = round(values["input_tokens"])
    values["output_tokens"] = round(values["output_tokens"])
    values["count"] = 1 if count is None else count
    return name, parse(Requete, _apply(values, {"input_tokens": input_tokens, "output_tokens": output_tokens}))


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
