"""The canonical columns of a request log, and the rules their values follow.

Every format (CSV, JSON Lines, Parquet, later the providers' usage exports) is
read into these columns by :mod:`.formats`; the checks (:mod:`.checks`) and the
sums (:mod:`.query`) only ever see them. A new number column (for example
``cached_input_tokens``) is one more :class:`NumberRule` here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from ..core import MAX_COUNT, MAX_TOKENS


@dataclass(frozen=True)
class NumberRule:
    """A column of positive integers: its largest value and, if it may be empty, the value an empty cell takes."""

    maximum: int
    default: int | None = None

    @property
    def allowed(self) -> str:
        empty = f" (empty: {self.default})" if self.default is not None else ""
        return f"an integer from 1 to {self.maximum:,}{empty}"


NUMBERS = {
    "input_tokens": NumberRule(MAX_TOKENS),
    "output_tokens": NumberRule(MAX_TOKENS),
    "count": NumberRule(MAX_COUNT, default=1),
}
"""Number columns and their rules, in the order their problems are reported."""
NUMBER_COLUMNS = tuple(NUMBERS)
REQUIRED_COLUMNS = ("input_tokens", "output_tokens")
TIME_COLUMN = "timestamp"
SITE_COLUMNS = ("hardware", "region", "datacenter")
"""Name columns that choose the formulas' inputs: a serving setup and a site (checked against the config)."""
LABEL_COLUMNS = ("profile", "model")
"""Name columns carried as labels: a profile is checked against the config, a model is free text."""
NAME_COLUMNS = (*SITE_COLUMNS, *LABEL_COLUMNS)
LOG_COLUMNS = (*NUMBER_COLUMNS, TIME_COLUMN, *NAME_COLUMNS)
TIME_KEYS = ("day", "month")
GROUP_BY = (*NAME_COLUMNS, *TIME_KEYS)
"""Allowed ``group_by`` keys: the name columns, and ``day``/``month`` (UTC) of the timestamp."""

EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc)
"""Timestamps are accepted from ``EARLIEST`` (included) to ``LATEST`` (excluded), UTC: a request log of a
generative-AI service holds nothing older, and a later date is a unit mistake (milliseconds read as seconds)."""
TIME_ALLOWED = "ISO 8601 date and time, e.g. 2025-03-01T14:05:00Z, or Unix seconds"
TIME_RANGE = f"from {EARLIEST:%Y-%m-%d} to {LATEST.year - 1}-12-31 UTC (Unix seconds, not milliseconds)"
