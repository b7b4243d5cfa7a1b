"""Text output shared by the commands: values in readable units, plain tables, the JSON-or-text switch."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from typing import Any

ENERGY_UNITS_KWH = ((1e-3, "Wh"), (1.0, "kWh"), (1e3, "MWh"), (1e6, "GWh"))
CARBON_UNITS_G = ((1.0, "gCO2e"), (1e3, "kgCO2e"), (1e6, "tCO2e"))
WATER_UNITS_L = ((1e-3, "mL"), (1.0, "L"), (1e3, "m3"))


def scaled(value: float, units: Sequence[tuple[float, str]], digits: int = 3) -> str:
    """``value`` in the largest unit it reaches, e.g. 0.00031 kWh -> '0.314 Wh'."""
    factor, unit = units[0]
    for candidate_factor, candidate_unit in units:
        if abs(value) >= candidate_factor:
            factor, unit = candidate_factor, candidate_unit
    return f"{value / factor:.{digits}g} {unit}"


def ranged(row: dict[str, Any], name: str, units: Sequence[tuple[float, str]], suffix: str = "") -> str:
    """``name`` of ``row`` with its ``_min`` to ``_max`` range, e.g. '0.314 Wh per request  (range 0.0308 Wh to 2.31 Wh)'."""
    return f"{scaled(row[name], units)}{suffix}  (range {scaled(row[name + '_min'], units)} to {scaled(row[name + '_max'], units)})"


def table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    """A plain left-aligned text table."""
    cells = [[str(row.get(column, "")) for column in columns] for row in rows]
    widths = [max(len(column), *(len(c[i]) for c in cells)) for i, column in enumerate(columns)]
    head = "  ".join(column.ljust(width) for column, width in zip(columns, widths, strict=True))
    body = ["  ".join(c.ljust(width) for c, width in zip(cell, widths, strict=True)) for cell in cells]
    return "\n".join([head, "-" * len(head), *body])


def emit(args: argparse.Namespace, data: Any, text: Callable[[], str]) -> int:
    """Print ``data`` as one JSON object with ``--json``, else ``text()``; exit code 0."""
    print(json.dumps(data, indent=2) if args.json else text())
    return 0
