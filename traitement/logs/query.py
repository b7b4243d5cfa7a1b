"""The sums and the period: ONE SQL query over the checked rows, the same for every engine.

:func:`sums_sql` groups the checked rows (:func:`.checks.checked_sql`) by the
raw name columns (hardware, region, datacenter, profile, model), the
providers' keys grouped by, and the time keys (day, month), and sums, per
group: rows, bad rows, requests, input, cached input, output and reasoning
tokens (exact: ``HUGEINT``; ``tokens x count`` for a request log, the tokens as
they are for a usage export, whose rows are already sums), the square of input
tokens when the method needs it, and the first and last timestamp. The physics then runs
once per distinct setup on these sums (:mod:`.report`).

The result of one query (a file, or one Dask partition) is a :class:`Partial`;
partials add up (:meth:`Partial.merge`), so the Dask engine's merged partials
equal the one-query result exactly (integers, min and max).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .checks import CheckPlan, checked_sql
from .columns import KEY_COLUMNS, NAME_COLUMNS, NUMBER_COLUMNS, TIME_COLUMN

SUM_NAMES = ("rows", "bad", "requests", "input_tokens", "cached_input_tokens", "output_tokens", "reasoning_tokens", "input_tokens_squared")
"""The summed values of a cell, in order (integers); then the first and last timestamp."""
FIRST, LAST = len(SUM_NAMES), len(SUM_NAMES) + 1
"""Positions of the first and last timestamp in a cell's values."""


def key_columns(columns: dict[str, str], time_keys: tuple[str, ...], keys: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The grouping columns of the sums: ``_blank``, the name columns present, the providers' keys grouped by, the time keys."""
    return ("_blank", *(column for column in (*NAME_COLUMNS, *KEY_COLUMNS) if column in columns and (column in NAME_COLUMNS or column in keys)), *time_keys)


def presence_columns(columns: dict[str, str], dynamic: bool) -> tuple[str, ...]:
    """Columns whose non-empty cells are counted, for formats whose columns exist only where rows have them;
    ``_record`` counts the records that are not objects with distinct keys."""
    if not dynamic:
        return ()
    return (*(column for column in (*NUMBER_COLUMNS, TIME_COLUMN) if column in columns), "_record")


def sums_sql(source: str, columns: dict[str, str], plan: CheckPlan, *, quadratic: bool, dynamic: bool, limit: int) -> str:
    """The grouped sums of ``source``'s checked rows, at most ``limit`` groups."""
    keys = key_columns(columns, plan.time_keys, plan.keys)
    weighted = "count" in columns and not plan.totals  # a usage export's tokens are already summed over its requests
    times_count = " * _c" if weighted else ""

    def total(value: str, column: str) -> str:
        if column not in columns:
            return "0::HUGEINT"
        return f"sum({value}::HUGEINT{times_count})"

    values = [
        "count(*)",
        "count_if(_bad)",
        "sum(_c)" if "count" in columns else "count(_i)",
        total("_i", "input_tokens"),
        total("_ci", "cached_input_tokens"),
        total("_o", "output_tokens"),
        total("_ro", "reasoning_tokens"),
        f"sum(_i::HUGEINT * _i{times_count})" if quadratic else "NULL::HUGEINT",
        "min(_ts)",
        "max(_ts)",
        *(f"count({'_record' if column == '_record' else column + '__text'})" for column in presence_columns(columns, dynamic)),
    ]
    return f"SELECT {', '.join(keys)}, {', '.join(values)} FROM ({checked_sql(source, columns, plan)}) GROUP BY ALL LIMIT {limit}"


def locate_sql(source: str, columns: dict[str, str], plan: CheckPlan, *, shown: int, ordered: bool) -> str:
    """The first ``shown`` bad rows of ``source`` (an ordered scan with ``_position``), with their codes and cells."""
    order = " ORDER BY _position" if ordered else ""
    return f"SELECT * FROM ({checked_sql(source, columns, plan, position=True)}) WHERE _bad{order} LIMIT {shown}"


@dataclass
class Partial:
    """Grouped sums of some rows: ``cells`` maps a key (the values of ``keys``) to SUM_NAMES + [first, last, presence...]."""

    keys: tuple[str, ...]
    cells: dict[tuple, list] = field(default_factory=dict)
    presence: tuple[str, ...] = ()
    rejected: bool = False
    """Some rows did not parse (DuckDB's reject table is not empty)."""

    def add_rows(self, rows: Iterable[tuple]) -> None:
        width = len(self.keys)
        for row in rows:
            key, values = tuple(row[:width]), list(row[width:])
            if key in self.cells:
                self.cells[key] = _add(self.cells[key], values)
            else:
                self.cells[key] = values

    def merge(self, other: Partial) -> None:
        """Add ``other``'s sums (same keys)."""
        self.add_rows(key + tuple(values) for key, values in other.cells.items())
        self.rejected = self.rejected or other.rejected


def _add(a: list, b: list) -> list:
    n = len(SUM_NAMES)
    out = [(x or 0) + (y or 0) if (x is not None or y is not None) else None for x, y in zip(a[:n], b[:n], strict=True)]
    first = min((t for t in (a[FIRST], b[FIRST]) if t is not None), default=None)
    last = max((t for t in (a[LAST], b[LAST]) if t is not None), default=None)
    presence = [x + y for x, y in zip(a[n + 2 :], b[n + 2 :], strict=True)]
    return [*out, first, last, *presence]


def as_int(value: Any) -> int:
    """A DuckDB sum (int, or None for no rows) as an int."""
    return int(value) if value is not None else 0
