"""``batch``: estimate a log of requests (CSV, JSON Lines, Parquet), in total and per group.

    python interface.py batch data/sample_requests.csv --group-by region
    python interface.py batch log.parquet --group-by day --csv by_day.csv --json

Parses the options, makes one call (:func:`traitement.logs.estimate_log`, on
DuckDB) and formats the answer; the heavy libraries are imported by that call
only. The caps come from the settings (``GENAI_CARBON_BATCH_*``).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import traitement
from traitement import methods
from traitement.errors import InvalidInputError
from traitement.export import output_path
from traitement.settings import load_settings

from .common import Command
from .formatting import CARBON_UNITS_G, ENERGY_UNITS_KWH, WATER_UNITS_L, carbon, energy, number, ranged, table, to_json, water

SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"
"""Dask's own variable naming a scheduler (read by Dask, not a setting of the calculator)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from traitement.logs import ENGINES, FORMATS, GROUP_BY

    parser.add_argument(
        "file",
        metavar="FILE",
        help="log of requests (.csv, .jsonl or .parquet with input_tokens and output_tokens columns) or a provider's usage export "
        "(OpenAI usage API pages, Anthropic usage report, LiteLLM spend logs, OpenTelemetry GenAI spans as OTLP JSON)",
    )
    parser.add_argument(
        "--format", dest="fmt", choices=list(FORMATS), help="file format (default: a provider's export recognised from the content, else from the extension)"
    )
    parser.add_argument(
        "--group-by",
        nargs="+",
        action="extend",
        default=[],
        metavar="COL",
        help=f"sum per value of these columns (repeat the flag, list them, or comma-separate): {', '.join(GROUP_BY)} (day and month: UTC, from timestamp)",
    )
    parser.add_argument("--hardware", help="serving setup of rows without a hardware column or value (default: h100)")
    parser.add_argument("--region", help="grid region of rows without a region column or value (default: usa)")
    parser.add_argument("--datacenter", help="datacentre preset of rows without a datacenter column or value (default: industry-average)")
    parser.add_argument(
        "--method",
        default=None,
        help=f"'auto' (the default): rows with a model get that model's estimate (model-aware, deployment unknown), the others the hardware "
        f"preset's; or one method for every row: {methods.help_text('batch')}",
    )
    parser.add_argument("--csv", dest="csv_out", metavar="OUT", help="also write the grouped table (or the totals) to this CSV file")
    parser.add_argument(
        "--engine", choices=ENGINES, default=ENGINES[0], help="duckdb: one DuckDB query on the file (default); dask: the same query on Dask partitions"
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=os.environ.get(SCHEDULER_ENV),
        help=f"with --engine dask: a dask.distributed scheduler, e.g. tcp://scheduler:8786 (default: ${SCHEDULER_ENV}, else local threads)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar on stderr")


def run(args: argparse.Namespace) -> int:
    from traitement.logs import Limits, estimate_log, write_groups_csv

    csv_path = None if args.csv_out is None else output_path(args.csv_out, "--csv")
    if args.scheduler and args.engine != "dask":
        raise InvalidInputError("--scheduler: needs --engine dask")
    options: dict[str, Any] = {
        "fmt": args.fmt,
        "hardware": args.hardware,
        "region": args.region,
        "datacenter": args.datacenter,
        "method": args.method,
        "group_by": group_keys(args.group_by),
        "engine": args.engine,
        "progress": None if args.quiet else _progress_bar,
        "limits": Limits.from_settings(load_settings()),
    }
    config = traitement.load_config()
    if args.scheduler:
        from traitement.logs.dask_engine import dask_client

        with dask_client(args.scheduler):
            result = estimate_log(args.file, config, **options)
    else:
        result = estimate_log(args.file, config, **options)
    if csv_path is not None:
        write_groups_csv(result, csv_path, what="--csv")
    sys.stdout.write((to_json(result) if args.json else format_batch(result)) + "\n")
    return 0


