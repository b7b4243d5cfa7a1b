"""``validate``: every method of the registry that can be validated, against the published measurements of a cases file.

    python interface.py validate                     # the shipped cases (DEFAULT_CASES)
    python interface.py validate data/validation/mlenergy_v3_cases.yaml
    python interface.py validate data/validation/published_cases.yaml --method model-aware --json
    python interface.py validate data/validation/mlenergy_v3_cases.yaml --method model-aware --cross-validate
"""

from __future__ import annotations

import argparse
from typing import Any

import traitement
from traitement import methods

from .common import Command
from .formatting import emit, number, percent, table

CASES_LISTED = 30
"""Files up to this many cases get a per-case table in the text output (``--json`` always has every case)."""


def _default_name() -> str:
    from traitement.paths import DATA_DIR
    from traitement.validation import DEFAULT_CASES

    return f"data/{DEFAULT_CASES.relative_to(DATA_DIR).as_posix()}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", metavar="FILE", help="cases file (schema: docs/validation.md); default: the shipped cases, " + _default_name())
    parser.add_argument(
        "--method",
        action="append",
        metavar="M",
        help=f"{methods.help_text('validate')}; repeat for several (default: all, the first is the headline)",
    )
    parser.add_argument(
        "--cross-validate",
        action="store_true",
        help="also refit the model-aware coefficients without each model of the file in turn and predict it (leave one model out)",
    )


def run(args: argparse.Namespace) -> int:
    from traitement.energy_model import load_energy_model
    from traitement.validation import DEFAULT_CASES, load_cases, validate

    offered = methods.names("validate")
    chosen = tuple(args.method or offered)
    for method in chosen:
        if method not in offered:
            raise traitement.InvalidInputError(f"--method: unknown validation method {method!r}; allowed: {', '.join(offered)}", code="unknown-method")
    config = traitement.load_config()
    result = validate(load_cases(args.file or DEFAULT_CASES), config, load_energy_model(config.directory), chosen, cross_validate=args.cross_validate)
    return emit(args, result, lambda: format_validation(result))


def _factor(value: float | None) -> str:
    return "-" if value is None else number(value)


def _breakdown_table(result: dict[str, Any], key: str, label: str) -> str:
    """One row per group (task, board, ...), one column per method: the error factor, then the headline's case count."""
    names = list(result["methods"])
    groups = list(dict.fromkeys(group for summary in result["methods"].values() for group in summary[key]))
    rows = []
    for group in groups:
        row = {label: group, "cases": result["methods"][names[0]][key].get(group, {}).get("n_cases", 0)}
        for method in names:
            stats = result["methods"][method][key].get(group)
            row[method] = _factor(stats["error_factor"]) if stats else "-"
        rows.append(row)
    return table(rows, [label, *names, "cases"])


def _cross_validation(cross: dict[str, Any]) -> str:
    if "skipped" in cross:
        return f"leave one model out: skipped, {cross['skipped']}"
    lines = [
        f"Leave one model out (model-aware refitted without each model): error factor {number(cross['error_factor'])} over {cross['n_cases']} cases, "
        f"{percent(cross['share_beyond_2x'])} beyond 2x, {cross['n_beyond_3x']} beyond 3x, worst {number(cross['worst_factor'])}x"
    ]
    for key in ("by_task", "by_board", "by_model"):
        lines.append("  " + key.replace("_", " ") + ": " + ", ".join(f"{name} {number(stats['error_factor'])}" for name, stats in cross[key].items()))
    return "\n".join(lines)


def format_validation(result: dict[str, Any]) -> str:
    """The error factor of each method overall and by task, board, model and batch band; the headline's worst cases."""
    headline = result["method"]
    rows = []
    for method, summary in result["methods"].items():
        worst = summary["worst_case"]
        rows.append(
            {
                "method": method + (" (headline)" if method == headline else ""),
                "error factor": _factor(summary["error_factor"]),
                "cases": summary["n_cases"],
                "beyond 2x": "-" if summary["share_beyond_2x"] is None else percent(summary["share_beyond_2x"]),
                "beyond 3x": summary["n_beyond_3x"],
                "worst case": "-" if worst is None else f"{worst['id']} (ratio {number(worst['ratio'])})",
            }
        )
    blocks = [
        "Error factor = geometric mean of max(r, 1/r), r = predicted / published, each case at its own boundary",
        table(rows, ["method", "error factor", "cases", "beyond 2x", "beyond 3x", "worst case"]),
    ]
    for key, label in (("by_task", "task"), ("by_board", "board"), ("by_model", "model"), ("by_batch_band", "batch")):
        blocks.append(f"By {label} (error factor per method)\n" + _breakdown_table(result, key, label))
    summary = result["methods"][headline]
    worst_rows = [{"case": row["id"], "ratio": number(row["ratio"]), "off": f"{number(row['error_factor'])}x"} for row in summary["worst_cases"]]
    if worst_rows:
        blocks.append(f"Worst cases, method '{headline}'\n" + table(worst_rows, ["case", "ratio", "off"]))
    if len(summary["cases"]) <= CASES_LISTED:
        case_rows = [
            {
                "case": row["id"],
                "boundary": row["boundary"],
                "predicted_wh": number(row["predicted_wh_per_request"], 4) if row["status"] == "ok" else "skipped",
                "published_wh": number(row["published_wh_per_request"], 4),
                "ratio": number(row["ratio"]) if row["status"] == "ok" else "",
            }
            for row in summary["cases"]
        ]
        blocks.append(f"Cases, method '{headline}'\n" + table(case_rows, ["case", "boundary", "predicted_wh", "published_wh", "ratio"]))
    lines = [f"skipped {skip['id']} ({method}): {skip['reason']}" for method, each in result["methods"].items() for skip in each["skipped"]]
    notes: dict[str, int] = {}
    for row in summary["cases"]:
        for note in row.get("notes", []):
            notes[note] = notes.get(note, 0) + 1
    lines += [f"note ({count} case{'s' if count > 1 else ''}): {note}" for note, count in notes.items()]
    if lines:
        blocks.append("\n".join(lines))
    if result.get("leave_one_model_out") is not None:
        blocks.append(_cross_validation(result["leave_one_model_out"]))
    blocks.append(f"fit: {result['fit']}")
    return "\n\n".join(blocks)


COMMANDS = [
    Command(
        "validate",
        "compare the methods with published measurements (default: the shipped cases)",
        add_arguments,
        run,
        examples=("validate", "validate --method model-aware --json", "validate data/validation/published_cases.yaml --method parameter"),
    )
]
