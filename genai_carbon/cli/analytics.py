"""``analytics``: the footprint of a Fluid Topics daily analytics export, per day, month and profile.

    python interface.py analytics data/sample-daily-analytics.yaml --region france --json
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import traitement
from traitement.errors import InvalidInputError
from traitement.export import output_path, write_bytes, write_csv

from .common import SETUP_FLAGS, Command, add_setup_arguments, flagged, parse_options
from .formatting import CARBON_UNITS_G, ENERGY_UNITS_KWH, carbon, emit, energy, exact, number, scaled, table

FLAGS = {
    **SETUP_FLAGS,
    "topic_chars": "--topic-chars",
    "prompt_chars": "--prompt-chars",
    "chatbot_topics": "--chatbot-topics",
    "output_chars": "--output-chars",
    "chars_per_token": "--chars-per-token",
    "translation_output_chars_per_token": "--translation-chars-per-token",
    "portals_total": "--portals-total",
    "portals_genai": "--portals-genai",
}
"""The CLI flag of each analytics option, so an error names what the user typed."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``analytics``: the file, the site and hardware (as for an estimate), the size assumptions."""
    parser.add_argument(
        "file", nargs="?", metavar="FILE", help="a Fluid Topics daily analytics export, YAML (default: the shipped synthetic sample)"
    )
    add_setup_arguments(parser, boards=False)
    parser.add_argument("--topic-chars", metavar="N", help="characters per documentation topic (default 2500, range 2000-3000)")
    parser.add_argument("--prompt-chars", metavar="N", help="characters per user prompt (default 450, range 400-500)")
    parser.add_argument("--chatbot-topics", metavar="N", help="topics read per chatbot conversation (default 6.5, range 3-10)")
    parser.add_argument("--output-chars", metavar="N", help="characters per completion or chatbot answer (default 300, range 200-400)")
    parser.add_argument("--chars-per-token", metavar="X", help="characters per token of topics, prompts, answers (default 4, range 3.5-4)")
    parser.add_argument(
        "--translation-chars-per-token",
        dest="translation_output_chars_per_token",
        metavar="X",
        help="characters per token of translated text (default 3.5: French, German, Spanish)",
    )
    parser.add_argument("--portals-total", metavar="N", help="portals counted by the file's sessions and content (default: the file's portals.total)")
    parser.add_argument("--portals-genai", metavar="N", help="of those, portals with the GenAI features (default: the file's portals.genai)")
    parser.add_argument("--csv", metavar="OUT", help="write one row per day and profile to this CSV file (text cells a spreadsheet could run are quoted)")
    parser.add_argument("--plot", metavar="OUT.png", help="write a chart of daily and monthly carbon to this image file (.png, .svg, .pdf...: its extension)")


def run(args: argparse.Namespace) -> int:
    options = parse_options(traitement.AnalyticsOptions, args, FLAGS)
    csv_path = None if args.csv is None else output_path(args.csv, "--csv")
    plot = None if args.plot is None else _plot_target(args.plot)
    path, data = traitement.read_analytics(args.file)
    result = flagged(lambda: traitement.analyse_analytics(traitement.load_config(), data, options, source=str(path)), FLAGS)
    if csv_path is not None:
        write_csv(result.daily, csv_path, "--csv", date_format="%Y-%m-%d")
    if plot is not None:
        write_bytes(plot[0], traitement.plot_bytes(result, plot[1]), "--plot")
    answer = result.to_dict()
    return emit(args, answer, lambda: format_analytics(answer))


def _plot_target(value: str) -> tuple[Path, str]:
    """The chart's path and image format, from its extension: exactly that file is written (``out`` is not ``out.png``)."""
    path = output_path(value, "--plot")
    suffix = path.suffix.lower().lstrip(".")
    formats = traitement.PLOT_FORMATS
    if suffix not in formats:
        raise InvalidInputError(
            f"--plot: {value!r} has no image extension the chart can be written in; allowed: a file name ending in "
            + ", ".join(f".{name}" for name in formats),
            code="unknown-plot-format",
        )
    return path, suffix


