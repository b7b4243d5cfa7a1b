"""``regions``, ``hardware``, ``profiles``, ``models``, ``sources``, ``methods``: what the config and the data pack hold, as tables or JSON."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import traitement

from .common import Command, no_arguments
from .formatting import emit, exact, number, table


def _listing(describe: Callable[..., dict[str, Any]], text: Callable[[dict[str, Any]], str], *filters: str) -> Callable[[argparse.Namespace], int]:
    """A command that prints ``describe(config, **filters)``: as JSON with ``--json``, else as ``text(data)``."""

    def run(args: argparse.Namespace) -> int:
        data = describe(traitement.load_config(), **{name: getattr(args, name) for name in filters})
        return emit(args, data, lambda: text(data))

    return run


def _search(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("search", nargs="?", help="keep the rows whose id, name or an alias contains this text (case and accents ignored)")


def region_filters(parser: argparse.ArgumentParser) -> None:
    """``regions [SEARCH] [--kind K] [--provider P] [--country C]``."""
    _search(parser)
    parser.add_argument("--kind", choices=("country", "subdivision", "cloud", "world"), help="one kind of region only")
    parser.add_argument("--provider", help="cloud regions of one provider: aws, gcp (google) or azure (microsoft)")
    parser.add_argument("--country", help="the regions of one country: any of its names or codes (usa, US, Canada)")


def model_filters(parser: argparse.ArgumentParser) -> None:
    """``models [SEARCH] [--provider P]``."""
    _search(parser)
    parser.add_argument("--provider", help="one provider's models: openai, anthropic, google, mistral, meta, alibaba, deepseek, ...")


def hardware_filters(parser: argparse.ArgumentParser) -> None:
    """``hardware [SEARCH] [--vendor V]``."""
    _search(parser)
    parser.add_argument("--vendor", choices=("nvidia", "amd"), help="the data pack's boards of one vendor only")


def _figure(value: Any, year: Any) -> str:
    return "-" if value is None else f"{value:g} ({year})"


def regions_text(data: dict[str, Any]) -> str:
    rows = [
        {
            "region": ident,
            "name": region["name"][:28],
            "kind": region["kind"],
            "gco2eq_per_kwh": _figure(region["carbon_intensity_gco2eq_per_kwh"], region["carbon_year"]),
            "source": region["carbon_source"] or "no grid figure",
            "water_l_per_kwh": f"{region['wue_offsite_l_per_kwh']:g}" + (" *" if region["water_is_world_average"] else ""),
            "datacenter": region.get("datacenter") or "",
        }
        for ident, region in data["regions"].items()
    ]
    grid = table(rows, ["region", "name", "kind", "gco2eq_per_kwh", "source", "water_l_per_kwh", "datacenter"])
    centers = table(
        [{"datacenter": n, "pue": d["pue"]["value"], "water_site_l_per_kwh": d["wue_site_l_per_kwh"]["value"]} for n, d in data["datacenters"].items()],
        ["datacenter", "pue", "water_site_l_per_kwh"],
    )
    return (
        f"Regions of data pack {data['data_pack_version']}: {data['count']} (grid intensity with its year; * world-average water; "
        f"sources: 'sources'; every field: --json):\n{grid}\n\nDatacentres:\n{centers}"
    )


def hardware_text(data: dict[str, Any]) -> str:
    rows = [
        {
            "hardware": n,
            "gpus": f"{s['n_gpu']} x {s['gpu']}",
            "power_w": s["n_gpu"] * s["gpu_power_w"],
            "decode_tokens_per_s": s["decode_tokens_per_s"],
            "batch_size": s["batch_size"],
            "description": s["description"],
        }
        for n, s in data["hardware"].items()
    ]
    presets = table(rows, ["hardware", "gpus", "power_w", "decode_tokens_per_s", "batch_size", "description"])
    boards = table(
        [
            {
                "board": ident,
                "name": board["name"],
                "power_w": f"{board['power_w']:g}",
                "memory_gb": f"{board['memory_gb']:g}",
                "bandwidth_tb_per_s": f"{board['memory_bandwidth_tb_per_s']:g}",
                "bf16_tflop_per_s": f"{board['bf16_tflop_per_s']:g}" if board["bf16_tflop_per_s"] is not None else f"- (fp16 {board['fp16_tflop_per_s']:g})",
                "fp8_tflop_per_s": f"{board['fp8_tflop_per_s']:g}" if board["fp8_tflop_per_s"] is not None else "-",
                "embodied_kgco2eq": f"{board['embodied_kgco2eq']['value']:g}" if board["embodied_kgco2eq"] else "-",
            }
            for ident, board in data["boards"].items()
        ],
        ["board", "name", "power_w", "memory_gb", "bandwidth_tb_per_s", "bf16_tflop_per_s", "fp8_tflop_per_s", "embodied_kgco2eq"],
    )
    return (
        f"Serving setups (--hardware NAME):\n{presets}\n\nGPU boards of data pack {data['data_pack_version']} (also --hardware NAME: "
        f"GPU count and speeds from the model-aware energy model; datasheets: --json):\n{boards}"
    )


def profiles_text(data: dict[str, Any]) -> str:
    rows = [
        {"profile": n, "input_tokens": p["input_tokens"]["value"], "output_tokens": p["output_tokens"]["value"], "description": p["description"]}
        for n, p in data["profiles"].items()
    ]
    return table(rows, ["profile", "input_tokens", "output_tokens", "description"])


def models_text(data: dict[str, Any]) -> str:
    rows = [
        {
            "model": n,
            "provider": m["provider"],
            "active_params_b": _range(m["active_params_b"]) + (" est." if m["estimate"] else ""),
            "total_params_b": _range(m["total_params_b"]),
            "precision": m["precision"] or "-",
            "wh_per_output_token": number(m["energy_wh_per_output_token"], 4),
        }
        for n, m in data["models"].items()
    ]
    method = data["parameter_method"]
    head = (
        f"Models (method 'parameter': Wh per output token = {exact(method['alpha_wh_per_token_per_b_params'])} x active B"
        f" + {exact(method['beta_wh_per_token'])}; implied mix {number(method['implied_mix_gco2eq_per_wh'], 4)} gCO2e/Wh, scope 3):"
    )
    head = f"{data['count']} models of data pack {data['data_pack_version']}; " + head[0].lower() + head[1:]
    return head + "\n" + table(rows, ["model", "provider", "active_params_b", "total_params_b", "precision", "wh_per_output_token"])


def sources_text(data: dict[str, Any]) -> str:
    rows = [
        {"source": ident, "licence": source["licence"], "year": source["year"], "feeds": "; ".join(source["feeds"])}
        for ident, source in data["sources"].items()
    ]
    return f"Sources of data pack {data['data_pack_version']} (title, publisher, files: --json):\n" + table(rows, ["source", "licence", "year", "feeds"])


def methods_text(data: dict[str, Any]) -> str:
    rows = [{"method": name, "offered by": ", ".join(entry["interfaces"]), "description": entry["description"]} for name, entry in data.items()]
    return "Methods (what each figure covers: --json)\n" + table(rows, ["method", "offered by", "description"])


def _range(value: dict[str, Any]) -> str:
    if value["min"] == value["max"]:
        return exact(value["value"])
    return f"{exact(value['value'])} ({exact(value['min'])}-{exact(value['max'])})"


COMMANDS = [
    Command(
        "regions",
        "list regions (countries, ISO 3166-2 subdivisions, cloud regions: grid intensity, water) and datacentre presets",
        region_filters,
        _listing(traitement.describe_regions, regions_text, "search", "kind", "provider", "country"),
        examples=("regions", "regions --provider aws", "regions --country canada --kind subdivision", "regions paris --json"),
    ),
    Command(
        "hardware",
        "list serving setups and the GPU boards of the data pack",
        hardware_filters,
        _listing(traitement.describe_hardware, hardware_text, "search", "vendor"),
        examples=("hardware", "hardware --vendor amd", "hardware --json"),
    ),
    Command(
        "profiles", "list usage profiles", no_arguments, _listing(traitement.describe_profiles, profiles_text), examples=("profiles", "profiles --json")
    ),
    Command(
        "models",
        "list the models of the data pack (total and active parameters) with their energy per token under method 'parameter'",
        model_filters,
        _listing(traitement.describe_models, models_text, "search", "provider"),
        examples=("models", "models sonnet --provider anthropic", "models --json"),
    ),
    Command(
        "sources",
        "list the sources of the data pack: licence, year and what each feeds",
        no_arguments,
        _listing(lambda _: traitement.describe_sources(), sources_text),
        examples=("sources", "sources --json"),
    ),
    Command(
        "methods",
        "list the estimation methods: what each is, where it is offered, what its figures cover",
        no_arguments,
        _listing(lambda _: traitement.methods.describe(), methods_text),
        examples=("methods", "methods --json"),
    ),
]
