"""Build ``Modele``, ``Site`` and ``Requete`` from named config entries.

These functions take an already loaded :class:`~traitement.config.Config`; they
read no file. Values written in the config as ``{value, min, max}`` become the
value object's central value and its ``bounds``; an explicit override replaces
both (a value given by the user is taken as exact).
"""

from __future__ import annotations

from typing import Any

from . import reference
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
    return site_and_record(config, region, datacenter, **overrides)[0]


def site_and_record(config: Config, region: str | None = None, datacenter: str | None = None, **overrides: Any) -> tuple[Site, dict[str, Any], tuple[str, ...]]:
    """The site of ``region`` (a name or code of the data pack) and ``datacenter``, what to record of them, and warnings.

    A cloud region brings its provider's datacentre preset unless ``datacenter`` is given. The record
    names the region, the data pack's version and each figure's source and year; a warning says where
    the world average stands in for a national water figure.
    """
    region_id, grid = config.region(region)
    if datacenter is None and grid.datacenter is not None:
        datacenter = grid.datacenter
        center_from = f"the preset of {grid.provider} ({region_id})"
    else:
        center_from = "given" if datacenter is not None else "the default"
    center_name, center = config.datacenter(datacenter)
    values = _split(
        {
            "region": region_id,
            "datacenter": center_name,
            "carbon_intensity_gco2eq_per_kwh": grid.carbon_intensity_gco2eq_per_kwh,
            "pue": center.pue,
            "wue_site_l_per_kwh": center.wue_site_l_per_kwh,
            "wue_offsite_l_per_kwh": grid.wue_offsite_l_per_kwh,
        }
    )
    record: dict[str, Any] = {"region_name": grid.name, "region_kind": grid.kind, "data_pack_version": reference.pack_version()}
    if grid.kind == "cloud":
        record.update({"cloud_provider": grid.provider, "location": grid.location, "datacenter_from": center_from})
    if overrides.get("carbon_intensity_gco2eq_per_kwh") is None:
        record.update({"carbon_intensity_source": grid.carbon_source, "carbon_intensity_year": grid.carbon_year, "carbon_intensity_note": grid.carbon_note})
    record.update({"wue_offsite_source": grid.water_source, "wue_offsite_year": grid.water_year})
    notes = []
    if grid.water_is_world_average and grid.kind != "world":
        notes.append(
            f"off-site water: the world average {grid.wue_offsite_l_per_kwh:g} L/kWh stands in for {grid.name} ({region_id}): "
            "no source in the data pack gives a national figure"
        )
    return parse(Site, _apply(values, overrides)), record, tuple(notes)


def requete_from_profile(
    config: Config,
    profile: str | None = None,
    input_tokens: Any = None,
    output_tokens: Any = None,
    count: Any = 1,
    cached_input_tokens: Any = None,
    reasoning_tokens: Any = None,
) -> tuple[str, Requete]:
    """A request of the usage profile ``profile``; given token counts replace the profile's (and its range).

    ``cached_input_tokens`` and ``reasoning_tokens`` (default 0) are parts of the input and output tokens.
    """
    name, usage = config.profile(profile)
    values = _split({"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens})
    values["input_tokens"] = round(values["input_tokens"])
    values["output_tokens"] = round(values["output_tokens"])
    values["count"] = 1 if count is None else count
    values["cached_input_tokens"] = 0 if cached_input_tokens is None else cached_input_tokens
    values["reasoning_tokens"] = 0 if reasoning_tokens is None else reasoning_tokens
    return name, parse(Requete, _apply(values, {"input_tokens": input_tokens, "output_tokens": output_tokens}))


def describe_regions(
    config: Config, kind: str | None = None, provider: str | None = None, country: str | None = None, search: str | None = None
) -> dict[str, Any]:
    """Regions of the data pack (filtered) and the datacentre presets as JSON-ready dicts (``regions`` command, ``GET /regions``)."""
    rows = reference.list_regions(kind=kind, provider=provider, country=country, search=search)
    return {
        "data_pack_version": reference.pack_version(),
        "count": len(rows),
        "compared_regions": [config.region(name)[0] for name in config.site.defaults.compared_regions],
        "regions": {region.id: region.model_dump() for region in rows},
        "datacenters": {name: center.model_dump() for name, center in config.site.datacenters.items()},
    }


def describe_hardware(config: Config, vendor: str | None = None, search: str | None = None) -> dict[str, Any]:
    """Hardware presets, their GPU boards and the data pack's boards (filtered) (``hardware`` command, ``GET /hardware``).

    A board of the data pack (``boards``) is usable as ``hardware`` too: the model-aware energy model
    derives its GPU count and speeds from the model it serves (docs/data-pack.md).
    """
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
    boards = reference.list_gpus(vendor=vendor, search=search)
    return {
        "hardware": setups,
        "gpus": {name: gpu.model_dump() for name, gpu in config.model.gpus.items()},
        "data_pack_version": reference.pack_version(),
        "boards": {board.id: board.model_dump() for board in boards},
    }


def describe_sources() -> dict[str, Any]:
    """The data pack's sources: licence, year, files and what each feeds (``sources`` command, ``GET /sources``)."""
    return {"data_pack_version": reference.pack_version(), "sources": {source.id: source.model_dump() for source in reference.sources()}}


def describe_profiles(config: Config) -> dict[str, Any]:
    """Usage profiles (``profiles`` command, ``GET /profiles``)."""
    return {"profiles": {name: profile.model_dump() for name, profile in config.model.profiles.items()}}
