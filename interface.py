"""Command-line interface of the GenAI carbon calculator.

    python interface.py --in_tok 2000 --out_tok 500 --region usa
    python interface.py --profile translation --hardware a100 --region FRA --json
    python interface.py regions | hardware | profiles [--json]

Each subcommand parses its arguments, makes one call into ``traitement`` and
formats the answer. Errors print one line on stderr: exit code 2 for a wrong
call (bad value, unknown name), 1 for a failure (unreadable config).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import traitement
from traitement.errors import CalculatorError, InvalidInputError

PROG = "interface.py"

# CLI flag for each request field, so an error names what the user typed.
FLAGS = {
    "input_tokens": "--in_tok",
    "output_tokens": "--out_tok",
    "count": "--count",
    "batch_size": "--batch-size",
    "gpu_utilisation": "--gpu-utilisation",
    "pue": "--pue",
    "carbon_intensity_gco2eq_per_kwh": "--intensity",
    "method": "--method",
}


class UsageError(CalculatorError):
    """A wrong command line (argparse's complaint), reported on one line with exit code 2."""

    code = "usage"


class Parser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line, raised instead of printed."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see '{self.prog} --help')")


# --- formatting ----------------------------------------------------------------


def _scaled(value: float, units: Sequence[tuple[float, str]], digits: int = 3) -> str:
    """``value`` in the largest unit it reaches, e.g. 0.00031 kWh -> '0.314 Wh'."""
    factor, unit = units[0]
    for candidate_factor, candidate_unit in units:
        if abs(value) >= candidate_factor:
            factor, unit = candidate_factor, candidate_unit
    return f"{value / factor:.{digits}g} {unit}"


ENERGY_UNITS_KWH = ((1e-3, "Wh"), (1.0, "kWh"), (1e3, "MWh"), (1e6, "GWh"))
CARBON_UNITS_G = ((1.0, "gCO2e"), (1e3, "kgCO2e"), (1e6, "tCO2e"))
WATER_UNITS_L = ((1e-3, "mL"), (1.0, "L"), (1e3, "m3"))


def format_estimate(result: dict[str, Any]) -> str:
    """A readable summary of one estimate's JSON dict."""
    a = result["assumptions"]
    count = result["count"]
    per = "per request" if count == 1 else f"for {count:,} requests"

    def ranged(name: str, units: Sequence[tuple[float, str]]) -> str:
        return f"{_scaled(result[name], units)} {per}  (range {_scaled(result[name + '_min'], units)} to {_scaled(result[name + '_max'], units)})"

    lines = [f"GenAI footprint, method '{result['method']}'"]
    lines += [f"  warning    {w}" for w in result["warnings"]]
    lines += [
        f"  request    {result['input_tokens']:,} tokens in, {result['output_tokens']:,} out, x{count:,}"
        + (f"  (profile {a['profile']})" if a.get("profile") else ""),
        f"  hardware   {a.get('hardware', 'custom')}: {a['n_gpu']} GPU x {a['gpu_power_w']:g} W at {a['gpu_utilisation']:.0%} draw, "
        f"CPU {a['cpu_power_w']:g} W at {a['cpu_utilisation']:.0%}, batch {a['batch_size']:g}",
        f"  site       {a['region']} grid {a['carbon_intensity_gco2eq_per_kwh']:g} gCO2e/kWh, datacentre {a['datacenter']} (PUE {a['pue']:g})",
        f"  time       prefill {result['prefill_s']:.3g} s + decode {result['decode_s']:.3g} s = {result['duration_s']:.3g} s per request"
        f" ({a['prefill_tokens_per_s']:g} and {a['decode_tokens_per_s']:g} tokens/s)",
        f"  energy     {ranged('energy_kwh', ENERGY_UNITS_KWH)}",
        f"             GPU {_scaled(result['energy_gpu_kwh'], ENERGY_UNITS_KWH)} + CPU {_scaled(result['energy_cpu_kwh'], ENERGY_UNITS_KWH)}"
        f" = IT {_scaled(result['energy_it_kwh'], ENERGY_UNITS_KWH)}, x PUE {a['pue']:g} = facility",
        f"  carbon     {ranged('carbon_gco2eq', CARBON_UNITS_G)}  [scope 2, location-based]",
        f"  embodied   {ranged('carbon_embodied_gco2eq', CARBON_UNITS_G)}  [scope 3 hardware share, not in carbon]",
        f"  water      {ranged('water_l', WATER_UNITS_L)}",
        f"  per request: {result['per_request']['energy_wh']:.4g} Wh, {result['per_request']['carbon_gco2eq']:.4g} gCO2e",
    ]
    return "\n".join(lines)


def _table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    """A plain left-aligned text table."""
    cells = [[str(row.get(column, "")) for column in columns] for row in rows]
    widths = [max(len(column), *(len(c[i]) for c in cells)) for i, column in enumerate(columns)]
    head = "  ".join(column.ljust(width) for column, width in zip(columns, widths, strict=True))
    body = ["  ".join(c.ljust(width) for c, width in zip(cell, widths, strict=True)) for cell in cells]
    return "\n".join([head, "-" * len(head), *body])


def _emit(args: argparse.Namespace, data: Any, text: Callable[[], str]) -> int:
    print(json.dumps(data, indent=2) if args.json else text())
    return 0


# --- subcommands ---------------------------------------------------------------


