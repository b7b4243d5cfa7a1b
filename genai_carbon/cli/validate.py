"""``validate``: every method of the registry that can be validated, against the published measurements of a cases file.

    python interface.py validate data/validation/published_cases.yaml --method model-aware --json
"""

from __future__ import annotations

import argparse
from typing import Any

import traitement
from traitement import methods

from .common import Command
from .formatting import emit, table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="cases file, e.g. data/validation/published_cases.yaml (schema: docs/validation.md)")
    parser.add_argument(
        "--method",
        action="append",
        metavar="M",
        help=f"{methods.help_text('validate')}; repeat for several (default: all, the first is the headline)",
    )


def run(args: argparse.Namespace) -> int:
    from traitement.energy_model import load_energy_model
    from traitement.validation import load_cases, validate

    offered = methods.names("validate")
    chosen = tuple(args.method or offered)
    for method in chosen:
        if method not in offered:
            raise traitement.InvalidInputError(f"--method: unknown validation method {method!r}; allowed: {', '.join(offered)}", code="unknown-method")
    config = traitement.load_config()
    result = validate(load_cases(args.file), config, load_energy_model(config.directory), chosen)
    return emit(args, result, lambda: format_validation(result))


def format_validation(result: dict[str, Any]) -> str:
    """Per method: each case's predicted and published Wh per request, the ratio, the error factor and the worst case."""
    blocks = []
    for method, summary in result["methods"].items():
        rows = [
            {
                "case": row["id"],
                "boundary": row["boundary"],
                "predicted_wh": f"{row['predicted_wh_per_request']:.4g}" if row["status"] == "ok" else "skipped",
                "published_wh": f"{row['published_wh_per_request']:.4g}",
                "ratio": f"{row['ratio']:.3g}" if row["status"] == "ok" else "",
            }
            for row in summary["cases"]
        ]
        title = f"Method '{method}'" + (" (headline)" if method == result["method"] else "")
        lines = [title, table(rows, ["case", "boundary", "predicted_wh", "published_wh", "ratio"])]
        if summary["error_factor"] is not None:
            worst = summary["worst_case"]
            lines.append(
                f"error factor {summary['error_factor']:.3g} over {summary['n_cases']} cases; "
                f"worst {worst['id']} (ratio {worst['ratio']:.3g}, off {worst['error_factor']:.3g}x)"
            )
        lines += [f"skipped {skip['id']}: {skip['reason']}" for skip in summary["skipped"]]
        if method == result["method"]:
            lines += [f"  note {row['id']}: {note}" for row in summary["cases"] for note in row.get("notes", [])]
        blocks.append("\n".join(lines))
    blocks.append(f"fit: {result['fit']}")
    return "\n\n".join(blocks)


COMMANDS = [Command("validate", "compare the methods with published measurements in a cases file", add_arguments, run)]
