"""Caps on the work one log may cause, so a hostile or careless file gets an error naming the cap.

Every cap is checked before the rows are read where the file says how big it
is (Parquet metadata: rows and row groups; a CSV header), and by DuckDB while
it reads (line length); the number of groups is capped when the grouped sums
come back. The command line and the API take them from the settings
(``GENAI_CARBON_BATCH_MAX_ROWS``... :meth:`Limits.from_settings`); the core
reads no environment.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

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
    max_document_bytes: int = 64 << 20
    """Bytes of one JSON document of a usage export (a page, a trace request): a line of JSON Lines, or the whole file."""
    max_groups: int = 10_000
    """Groups in the answer (``--group-by`` with one label per row would otherwise answer one group per row)."""
    max_cells: int = 100_000
    """Distinct (hardware, region, datacenter, profile, model, group) combinations summed by DuckDB."""
    memory_limit_mb: int = 1_024
    """DuckDB's memory limit in MiB; past it, DuckDB spills to a temporary folder."""
    threads: int = 0
    """DuckDB threads; 0: one per core."""

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        """The caps of a :class:`traitement.settings.Settings` (its ``batch_*`` fields)."""
        return cls(
            max_rows=settings.batch_max_rows,
            max_row_groups=settings.batch_max_row_groups,
            max_line_bytes=settings.batch_max_line_bytes,
            max_document_bytes=settings.batch_max_document_bytes,
            max_groups=settings.batch_max_groups,
            max_cells=settings.batch_max_cells,
            memory_limit_mb=settings.batch_memory_mb,
            threads=settings.batch_threads,
        )

    def __post_init__(self) -> None:
        for spec in fields(self):
            value = getattr(self, spec.name)
            minimum = 0 if spec.name == "threads" else 1
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise InvalidInputError(f"limits.{spec.name}: must be an integer >= {minimum} (got {value!r})", code="invalid-limit")


class CapError(InvalidInputError):
    """A log is over one of the :class:`Limits`; the message names the cap, its value and its setting."""

    code = "over-cap"
    http_status = 413


def setting(cap: str) -> str:
    """The environment variable of a cap: ``max_rows`` -> ``GENAI_CARBON_BATCH_MAX_ROWS``."""
    from ..settings import variable

    return variable("batch_memory_mb" if cap == "memory_limit_mb" else f"batch_{cap}")
