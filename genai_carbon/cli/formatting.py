"""Text output shared by the commands: numbers a person reads, values in scaled units, plain tables, the JSON-or-text switch.

Every number of a text output goes through this module: digits grouped by
thousands (``150,000,000``), never scientific notation (``0.0000125``, not
``1.25e-05``), and quantities in the unit they reach (``0.314 Wh``,
``12.5 kWh``, ``3.2 tCO2e``, ``850 mL``). ``--json`` prints the numbers as they
are, unrounded.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from typing import Any

from traitement.export import check_finite

ENERGY_UNITS_KWH = ((1e-3, "Wh"), (1.0, "kWh"), (1e3, "MWh"), (1e6, "GWh"))
CARBON_UNITS_G = ((1.0, "gCO2e"), (1e3, "kgCO2e"), (1e6, "tCO2e"))
WATER_UNITS_L = ((1e-3, "mL"), (1.0, "L"), (1e3, "m3"))


def number(value: float, digits: int = 3) -> str:
    """``value`` with ``digits`` significant digits after the point, grouped, without exponent: 2250.3 -> '2,250', 1.249e-05 -> '0.0000125'.

    The whole part is never cut: 123456789.0 -> '123,456,789'. Integers print whole (150000000 -> '150,000,000').
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    exponent = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - exponent)
    text = f"{value:,.{decimals}f}"
    if decimals and "." in text:  # 2.50 -> 2.5, 3.000 -> 3
        text = text.rstrip("0").rstrip(".")
    return text


def exact(value: float) -> str:
    """``value`` in full, as typed in a config file, grouped and without exponent: 8.91e-05 -> '0.0000891', 1500000.0 -> '1,500,000'."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if not math.isfinite(value):
        return str(value)
    mantissa, _, power = repr(float(value)).partition("e")
    decimals = len(mantissa.partition(".")[2].rstrip("0"))
    decimals = max(0, decimals - int(power or 0))
    return f"{value:,.{decimals}f}"


def percent(fraction: float) -> str:
    """A fraction as a percentage: 0.6 -> '60%', 0.125 -> '12.5%'."""
    return f"{number(fraction * 100)}%"


def scaled(value: float, units: Sequence[tuple[float, str]], digits: int = 3) -> str:
    """``value`` in the largest unit it reaches, e.g. 0.00031 kWh -> '0.314 Wh', 1.5e7 gCO2e -> '15 tCO2e'."""
    factor, unit = units[0]
    for candidate_factor, candidate_unit in units:
        if abs(value) >= candidate_factor:
            factor, unit = candidate_factor, candidate_unit
    return f"{number(value / factor, digits)} {unit}"


def energy(value_kwh: float, digits: int = 3) -> str:
    """Energy given in kWh, in Wh, kWh, MWh or GWh."""
    return scaled(value_kwh, ENERGY_UNITS_KWH, digits)


def carbon(value_g: float, digits: int = 3) -> str:
    """Carbon given in gCO2e, in g, kg or t."""
    return scaled(value_g, CARBON_UNITS_G, digits)


def water(value_l: float, digits: int = 3) -> str:
    """Water given in litres, in mL, L or m3."""
    return scaled(value_l, WATER_UNITS_L, digits)


def ranged(row: dict[str, Any], name: str, units: Sequence[tuple[float, str]], suffix: str = "") -> str:
    """``name`` of ``row`` with its ``_min`` to ``_max`` range, e.g. '0.314 Wh per request  (range 0.0308 Wh to 2.31 Wh)'."""
    return f"{scaled(row[name], units)}{suffix}  (range {scaled(row[name + '_min'], units)} to {scaled(row[name + '_max'], units)})"


def table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    """A plain left-aligned text table; numbers in cells are written by :func:`number`; no rows: the head and ``(none)``."""
    cells = [[_cell(row.get(column, "")) for column in columns] for row in rows]
    widths = [max([len(column), *(len(c[i]) for c in cells)]) for i, column in enumerate(columns)]
    head = "  ".join(column.ljust(width) for column, width in zip(columns, widths, strict=True))
    body = ["  ".join(c.ljust(width) for c, width in zip(cell, widths, strict=True)) for cell in cells]
    return "\n".join([head, "-" * len(head), *(body or ["(none)"])])


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float | int) and not isinstance(value, bool):
        return exact(value)
    return str(value)


def to_json(data: Any) -> str:
    """``data`` as indented JSON, always valid: NaN or an infinity raises a one-line error naming where it is (exit code 1)."""
    try:
        return json.dumps(data, indent=2, allow_nan=False)
    except ValueError:
        check_finite(data)  # names the value
        raise


def emit(args: argparse.Namespace, data: Any, text: Callable[[], str]) -> int:
    """Print ``data`` as one JSON object with ``--json``, else ``text()``; exit code 0."""
    sys.stdout.write((to_json(data) if args.json else text()) + "\n")
    return 0