def group_keys(values: list[str]) -> list[str]:
    """``--group-by month --group-by model``, ``--group-by month model`` and ``--group-by month,model`` alike: the keys in order."""
    return [key.strip() for value in values for key in value.split(",") if key.strip()]


def _progress_bar(total: int, unit: str) -> Any:
    """A tqdm bar on stderr that follows DuckDB's progress (percent), drawn only for runs longer than half a second on a terminal."""
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, file=sys.stderr, delay=0.5, disable=None, desc="estimating", leave=False, bar_format="{l_bar}{bar}| {elapsed}")


def format_batch(result: dict[str, Any]) -> str:
    """A readable summary: totals with ranges, then one line per group."""
    t = result["totals"]

    d = result["defaults"]
    used = ", ".join(f"{name} {'' if count is None else number(count) + ' requests'}".strip() for name, count in result["methods"].items())
    requests = "requests not counted by the export" if t["requests"] is None else f"requests   {number(t['requests'])}"
    lines = [
        f"GenAI footprint of {result['source']} ({result['format']}, method '{result['method']}'{': ' + used if used else ''}, engine {result['engine']})",
        f"  {requests} in {number(result['rows'])} rows: {number(t['input_tokens'])} tokens in ({number(t['cached_input_tokens'])} cached), "
        f"{number(t['output_tokens'])} out ({number(t['reasoning_tokens'])} reasoning)",
        f"  defaults   hardware {d['hardware']}, region {d['region']}, datacentre {d['datacenter']}"
        + (f"  (used for {', '.join(f'{k}: {number(v)} rows' for k, v in result['defaults_used'].items())})" if result["defaults_used"] else ""),
    ]
    if result["period"]:
        lines.append(f"  period     {result['period']['first']} to {result['period']['last']}")
    lines += [
        f"  energy     {ranged(t, 'energy_kwh', ENERGY_UNITS_KWH)}",
        f"             GPU {energy(t['energy_gpu_kwh'])}, IT {energy(t['energy_it_kwh'])}, facility x PUE",
        f"  carbon     {ranged(t, 'carbon_gco2eq', CARBON_UNITS_G)}  [scope 2, location-based]",
        f"  embodied   {ranged(t, 'carbon_embodied_gco2eq', CARBON_UNITS_G)}  [scope 3 hardware share, not in carbon]",
        f"  water      {ranged(t, 'water_l', WATER_UNITS_L)}",
    ]
    if t["reasoning_tokens"]:
        lines.append(f"  reasoning  {energy(t['reasoning_energy_kwh'])} of the energy (part of it)")
    if result["per_request"] is not None:
        lines.append(f"  per request: {energy(result['per_request']['energy_wh'] / 1000, 4)}, {carbon(result['per_request']['carbon_gco2eq'], 4)}")
    if result.get("token_convention"):
        lines.append(f"  tokens     {result['token_convention']}")
    for warning in result["warnings"]:
        lines.append(f"  warning    {warning}")
    if result["groups"]:
        keys = result["group_by"]
        rows = [
            {
                **{key: "(none)" if group[key] is None else group[key] for key in keys},
                "requests": "-" if group["requests"] is None else number(group["requests"]),
                "energy": energy(group["energy_kwh"], 4),
                "carbon": carbon(group["carbon_gco2eq"], 4),
                "water": water(group["water_l"], 4),
            }
            for group in result["groups"]
        ]
        lines += ["", table(rows, [*keys, "requests", "energy", "carbon", "water"])]
    return "\n".join(lines)


COMMANDS = [
    Command(
        "batch",
        "estimate a log of requests (CSV, JSON Lines, Parquet): totals and per group",
        add_arguments,
        run,
        examples=(
            "batch data/sample_requests.csv",
            "batch data/sample_requests.csv --group-by region month --json",
            "batch data/sample_requests.csv --group-by day --csv /tmp/footprint_by_day.csv --quiet",
            "batch data/samples/providers/openai-usage-completions.json --group-by model project_id",
        ),
    )
]
