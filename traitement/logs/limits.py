"""Caps on the work one log may cause, so a hostile or careless file gets an error naming the cap.

Every cap is checked before the rows are read where the file says how big it
is (Parquet metadata: rows and row groups; a CSV header), and by DuckDB while
it reads (line length); the number of groups is capped when the grouped sums
come back. The API passes tighter caps than the command line (a server runs
uploads from strangers); both come from settings at the edge, never from here.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from ..errors import InvalidInputError


@dataclass(frozen=True)
class Limits:
    """Caps on one log estimate; each must be a positive integer."""

    max_rows: int = 100_000_000
    """Rows of a Parquet file, read from its metadata before any row is (a 1 MB file can hold 200 million rows)."""
    max_row_groups: int = 4_096
    """Parquet row groups (10,000 one-row groups cost more than a million rows in a few groups)."""
    max_line_bytes: int = 1 << 20
    """Bytes of one CSV or JSON Lines line (DuckDB's ``max_line_size``); also bounds JSON nesting."""
    max_columns: int = 1_000
    """Fields in a CSV header."""
    max_groups: int = 10_000
    """Groups in the answer (``--group-by`` with one label per row would otherwise answer one group per row)."""
    max_cells: int = 100_000
    """Distinct (hardware, region, datacenter, profile, model, group) combinations summed by DuckDB."""
    memory_limit_mb: int = 1_024
    """DuckDB's memory limit in MiB; past it, DuckDB spills to a temporary folder."""
    threads: int = 0
    """DuckDB threads; 0: one per core."""

    def __post_init__(self) -> None:
        for spec in fields(self):
            value = getattr(self, spec.name)
            minimum = 0 if spec.name == "threads" else 1
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise InvalidInputError(f"limits.{spec.name}: must be an integer >= {minimum} (got {value!r})", code="invalid-limit")


class CapError(InvalidInputError):
    """A log is over one of the :class:`Limits`; the message names the cap and its value."""

    code = "over-cap"
    http_status = 413
