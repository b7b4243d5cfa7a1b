"""``report``: the accounting report of a request log or a provider's usage export.

    python interface.py report data/samples/providers/openai-usage-completions.json --market-factor-gco2eq-per-kwh 0
    python interface.py report data/sample_requests.csv --by month,model --csv /tmp/report.csv --json

Parses the options, makes one call (:func:`traitement.accounting.account_log`)
and formats the answer: a table a person reads (units scaled), ``--json``, or
``--csv FILE`` (one row per line of the report, units in the column names).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import traitement
from traitement.export import output_path
from traitement.settings import load_settings

from .common import Command, flagged
from .formatting import CARBON_UNITS_G, ENERGY_UNITS_KWH, number, scaled, table, to_json

FLAGS = {"market_factor_gco2eq_per_kwh": "--market-factor-gco2eq-per-kwh", "by": "--by", "served": "--served"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from traitement.logs import FORMATS, GROUP_BY

    parser.add_argument(
        "file",
        metavar="FILE",
        help="log of requests (.csv, .jsonl, .parquet) or a provider's usage export (OpenAI, Anthropic, LiteLLM, OpenTelemetry GenAI spans)",
    )
    parser.add_argument("--format", dest="fmt", choices=list(FORMATS), help="file format (default: recognised from the content, else the extension)")
    parser.add_argument(
        "--market-factor-gco2eq-per-kwh",
        dest="market_factor_gco2eq_per_kwh",
        metavar="G",
        help="contractual emission factor for the market-based figure, gCO2e/kWh, 0 to 2000 (e.g. 0 for electricity covered by "
        "renewable certificates); absent: no market-based figure, and the report says why",
    )
    parser.add_argument(
        "--by",
        action="append",
        metavar="KEYS",
        help=f"the report's lines, comma-separated (repeatable): {', '.join(GROUP_BY)} (default: month, model and the provider's keys the file has)",
    )
    parser.add_argument(
        "--served",
        choices=("api", "self-hosted"),
        help="how every row's model is served: api (scope 3 category 1) or self-hosted (scope 2) (default: from the file; see docs/report.md)",
    )
    parser.add_argument("--region", help="grid region of rows without one, for the location-based figure (default: usa)")
    parser.add_argument("--hardware", help="serving setup of rows without one (default: h100)")
    parser.add_argument("--datacenter", help="datacentre preset of rows without one (default: industry-average)")
    parser.add_argument("--method", default=None, help="the estimate's method, as for batch (default: auto)")
    parser.add_argument("--csv", dest="csv_out", metavar="OUT", help="also write the report to this CSV file (one row per line)")


def run(args: argparse.Namespace) -> int:
    from traitement.accounting import account_log, report_options, write_report_csv
    from traitement.logs import Limits

    csv_path = None if args.csv_out is None else output_path(args.csv_out, "--csv")
    options = flagged(lambda: report_options(args.market_factor_gco2eq_per_kwh, args.by, args.served), FLAGS)
    report = flagged(
        lambda: account_log(
            args.file,
            traitement.load_config(),
            options=options,
            fmt=args.fmt,
            hardware=args.hardware,
            region=args.region,
            datacenter=args.datacenter,
            method=args.method,
            limits=Limits.from_settings(load_settings()),
        ),
        FLAGS,
    )
    if csv_path is not None:
        write_report_csv(report, csv_path, what="--csv")
    data = report.model_dump()
    sys.stdout.write((to_json(data) if args.json else format_report(data)) + "\n")
    return 0


def _figure(figure: dict[str, Any] | None, units: Any) -> str:
    if figure is None:
        return "-"
    return f"{scaled(figure['value'], units)} ({scaled(figure['min'], units)} to {scaled(figure['max'], units)})"


def format_report(report: dict[str, Any]) -> str:
    """The report as text: what it covers, the totals with ranges and scopes, one table per dimension, the illustrations."""
    t = report["totals"]
    period = report["period"]
    lines = [
        f"{report['title']}: {report['source']} ({report['format']}), data pack {report['data_pack_version']}",
        f"  period       {period['first']} to {period['last']}" if period else "  period       (the file gives no timestamps)",
        f"  methods      {', '.join(f'{name} ({number(count)} requests)' if count is not None else name for name, count in report['methods'].items())}",
        f"  requests     {'not counted by the export' if t['requests'] is None else number(t['requests'])}; tokens {number(t['input_tokens'])} in "
        f"({number(t['cached_input_tokens'])} cached), {number(t['output_tokens'])} out ({number(t['reasoning_tokens'])} reasoning)",
        "",
        f"Totals ({t['served']}; ranges in parentheses)",
        f"  energy                    {_figure(t['energy_kwh'], ENERGY_UNITS_KWH)}  [{report['figures']['energy_kwh']['label']}]",
        f"  location-based emissions  {_figure(t['carbon_location_based_gco2eq'], CARBON_UNITS_G)}  [grid average]",
        f"  market-based emissions    {_figure(t['carbon_market_based_gco2eq'], CARBON_UNITS_G)}  [{report['market_based']}]",
        f"  embodied (apart)          {_figure(t['carbon_embodied_gco2eq'], CARBON_UNITS_G)}  [not included in the figures above]",
        f"  operational scope         {t['scope_operational']}",
        f"  embodied scope            {t['scope_embodied']}",
    ]
    names = {"api": "api", "self-hosted": "self-hosted", "mixed": "mixed", "none": "-"}
    for dimension in [*report["by"], "served"]:
        rows = [
            {
                dimension: "(none)" if line["key"] is None else line["key"],
                "served": names[line["served"]],
                "requests": "-" if line["requests"] is None else number(line["requests"]),
                "energy": scaled(line["energy_kwh"]["value"], ENERGY_UNITS_KWH),
                "location-based": scaled(line["carbon_location_based_gco2eq"]["value"], CARBON_UNITS_G),
                "market-based": "-" if line["carbon_market_based_gco2eq"] is None else scaled(line["carbon_market_based_gco2eq"]["value"], CARBON_UNITS_G),
                "embodied": scaled(line["carbon_embodied_gco2eq"]["value"], CARBON_UNITS_G),
            }
            for line in report["lines"]
            if line["dimension"] == dimension
        ]
        columns = [dimension, *(("served",) if dimension != "served" else ()), "requests", "energy", "location-based", "market-based", "embodied"]
        lines += ["", f"Per {dimension}", table(rows, columns)]
    lines += ["", f"Illustrations ({report['illustrations_note']})"]
    for item in report["illustrations"]:
        lines.append(
            f"  {number(item['amount'])} {item['result_unit']} {item['label']} (range {number(item['amount_min'])} to {number(item['amount_max'])}): "
            f"{item['basis']}; {item['source']}, {item['year']}"
        )
    lines += ["", "Notes"] + [f"  - {note}" for note in report["notes"]]
    lines += [f"  warning: {warning}" for warning in report["warnings"]]
    lines += ["", "References"] + [f"  {ref['title']}, {ref['publisher']}, {ref['year']}: {ref['url']}" for ref in report["references"].values()]
    return "\n".join(lines)


COMMANDS = [
    Command(
        "report",
        "accounting report of a log or usage export: location- and market-based totals, embodied apart, per month, model and key",
        add_arguments,
        run,
        examples=(
            "report data/samples/providers/openai-usage-completions.json --market-factor-gco2eq-per-kwh 0",
            "report data/sample_requests.csv --by month,model --json",
            "report data/samples/providers/anthropic-usage-messages.json --market-factor-gco2eq-per-kwh 120 --csv /tmp/report.csv",
        ),
    )
]
