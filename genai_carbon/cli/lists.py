"""``regions``, ``hardware``, ``profiles``, ``models``: what the config holds, as tables or JSON."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import traitement

from .common import Command, no_arguments
from .formatting import emit, exact, number, table


def _listing(describe: Callable[[traitement.Config], dict[str, Any]], text: Callable[[dict[str, Any]], str]) -> Callable[[argparse.Namespace], int]:
    """A command that prints ``describe(config)``: as JSON with ``--json``, else as ``text(data)``."""

    def run(args: argparse.Namespace) -> int:
        data = describe(traitement.load_config())
        return emit(args, data, lambda: text(data))

    return run


def regions_text(data: dict[str, Any]) -> str:
    grid = table(
        [
            {"region": n, "iso": r["iso"], "gco2eq_per_kwh": r["carbon_intensity_gco2eq_per_kwh"], "water_offsite_l_per_kwh": r["wue_offsite_l_per_kwh"]}
            for n, r in data["regions"].items()
        ],
        ["region", "iso", "gco2eq_per_kwh", "water_offsite_l_per_kwh"],
    )
    centers = table(
        [{"datacenter": n, "pue": d["pue"]["value"], "water_site_l_per_kwh": d["wue_site_l_per_kwh"]["value"]} for n, d in data["datacenters"].items()],
        ["datacenter", "pue", "water_site_l_per_kwh"],
    )
    return f"Regions (grid intensity: Ember 2024 via Our World in Data):\n{grid}\n\nDatacentres:\n{centers}"


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
    return table(rows, ["hardware", "gpus", "power_w", "decode_tokens_per_s", "batch_size", "description"])


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
            "active_params_b": _range(m["active_params_b"]),
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
    return head + "\n" + table(rows, ["model", "provider", "active_params_b", "total_params_b", "precision", "wh_per_output_token"])


def methods_text(data: dict[str, Any]) -> str:
    rows = [{"method": name, "offered by": ", ".join(entry["interfaces"]), "description": entry["description"]} for name, entry in data.items()]
    return "Methods (what each figure covers: --json)\n" + table(rows, ["method", "offered by", "description"])


def _range(value: dict[str, Any]) -> str:
    if value["min"] is None and value["max"] is None:
        return exact(value["value"])
    return f"{exact(value['value'])} ({exact(value['min'])}-{exact(value['max'])})"


COMMANDS = [
    Command(
        "regions",
        "list regions (grid intensity, water) and datacentre presets",
        no_arguments,
        _listing(traitement.describe_regions, regions_text),
        examples=("regions", "regions --json"),
    ),
    Command(
        "hardware",
        "list hardware presets and GPU boards",
        no_arguments,
        _listing(traitement.describe_hardware, hardware_text),
        examples=("hardware", "hardware --json"),
    ),
    Command(
        "profiles", "list usage profiles", no_arguments, _listing(traitement.describe_profiles, profiles_text), examples=("profiles", "profiles --json")
    ),
    Command(
        "models",
        "list the LLM catalogue (parameter counts) used by method 'parameter'",
        no_arguments,
        _listing(traitement.describe_models, models_text),
        examples=("models", "models --json"),
    ),
    Command(
        "methods",
        "list the estimation methods: what each is, where it is offered, what its figures cover",
        no_arguments,
        _listing(lambda _: traitement.methods.describe(), methods_text),
        examples=("methods", "methods --json"),
    ),
]