def format_analytics(result: dict[str, Any]) -> str:
    """A readable summary of an analytics result's JSON dict."""
    a, period, context = result["assumptions"], result["period"], result["context"]

    def ranged(row: dict[str, Any], name: str, units: Sequence[tuple[float, str]]) -> str:
        return f"{scaled(row[name], units)} ({scaled(row[name + '_min'], units)} to {scaled(row[name + '_max'], units)})"

    sizes = a["sizes"]
    size_text = ", ".join(
        f"{name} {exact(s['value'])}" + (f" ({exact(s['min'])}-{exact(s['max'])})" if s["min"] != s["max"] else "") for name, s in sizes.items()
    )
    missing = ", ".join(f"{name} {n}" for name, n in result["missing_days"].items())
    lines = [
        f"GenAI footprint of a Fluid Topics daily analytics export: {result['source']}",
        f"  period     {period['start']} to {period['end']} ({number(period['days'])} days); days absent from the file, counted as zero: {missing}",
        f"  setup      hardware {a['hardware']}, region {a.get('region_name')} ({a['region']}, {exact(a['carbon_intensity_gco2eq_per_kwh'])} gCO2e/kWh),"
        f" datacentre {a['datacenter']} (PUE {exact(a['pue'])})",
        f"  sizes      {size_text}",
    ]
    for profile, row in result["per_request"].items():
        lines.append(
            f"  one {profile:<11} {number(round(row['input_tokens']))} tokens in, {number(round(row['output_tokens']))} out: "
            f"{energy(row['energy_wh'] / 1000)} ({energy(row['energy_wh_min'] / 1000)} to {energy(row['energy_wh_max'] / 1000)}),"
            f" {carbon(row['carbon_gco2eq'])}"
        )
    rows = [
        {
            "profile": name,
            "requests": number(round(row["requests"])),
            "input_tokens": number(round(row["input_tokens"])),
            "output_tokens": number(round(row["output_tokens"])),
            "energy (low to high)": ranged(row, "energy_kwh", ENERGY_UNITS_KWH),
            "carbon (low to high)": ranged(row, "carbon_gco2eq", CARBON_UNITS_G),
        }
        for name, row in [*result["by_profile"].items(), ("total", result["total"])]
    ]
    lines += ["", table(rows, list(rows[0]))]
    months = [
        {
            "month": row["month"],
            "days": row["days"],
            "requests": number(round(row["requests"])),
            "energy (low to high)": ranged(row, "energy_kwh", ENERGY_UNITS_KWH),
            "carbon (low to high)": ranged(row, "carbon_gco2eq", CARBON_UNITS_G),
        }
        for row in result["monthly_totals"]
    ]
    lines += ["", "Per month, all profiles:", table(months, list(months[0]))]
    year = result["per_year"]
    lines += [
        "",
        f"Per year ({year['method']}): {number(round(year['requests']))} requests, energy {ranged(year, 'energy_kwh', ENERGY_UNITS_KWH)},"
        f" carbon {ranged(year, 'carbon_gco2eq', CARBON_UNITS_G)}  [scope 2, location-based]",
    ]
    if "carbon_gco2eq_per_1000_sessions" in context:
        lines.append(
            f"Context: {number(round(context['sessions']))} sessions in the period; {ranged(context, 'carbon_gco2eq_per_1000_sessions', CARBON_UNITS_G)}"
            f" per 1,000 sessions; {number(context['requests_per_1000_sessions'])} GenAI requests per 1,000 sessions"
        )
    lines.append(f"  note: {context['note']}")
    if context.get("content_stock_at_end"):
        stocks = ", ".join(f"{name} {number(count)}" for name, count in context["content_stock_at_end"].items())
        lines.append(f"  content at {period['end']}: {stocks} ({context['content_note']})")
    lines += [f"  warning: {w}" for w in result["warnings"]]
    return "\n".join(lines)


COMMANDS = [
    Command(
        "analytics",
        "footprint of a Fluid Topics daily analytics export, per day, month and profile",
        add_arguments,
        run,
        examples=(
            "analytics",
            "analytics data/sample-daily-analytics.yaml --region france --topic-chars 3000",
            "analytics data/sample-daily-analytics.yaml --portals-total 213 --portals-genai 70 --json",
            "analytics data/sample-daily-analytics.yaml --csv /tmp/daily.csv --plot /tmp/daily.png",
        ),
    )
]
