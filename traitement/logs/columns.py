"""The canonical columns of a request log, and the rules their values follow.

Every format (CSV, JSON Lines, Parquet, and the providers' usage exports of
:mod:`.providers`) is read into these columns by :mod:`.formats`; the checks
(:mod:`.checks`) and the sums (:mod:`.query`) only ever see them. A new number
column is one more :class:`NumberRule` here.

Two shapes of rows exist. A request log (CSV, JSON Lines, Parquet) gives the
tokens of ONE request and how many such requests (``count``): the sums are
``tokens x count``. A provider's usage export gives, per row, the tokens
SUMMED over the row's requests (an OpenAI bucket's ``num_model_requests``
requests, an Anthropic bucket's, one LiteLLM or OpenTelemetry request): its
rows are *totals* (:data:`TOTAL_NUMBERS`), summed as they are. In both shapes
cached input tokens are part of the input tokens and reasoning tokens part of
the output tokens (OpenAI's convention; each provider's is converted to it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from ..core import MAX_COUNT, MAX_TOKENS


@dataclass(frozen=True)
class NumberRule:
    """A column of integers: its smallest and largest value and, if it may be empty, the value an empty cell takes."""

    maximum: int
    default: int | None = None
    minimum: int = 1

    @property
    def allowed(self) -> str:
        empty = f" (empty: {self.default})" if self.default is not None else ""
        return f"an integer from {self.minimum} to {self.maximum:,}{empty}"


NUMBERS = {
    "input_tokens": NumberRule(MAX_TOKENS),
    "output_tokens": NumberRule(MAX_TOKENS),
    "count": NumberRule(MAX_COUNT, default=1),
    "cached_input_tokens": NumberRule(MAX_TOKENS, default=0, minimum=0),
    "reasoning_tokens": NumberRule(MAX_TOKENS, default=0, minimum=0),
}
"""Number columns of a request log (tokens of one request) and their rules, in the order their problems are reported."""
MAX_TOTAL_TOKENS = 10**18
"""Largest token sum of one row of a usage export (a BIGINT holds it; 10^11 requests of 10^7 tokens)."""
TOTAL_NUMBERS = {
    "input_tokens": NumberRule(MAX_TOTAL_TOKENS, minimum=0),
    "output_tokens": NumberRule(MAX_TOTAL_TOKENS, minimum=0),
    "count": NumberRule(MAX_COUNT, default=1, minimum=0),
    "cached_input_tokens": NumberRule(MAX_TOTAL_TOKENS, default=0, minimum=0),
    "reasoning_tokens": NumberRule(MAX_TOTAL_TOKENS, default=0, minimum=0),
}
"""The same columns in a usage export, where tokens are sums over the row's ``count`` requests (zero allowed: a bucket
may hold requests that wrote nothing); a row's mean request stays within MAX_TOKENS (checked in :mod:`.checks`)."""
NUMBER_COLUMNS = tuple(NUMBERS)
TOKEN_COLUMNS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_tokens")
PARTS = {"cached_input_tokens": "input_tokens", "reasoning_tokens": "output_tokens"}
"""A part -> the whole it belongs to: cached input tokens are input tokens, reasoning tokens are output tokens."""
REQUIRED_COLUMNS = ("input_tokens", "output_tokens")
TIME_COLUMN = "timestamp"
SITE_COLUMNS = ("hardware", "region", "datacenter")
"""Name columns that choose the formulas' inputs: a serving setup and a site (checked against the config)."""
LABEL_COLUMNS = ("profile", "model")
"""Name columns carried in every sum: a profile is checked against the config, a model against the data pack
(a row with a model gets that model's estimate)."""
NAME_COLUMNS = (*SITE_COLUMNS, *LABEL_COLUMNS)
KEY_COLUMNS = ("provider", "project_id", "workspace_id", "team_id", "api_key_id", "user_id", "service_tier", "batch", "context_window", "service")
"""Grouping keys of the providers' exports (any log may carry them): free text, summed apart only when grouped by."""
LOG_COLUMNS = (*NUMBER_COLUMNS, TIME_COLUMN, *NAME_COLUMNS, *KEY_COLUMNS)
OPTIONAL_COLUMNS = tuple(column for column in LOG_COLUMNS if column not in REQUIRED_COLUMNS)
TIME_KEYS = ("day", "month")
GROUP_BY = (*NAME_COLUMNS, *KEY_COLUMNS, *TIME_KEYS)
"""Allowed ``group_by`` keys: the name columns, the providers' keys, and ``day``/``month`` (UTC) of the timestamp."""

EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc)
"""Timestamps are accepted from ``EARLIEST`` (included) to ``LATEST`` (excluded), UTC: a request log of a
generative-AI service holds nothing older, and a later date is a unit mistake (milliseconds read as seconds)."""
TIME_ALLOWED = "ISO 8601 date and time, e.g. 2025-03-01T14:05:00Z, or Unix seconds"
TIME_RANGE = f"from {EARLIEST:%Y-%m-%d} to {LATEST.year - 1}-12-31 UTC (Unix seconds, not milliseconds)"