def add_estimate_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of one estimate (also accepted with no subcommand)."""
    parser.add_argument("--in_tok", "--input-tokens", dest="input_tokens", metavar="N", help="prompt length in tokens (default: the profile's)")
    parser.add_argument("--out_tok", "--output-tokens", dest="output_tokens", metavar="N", help="answer length in tokens (default: the profile's)")
    parser.add_argument("--count", default="1", metavar="N", help="number of such requests (default: 1)")
    parser.add_argument("--region", help="grid region name or ISO alpha-3 code, e.g. usa, FRA (default: usa); see 'regions'")
    parser.add_argument("--datacenter", help="datacentre preset for PUE and water, e.g. google, aws (default: industry-average)")
    parser.add_argument("--hardware", help="serving setup, e.g. h100, a100 (default: h100); see 'hardware'")
    parser.add_argument("--profile", help="usage profile giving default token counts: chatbot, completion, translation (default: chatbot)")
    parser.add_argument(
        "--method", default="hardware", help="hardware (power x time, default) or seed-quadratic (the seed's legacy formula, for reproduction only)"
    )
    parser.add_argument("--batch-size", metavar="B", help="requests served at once (default: the hardware preset's)")
    parser.add_argument("--gpu-utilisation", metavar="U", help="mean GPU draw as a fraction of board power, 0 to 1 (default: the preset's)")
    parser.add_argument("--pue", metavar="X", help="power usage effectiveness, 1 to 3 (default: the datacentre's)")
    parser.add_argument("--intensity", dest="carbon_intensity_gco2eq_per_kwh", metavar="G", help="grid intensity in gCO2e/kWh (default: the region's)")


def run_estimate(args: argparse.Namespace) -> int:
    fields = {name: getattr(args, name) for name in traitement.NamedRequest.model_fields if getattr(args, name, None) is not None}
    try:
        request = traitement.parse(traitement.NamedRequest, fields)
    except InvalidInputError as error:
        raise _with_flag(error) from None
    result = traitement.estimate_named(traitement.load_config(), request).to_dict()
    return _emit(args, result, lambda: format_estimate(result))


def _with_flag(error: InvalidInputError) -> InvalidInputError:
    """Name the CLI flag beside the field in a validation message."""
    message = str(error)
    field = message.split(":", 1)[0]
    if field in FLAGS:
        message = f"{FLAGS[field]} ({field}){message[len(field) :]}"
    return InvalidInputError(message, code=error.code)


def run_regions(args: argparse.Namespace) -> int:
    data = traitement.describe_regions(traitement.load_config())

    def text() -> str:
        grid = _table(
            [
                {"region": n, "iso": r["iso"], "gco2eq_per_kwh": r["carbon_intensity_gco2eq_per_kwh"], "water_offsite_l_per_kwh": r["wue_offsite_l_per_kwh"]}
                for n, r in data["regions"].items()
            ],
            ["region", "iso", "gco2eq_per_kwh", "water_offsite_l_per_kwh"],
        )
        centers = _table(
            [{"datacenter": n, "pue": d["pue"]["value"], "water_site_l_per_kwh": d["wue_site_l_per_kwh"]["value"]} for n, d in data["datacenters"].items()],
            ["datacenter", "pue", "water_site_l_per_kwh"],
        )
        return f"Regions (grid intensity: Ember 2024 via Our World in Data):\n{grid}\n\nDatacentres:\n{centers}"

    return _emit(args, data, text)


def run_hardware(args: argparse.Namespace) -> int:
    data = traitement.describe_hardware(traitement.load_config())

    def text() -> str:
        rows = [
            {
                "hardware": n,
                "gpus": f"{s['n_gpu']} x {s['gpu']}",
                "power_w": f"{s['n_gpu'] * s['gpu_power_w']:g}",
                "decode_tokens_per_s": f"{s['decode_tokens_per_s']:g}",
                "batch_size": f"{s['batch_size']:g}",
                "description": s["description"],
            }
            for n, s in data["hardware"].items()
        ]
        return _table(rows, ["hardware", "gpus", "power_w", "decode_tokens_per_s", "batch_size", "description"])

    return _emit(args, data, text)


def run_profiles(args: argparse.Namespace) -> int:
    data = traitement.describe_profiles(traitement.load_config())

    def text() -> str:
        rows = [
            {
                "profile": n,
                "input_tokens": f"{p['input_tokens']['value']:g}",
                "output_tokens": f"{p['output_tokens']['value']:g}",
                "description": p["description"],
            }
            for n, p in data["profiles"].items()
        ]
        return _table(rows, ["profile", "input_tokens", "output_tokens", "description"])

    return _emit(args, data, text)


# name: (help, add arguments, run)
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    "estimate": ("estimate one kind of request (the default command)", add_estimate_arguments, run_estimate),
    "regions": ("list regions (grid intensity, water) and datacentre presets", lambda p: None, run_regions),
    "hardware": ("list hardware presets and GPU boards", lambda p: None, run_hardware),
    "profiles": ("list usage profiles", lambda p: None, run_profiles),
}


def build_parser() -> Parser:
    parser = Parser(
        prog=PROG,
        description="Energy (kWh), carbon (gCO2e) and water (L) of generative-AI requests. "
        "With no subcommand, estimates one kind of request: the options of 'estimate' apply.",
        epilog="Example: python interface.py --in_tok 2000 --out_tok 500 --region usa",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name, (help_text, add_arguments, _) in COMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        add_arguments(sub)
        sub.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 failure, 2 wrong call)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help")):
        argv.insert(0, "estimate")
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command][2](args)
    except CalculatorError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return error.exit_code
    except SystemExit as stop:  # --help
        return stop.code if isinstance(stop.code, int) else 0


if __name__ == "__main__":
    # A one-off process: skip pydantic's scan of every installed package for plugins
    # (importlib.metadata, 15 to 45 ms of a ~400 ms start here); set the variable to keep them.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    sys.exit(main())
