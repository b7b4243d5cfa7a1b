"""Estimate a log of requests: CSV, JSON Lines or Parquet, one request kind per row.

A log has the columns ``input_tokens`` and ``output_tokens`` and, optionally,
``count`` (default 1), ``timestamp``, ``hardware``, ``region``, ``datacenter``
(which choose the formulas' inputs), ``profile`` and ``model`` (labels).

The work is column-wise. :func:`summarise` takes one block of rows (a pandas
DataFrame), checks every row with array operations, runs
:func:`traitement.footprint` once per distinct (hardware, region, datacenter)
over the block's columns, central and at the low and high bounds, and returns
the sums per group. Blocks come from a streaming reader (pyarrow) or from the
partitions of a Dask dataframe; their sums add up, so memory is bounded by the
block size, not the file size.

A bad row is never dropped: the whole log is rejected with
:class:`BadRowsError`, which names the first lines at fault and how many there
are. No numpy, pandas, pyarrow or dask is imported at module level: the
one-off CLI imports this module.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from . import methods, reference
from .config import Config
from .core import DEFAULT_METHOD, MAX_COUNT, MAX_TOKENS, footprint
from .errors import InvalidInputError, UnknownNameError
from .presets import modele_from_config, site_from_config

FORMATS = ("csv", "jsonl", "parquet")
EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
ENGINES = ("pandas", "dask")

NUMBER_COLUMNS = ("input_tokens", "output_tokens", "count")
REQUIRED_COLUMNS = ("input_tokens", "output_tokens")
SITE_COLUMNS = ("hardware", "region", "datacenter")
"""Columns that choose the formulas' inputs: a serving setup and a site."""
LABEL_COLUMNS = ("profile", "model")
"""Columns carried through as grouping labels (a profile name is checked against the config)."""
LOG_COLUMNS = (*NUMBER_COLUMNS, "timestamp", *SITE_COLUMNS, *LABEL_COLUMNS)
GROUP_BY = (*SITE_COLUMNS, *LABEL_COLUMNS, "day", "month")
"""Allowed ``group_by`` keys: the name columns, and ``day``/``month`` (UTC) of the timestamp."""

QUANTITIES = ("energy_gpu_kwh", "energy_cpu_kwh", "energy_it_kwh", "energy_kwh", "carbon_gco2eq", "water_l", "carbon_embodied_gco2eq")
SUMS = ("requests", "input_tokens", "output_tokens", *(f"{name}{suffix}" for name in QUANTITIES for suffix in ("", "_min", "_max")))
"""The summed columns of every total and group, in output order."""
_SIDES: tuple[tuple[str, Literal["low", "high"] | None], ...] = (("", None), ("_min", "low"), ("_max", "high"))
_INTEGER_SUMS = ("requests", "input_tokens", "output_tokens")
# Position in SUMS of [requests, tokens in, tokens out, quantities central..., low..., high...].
_SUM_ORDER = [0, 1, 2, *(3 + side * len(QUANTITIES) + q for q in range(len(QUANTITIES)) for side in range(3))]
LINEAR_METHODS = frozenset({methods.hardware.NAME})
"""Methods whose figures are linear in tokens x count: rows are summed per (setup, group) before footprint."""
AGGREGATE_FIRST = True
"""False: run footprint over every row even for a linear method (the tests compare both)."""
PARALLEL_ROWS = 200_000
"""Blocks with at least this many rows and several setups use a thread per core."""

MAX_SHOWN = 10
"""Bad rows named in an error message; the rest are counted."""
CSV_BLOCK_BYTES = 16 << 20
"""Bytes of CSV or JSON Lines read per block (about 800,000 rows of 20 bytes)."""
PARQUET_BATCH_ROWS = 1 << 20
"""Rows of Parquet read per batch."""
EXACT_PASS_ROWS = 1 << 16
"""Rows per block in the exact (line-by-line) pass that locates bad lines."""

_TOKEN_RULE = f"an integer from 1 to {MAX_TOKENS:,}"
_RULES = {"input_tokens": _TOKEN_RULE, "output_tokens": _TOKEN_RULE, "count": f"an integer from 1 to {MAX_COUNT:,} (empty: 1)"}
_MAXIMA = {"input_tokens": MAX_TOKENS, "output_tokens": MAX_TOKENS, "count": MAX_COUNT}


class BadRowsError(InvalidInputError):
    """Rows of a log are invalid; ``lines`` holds the first ones (line, message), ``total`` how many."""

    code = "bad-rows"

    def __init__(self, message: str, lines: Sequence[tuple[int, str]] = (), total: int = 0) -> None:
        super().__init__(message)
        self.lines = list(lines)
        self.total = total


# --- the plan: names resolved once, value objects built once per combination -------------------


@dataclass
class Plan:
    """What :func:`summarise` needs besides the rows: config, defaults, method, grouping."""

    config: Config
    hardware: str
    region: str
    datacenter: str
    method: str = DEFAULT_METHOD
    group_by: tuple[str, ...] = ()
    datacenter_given: bool = False  # else a cloud region's rows take their provider's preset, not the default
    _names: dict[tuple[str, str], str | None] = field(default_factory=dict, repr=False)
    _known: dict[str, str] = field(default_factory=dict, repr=False)
    _setups: dict[tuple[str, str, str], Any] = field(default_factory=dict, repr=False)

    def resolve(self, column: str, name: str) -> str | None:
        """The config's name for ``name`` in ``column`` (case-insensitive, ISO codes for regions), or None if unknown."""
        key = (column, name)
        if key not in self._names:
            lookup = getattr(self.config, column)
            try:
                self._names[key] = lookup(name)[0]
            except UnknownNameError as error:
                self._names[key] = None
                message = str(error)  # the closest names (data pack), or the known ones (config presets)
                closest = message.split("; closest: ", 1)[1] if "; closest: " in message else ""
                self._known[column] = f"closest: {closest}" if closest else "known: " + message.rsplit("known: ", 1)[-1]
        return self._names[key]

    def known(self, column: str) -> str:
        return self._known.get(column, "")

    def setups(self, hardware: str, region: str, datacenter: str) -> dict[str | None, tuple[Any, Any]]:
        """``(Modele, Site)`` central and at each side, built once per combination."""
        key = (hardware, region, datacenter)
        if key not in self._setups:
            _, modele = modele_from_config(self.config, hardware)
            center = None if datacenter == self.datacenter and not self.datacenter_given else datacenter
            site = site_from_config(self.config, region, center)
            self._setups[key] = {side: (modele, site) if side is None else (modele.at(side), site.at(side)) for _, side in _SIDES}
        return self._setups[key]


def make_plan(
    config: Config,
    hardware: str | None = None,
    region: str | None = None,
    datacenter: str | None = None,
    method: str = DEFAULT_METHOD,
    group_by: Sequence[str] = (),
) -> Plan:
    """Check the defaults, method and grouping keys; raise a one-line error naming the bad one."""
    methods.get(method, "batch")  # an unknown method is a one-line error naming the allowed ones
    keys: list[str] = []
    for key in group_by:
        key = key.strip().lower()
        if key not in GROUP_BY:
            raise InvalidInputError(f"group_by: unknown column {key!r}; allowed: {', '.join(GROUP_BY)}", code="unknown-group-by")
        if key not in keys:
            keys.append(key)
    return Plan(
        config=config,
        hardware=config.hardware(hardware)[0],
        region=config.region(region)[0],
        datacenter=config.datacenter(datacenter)[0],
        method=method,
        group_by=tuple(keys),
        datacenter_given=datacenter is not None,
    )


# --- one block of rows -> sums per group ------------------------------------------------------


@dataclass
class Partial:
    """The sums of one block of rows, by group; and its bad rows (indices within the block)."""

    sums: dict[tuple, Any] = field(default_factory=dict)
    rows: int = 0
    blank: int = 0
    bad: int = 0
    errors: list[tuple[int, str, str, str]] = field(default_factory=list)
    """(row line, message, hint key, hint): the hint (known names, allowed values) is shown once per key."""
    defaulted: dict[str, int] = field(default_factory=dict)
    first: Any = None
    last: Any = None


def summarise(frame: Any, plan: Plan, lines: Any = None, first_line: int = 1) -> Partial:
    """Check and estimate one block of rows; vectorised, no loop over rows.

    ``frame`` is a pandas DataFrame holding any of :data:`LOG_COLUMNS`.
    Row ``i`` is reported as line ``lines[i]`` if given, else ``first_line + i``.
    """
    import numpy as np

    n = len(frame)
    line_of = np.asarray(lines, dtype=np.int64) if lines is not None else None
    columns: Any = [name for name in LOG_COLUMNS if name in frame.columns]
    part = Partial()
    # A blank line (every cell empty) is not a request: counted, not estimated.
    blank = frame["input_tokens"].isna().to_numpy() if "input_tokens" in frame.columns else np.ones(n, bool)
    if blank.any():
        blank = blank & np.logical_and.reduce([frame[name].isna().to_numpy() for name in columns])
    if blank.any():
        part.blank = int(blank.sum())
        line_of = (first_line + np.arange(n, dtype=np.int64) if line_of is None else line_of)[~blank]
        frame = frame[~blank]
        n = len(frame)
    part.rows = n
    checks = _Checks(n)
    if n:
        _require(list(frame.columns), Path("log"))
    numbers = {name: _numbers(frame[name], name, checks) for name in NUMBER_COLUMNS if name in frame.columns}
    count = numbers.get("count")
    if count is not None:
        count = np.where(np.isnan(count), 1.0, count)
    keys = {name: _names(frame, name, plan, checks, part) for name in (*SITE_COLUMNS, *LABEL_COLUMNS)}
    if "timestamp" in frame.columns:
        keys.update(_times(frame["timestamp"], plan, checks, part))
    for key in plan.group_by:
        if keys.get(key) is None:
            need = "timestamp" if key in ("day", "month") else key
            raise BadRowsError(f"group_by {key}: the log has no {need!r} column")
    bad = checks.bad
    if bad.any():
        part.bad = int(bad.sum())
        part.errors = checks.describe(first_line + np.arange(n, dtype=np.int64) if line_of is None else line_of)
        return part
    if n == 0:
        return part

    # One group code per row over the group-by columns, and one setup code per row.
    group_code, group_labels = _combine([keys[key] for key in plan.group_by], n)
    setup_code, setup_labels = _combine([keys[name] for name in SITE_COLUMNS], n)
    n_groups = len(group_labels)
    if plan.method in LINEAR_METHODS and AGGREGATE_FIRST:
        acc = _linear_sums(numbers["input_tokens"], numbers["output_tokens"], count, setup_code, setup_labels, group_code, n_groups, plan)
        for code, labels in enumerate(group_labels):
            if acc[code, 0] > 0:
                part.sums[labels] = acc[code]
        return part
    columns = {"input_tokens": numbers["input_tokens"], "output_tokens": numbers["output_tokens"], "count": count}
    if n_groups > 1:
        columns["group"] = group_code
    starts: Any = [0, n]
    used = [code for code in range(len(setup_labels))]
    if len(setup_labels) > 1:
        # Rows of one setup side by side (a stable radix sort of small codes), so each setup is one slice.
        order = np.argsort(setup_code.astype(np.int16 if len(setup_labels) < 1 << 15 else np.int64), kind="stable")
        columns = {name: None if values is None else np.take(values, order) for name, values in columns.items()}
        sizes = np.bincount(setup_code, minlength=len(setup_labels))
        starts = np.concatenate([[0], np.cumsum(sizes)])
        used = np.flatnonzero(sizes).tolist()

    def setup_sums(code: int) -> Any:
        """The SUMS of one setup's rows, per group: footprint central, low and high over the slice."""
        rows = slice(int(starts[code]), int(starts[code + 1]))
        tokens_in, tokens_out = columns["input_tokens"][rows], columns["output_tokens"][rows]
        weight = 1.0 if count is None else columns["count"][rows]
        sums = [np.broadcast_to(weight, tokens_in.shape), tokens_in * weight, tokens_out * weight]
        for _, side in _SIDES:
            modele, site = plan.setups(*setup_labels[code])[side]
            values = footprint(tokens_in, tokens_out, weight, modele, site, plan.method)
            sums += [values[name] for name in QUANTITIES]
        out = np.empty((n_groups, len(SUMS)))
        for column, position in enumerate(_SUM_ORDER):
            if n_groups == 1:
                out[0, column] = np.add.reduce(sums[position], axis=None)
            else:
                out[:, column] = np.bincount(columns["group"][rows], weights=sums[position], minlength=n_groups)
        return out

    if len(used) > 1 and n >= PARALLEL_ROWS:
        # numpy releases the GIL on large arrays: setups run side by side on the cores.
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(len(used), os.cpu_count() or 1)) as pool:
            acc = sum(pool.map(setup_sums, used))
    else:
        acc = sum(setup_sums(code) for code in used)
    for code, labels in enumerate(group_labels):
        if acc[code, 0] > 0:
            part.sums[labels] = acc[code]
    return part


def _linear_sums(tokens_in: Any, tokens_out: Any, count: Any, setup_code: Any, setup_labels: list, group_code: Any, n_groups: int, plan: Plan) -> Any:
    """SUMS per group when every quantity is linear in (tokens x count), as with the ``hardware`` method.

    busy_s = (input_tokens / prefill + output_tokens / decode) x count, and
    every energy, carbon and water figure is busy_s times constants of the
    setup and site. So the sum over rows equals :func:`footprint` applied to
    the per-(setup, group) sums of input_tokens x count and output_tokens x count:
    three weighted counts per row, then footprint over the group columns.
    ``tests/test_batch.py`` checks this against footprint over the rows.
    """
    import numpy as np

    n_setups = len(setup_labels)
    cell = setup_code * n_groups + group_code if n_setups > 1 else group_code
    size = n_setups * n_groups
    if count is None:
        requests: Any = np.bincount(cell, minlength=size).astype(np.float64)
        sum_in: Any = np.bincount(cell, weights=tokens_in, minlength=size)
        sum_out: Any = np.bincount(cell, weights=tokens_out, minlength=size)
    else:
        requests = np.bincount(cell, weights=count, minlength=size)
        sum_in = np.bincount(cell, weights=tokens_in * count, minlength=size)
        sum_out = np.bincount(cell, weights=tokens_out * count, minlength=size)
    requests, sum_in, sum_out = (a.reshape(n_setups, n_groups) for a in (requests, sum_in, sum_out))
    acc = np.zeros((n_groups, len(SUMS)))
    for code in np.flatnonzero(requests.sum(axis=1)).tolist():  # a loop over setups, not rows
        sums = [requests[code], sum_in[code], sum_out[code]]
        for _, side in _SIDES:
            modele, site = plan.setups(*setup_labels[code])[side]
            values = footprint(sum_in[code], sum_out[code], 1.0, modele, site, plan.method)
            sums += [values[name] for name in QUANTITIES]
        acc += np.stack([sums[position] for position in _SUM_ORDER], axis=1)
    return acc


class _Checks:
    """Masks of bad rows, each with its message; all arrays, no loop over rows."""

    def __init__(self, n: int) -> None:
        import numpy as np

        self.n = n
        self.items: list[tuple[Any, Callable[[int], str], str, str]] = []
        self.bad = np.zeros(n, bool)

    def add(self, mask: Any, message: Callable[[int], str], hint_key: str = "", hint: str = "") -> None:
        hint_key = hint_key and hint
        if mask.any():
            self.items.append((mask, message, hint_key, hint))
            self.bad |= mask

    def describe(self, line_of: Any) -> list[tuple[int, str, str, str]]:
        """Messages of the first :data:`MAX_SHOWN` bad rows (a loop over at most that many rows)."""
        import numpy as np

        out = []
        for row in np.flatnonzero(self.bad)[:MAX_SHOWN]:
            for mask, message, hint_key, hint in self.items:
                if mask[row]:
                    out.append((int(line_of[row]), message(row), hint_key, hint))
        return out


def _numbers(series: Any, name: str, checks: _Checks) -> Any:
    """A float column from numbers or numeric text; flags missing, non-numeric, non-integer and out-of-range values."""
    import numpy as np
    import pandas as pd

    kind = getattr(series.dtype, "kind", "O") if isinstance(series.dtype, np.dtype) else "O"
    if kind in "iu":  # numpy integers: no missing value possible
        raw_int = series.to_numpy()
        if len(raw_int) and raw_int.min() >= 1 and raw_int.max() <= _MAXIMA[name]:
            return raw_int.astype(np.float64)  # the common case: two reductions, no masks
        values = raw_int.astype(np.float64)
        missing = not_number = np.zeros(len(series), bool)
    elif kind == "f":
        values = series.to_numpy()
        missing, not_number = np.isnan(values), np.zeros(len(series), bool)
    elif pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        missing = series.isna().to_numpy()
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        not_number = np.zeros(len(series), bool)
    else:
        missing = series.isna().to_numpy()
        try:
            values = series.astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)
        except (ValueError, TypeError):
            values = pd.to_numeric(series.astype("object"), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        not_number = np.isnan(values) & ~missing
        if pd.api.types.is_bool_dtype(series.dtype) or series.dtype == object:
            # JSON true/false is not a count.
            is_bool = series.map(lambda value: isinstance(value, bool), na_action="ignore").fillna(False).to_numpy(bool)
            not_number |= is_bool
            values = np.where(is_bool, np.nan, values)
    with np.errstate(invalid="ignore"):
        fine = (values >= 1) & (values <= _MAXIMA[name]) & (values == np.floor(values))
    if name == "count":
        fine |= missing
    if fine.all():
        return values
    raw = series.to_numpy()
    rule = _RULES[name]
    if name != "count":
        checks.add(missing, lambda i: f"{name}: missing", name, f"allowed: {rule}")
    checks.add(not_number, lambda i: f"{name}: not a number (got {raw[i]!r})", name, f"allowed: {rule}")
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(values)
        checks.add(~finite & ~missing & ~not_number, lambda i: f"{name}: not a finite number (got {raw[i]!r})", name, f"allowed: {rule}")
        checks.add(finite & (values != np.floor(values)), lambda i: f"{name}: not an integer (got {values[i]:g})", name, f"allowed: {rule}")
        checks.add(finite & (values < 1), lambda i: f"{name}: below 1 (got {values[i]:g})", name, f"allowed: {rule}")
        checks.add(finite & (values > _MAXIMA[name]), lambda i: f"{name}: above {_MAXIMA[name]:,} (got {values[i]:g})", name, f"allowed: {rule}")
    return values


def _names(frame: Any, column: str, plan: Plan, checks: _Checks, part: Partial) -> tuple[Any, list] | None:
    """Codes and labels of a name column; unknown names are flagged; empty cells take the default."""
    import numpy as np
    import pandas as pd

    n = len(frame)
    default = getattr(plan, column, None)
    if column not in frame.columns:
        if default is None:
            return None
        part.defaulted[column] = n
        return np.zeros(n, np.int64), [default]
    series = frame[column]
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes, uniques = series.cat.codes.to_numpy(), list(series.cat.categories)
    else:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
    labels: list[Any] = []
    position: dict[Any, int] = {}
    to_label = np.empty(len(uniques) + 1, np.int64)
    unknown = np.zeros(len(uniques) + 1, bool)
    for i, raw in enumerate([*uniques, None]):  # a loop over distinct names, not rows
        if raw is None:
            label = default
        elif column == "model":
            label = str(raw).strip()
        else:
            label = plan.resolve(column, str(raw))
            unknown[i] = label is None
        position.setdefault(label, len(labels))
        if position[label] == len(labels):
            labels.append(label)
        to_label[i] = position[label]
    empty = int((codes < 0).sum())
    if empty:
        codes = np.where(codes < 0, len(uniques), codes)
    if empty and default is not None:
        part.defaulted[column] = empty
    if unknown.any():
        shown = np.asarray([*uniques, None], dtype=object)
        checks.add(unknown[codes], lambda i: f"{column} {shown[codes[i]]!r} unknown", column, plan.known(column))
    return to_label[codes], labels


def _times(series: Any, plan: Plan, checks: _Checks, part: Partial) -> dict[str, tuple[Any, list]]:
    """Day and month codes (UTC) of the timestamps; flags unparsable ones (and empty ones if grouping by time)."""
    import numpy as np
    import pandas as pd

    grouped_by_time = bool(set(plan.group_by) & {"day", "month"})
    if not grouped_by_time and pd.api.types.is_datetime64_any_dtype(series.dtype):
        # Native timestamps (Parquet) cannot be unparsable and are not grouped on: only the period is needed.
        first, last = series.min(), series.max()
        if not pd.isna(first):
            as_utc = [stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo is not None else stamp for stamp in (first, last)]
            part.first, part.last = (np.datetime64(stamp.to_datetime64(), "s") for stamp in as_utc)
        return {}
    missing = series.isna().to_numpy()
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        stamps = series.dt.tz_convert("UTC") if series.dt.tz is not None else series
    elif pd.api.types.is_numeric_dtype(series.dtype):
        stamps = pd.to_datetime(series, unit="s", utc=True, errors="coerce")
    else:
        stamps = pd.to_datetime(series.astype("object"), format="ISO8601", utc=True, errors="coerce")
    values = stamps.to_numpy(dtype="datetime64[s]") if stamps.dt.tz is None else stamps.dt.tz_localize(None).to_numpy(dtype="datetime64[s]")
    unparsed = np.isnat(values) & ~missing
    raw = series.to_numpy()
    hint = "allowed: ISO 8601 date and time, e.g. 2025-03-01T14:05:00Z, or Unix seconds"
    checks.add(unparsed, lambda i: f"timestamp: not a date and time (got {raw[i]!r})", "timestamp", hint)
    if set(plan.group_by) & {"day", "month"}:
        checks.add(missing, lambda i: "timestamp: missing (needed to group by day or month)", "timestamp", hint)
    as_s = values.view(np.int64)
    good = ~np.isnat(values)
    if good.all():
        part.first, part.last = values[as_s.argmin()], values[as_s.argmax()]
    elif good.any():
        part.first, part.last = values[good].min(), values[good].max()
    out: dict[str, tuple[Any, list]] = {}
    for key in set(plan.group_by) & {"day", "month"}:  # only computed when grouped by
        unit: Any = "D" if key == "day" else "M"
        steps = values.astype(f"datetime64[{unit}]")
        ok = good if not good.all() else None
        if ok is not None and not ok.any():
            out[key] = (np.zeros(len(values), np.int64), [None])
            continue
        as_int = steps.view(np.int64)
        if ok is None:
            low = as_int.min()
            codes = as_int - low
        else:
            low = as_int[ok].min()
            codes = np.where(ok, as_int - low, 0)
        present = np.flatnonzero(np.bincount(codes if ok is None else codes[ok], minlength=1))
        remap = np.zeros(codes.max() + 1, np.int64)
        remap[present] = np.arange(len(present))
        days = [str(np.datetime64(int(low + p), unit)) for p in present]  # a loop over distinct days
        out[key] = (remap[codes], days)
    return out


def _combine(keys: list[tuple[Any, list] | None], n: int) -> tuple[Any, list[tuple]]:
    """One code per row for a tuple of key columns, and the label tuple of each code."""
    import numpy as np
    import pandas as pd

    given: list[tuple[Any, list]] = [key for key in keys if key is not None] if keys else []
    if not given:
        return np.zeros(n, np.int64), [()]
    combined = np.zeros(n, np.int64)
    for codes, labels in given:
        combined = combined * len(labels) + codes
    space = 1
    for _, labels in given:
        space *= len(labels)
    if space <= 1 << 16:
        # Small: the combined code is the group; combinations without rows sum to zero and are dropped.
        import itertools

        return combined, list(itertools.product(*(labels for _, labels in given)))
    codes, used = pd.factorize(combined, sort=True)
    codes = np.asarray(codes, np.int64)
    labels = []
    for value in used:  # a loop over groups, not rows
        parts = []
        for _, names in reversed(given):
            value, digit = divmod(int(value), len(names))
            parts.append(names[digit])
        labels.append(tuple(reversed(parts)))
    return codes, labels


# --- merging blocks --------------------------------------------------------------------------


def merge(partials: Sequence[Partial]) -> Partial:
    """Add up the blocks' sums; keep the first bad rows (already numbered by line)."""
    total = Partial()
    for part in partials:
        for key, sums in part.sums.items():
            total.sums[key] = total.sums[key] + sums if key in total.sums else sums.copy()
        total.rows += part.rows
        total.blank += part.blank
        total.bad += part.bad
        total.errors.extend(part.errors[: max(0, MAX_SHOWN * 4 - len(total.errors))])
        for column, n in part.defaulted.items():
            total.defaulted[column] = total.defaulted.get(column, 0) + n
        if part.first is not None:
            total.first = part.first if total.first is None else min(total.first, part.first)
            total.last = part.last if total.last is None else max(total.last, part.last)
    return total


def raise_bad_rows(total: Partial, source: str, unit: str = "line") -> None:
    """One-line :class:`BadRowsError` naming the first bad rows, if there are any."""
    if not total.bad:
        return
    shown, seen, lines = [], set(), []
    by_line = sorted(total.errors, key=lambda error: error[0])
    first_lines = sorted({error[0] for error in by_line})[:MAX_SHOWN]
    for line, message, hint_key, hint in by_line:
        if line not in first_lines:
            continue
        text = f"{unit} {line}: {message}"
        if hint and hint_key not in seen:
            seen.add(hint_key)
            text += f" ({hint})"
        shown.append(text)
        lines.append((line, message))
    more = total.bad - len(first_lines)
    tail = f"; and {more:,} more bad rows" if more > 0 else ""
    plural = "s" if total.bad > 1 else ""
    raise BadRowsError(f"{source}: {total.bad:,} bad row{plural}, nothing estimated: {'; '.join(shown)}{tail}", lines, total.bad)


# --- reading a file in blocks ----------------------------------------------------------------


def detect_format(path: str | os.PathLike, fmt: str | None = None) -> str:
    """The log format: ``fmt`` if given, else from the file extension."""
    if fmt is not None:
        fmt = fmt.lower()
        if fmt not in FORMATS:
            raise InvalidInputError(f"format: unknown format {fmt!r}; allowed: {', '.join(FORMATS)}", code="unknown-format")
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix not in EXTENSIONS:
        raise InvalidInputError(f"{Path(path).name}: cannot tell the format from the extension {suffix!r}; use .csv, .jsonl or .parquet, or give the format")
    return EXTENSIONS[suffix]


def _require(present: list[str], path: Path) -> list[str]:
    """``present`` if it holds the required columns, else a one-line error."""
    missing = [name for name in REQUIRED_COLUMNS if name not in present]
    if missing:
        raise BadRowsError(f"{path.name}: missing column {missing[0]!r}; a log needs {' and '.join(REQUIRED_COLUMNS)} (optional: {', '.join(LOG_COLUMNS[2:])})")
    return present


class _NeedExactPass(Exception):
    """The fast reader cannot parse the file as typed: read it line by line to find the bad lines."""


@dataclass
class Reader:
    """Blocks of a log file as pandas DataFrames, with a progress measure (bytes or rows)."""

    path: Path
    fmt: str
    unit: str = "B"
    total: int = 0
    numbers_as_text: bool = False
    skip: frozenset[str] = frozenset()
    """Columns not read (a ``model`` column when not grouping by it: a label only)."""
    period_from_statistics: bool = False
    """Parquet, not grouping by time: take the period from the native timestamp column's statistics, unread."""
    period: tuple[Any, Any] | None = None
    """``(first, last)`` UTC timestamps found that way, or ``None``."""

    def blocks(self, progress: Callable[[int], None] | None = None) -> Iterator[tuple[Any, int]]:
        """``(frame, first_line)`` for each block; ``first_line`` is the file line (or Parquet row) of its first row."""
        return getattr(self, f"_{self.fmt}")(progress or (lambda done: None))

    def _csv(self, progress: Callable[[int], None]) -> Iterator[tuple[Any, int]]:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        header = self._csv_header()
        present = _require([name for name in LOG_COLUMNS if name in header and name not in self.skip], self.path)
        text = pa.dictionary(pa.int32(), pa.string())
        types = {name: (pa.string() if self.numbers_as_text else pa.float64()) for name in NUMBER_COLUMNS}
        types.update({name: text for name in (*SITE_COLUMNS, *LABEL_COLUMNS)}, timestamp=pa.string())
        invalid: list[str] = []

        def on_invalid(row: Any) -> str:
            invalid.append(row.text)
            return "skip"

        stream = pa.OSFile(str(self.path))
        try:
            reader = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES),
                parse_options=pacsv.ParseOptions(ignore_empty_lines=False, invalid_row_handler=on_invalid),
                convert_options=pacsv.ConvertOptions(include_columns=present, column_types=types, strings_can_be_null=True),
            )
        except pa.ArrowInvalid as error:
            raise _NeedExactPass(str(error)) from None
        line = 2
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except pa.ArrowInvalid as error:
                raise _NeedExactPass(str(error)) from None
            if invalid:
                raise _NeedExactPass(f"a row with the wrong number of fields: {invalid[0]!r}")
            yield batch.to_pandas(), line
            line += batch.num_rows
            progress(stream.tell())

    def _csv_header(self) -> list[str]:
        import csv

        with open(self.path, newline="", encoding="utf-8-sig", errors="replace") as handle:
            return [name.strip() for name in next(csv.reader(handle), [])]

    def _jsonl(self, progress: Callable[[int], None]) -> Iterator[tuple[Any, int]]:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.json as pajson

        stream = pa.OSFile(str(self.path))
        try:
            reader = pajson.open_json(stream, read_options=pajson.ReadOptions(block_size=CSV_BLOCK_BYTES))
            line = 1
            for batch in reader:
                names = [name for name in LOG_COLUMNS if name in batch.schema.names]
                arrays = [batch.column(name) for name in names]
                arrays = [
                    pc.dictionary_encode(a) if n in (*SITE_COLUMNS, *LABEL_COLUMNS) and pa.types.is_string(a.type) else a
                    for n, a in zip(names, arrays, strict=True)
                ]
                yield pa.RecordBatch.from_arrays(arrays, names=names).to_pandas(), line
                line += batch.num_rows
                progress(stream.tell())
        except pa.ArrowInvalid as error:
            raise _NeedExactPass(str(error)) from None

    def _parquet(self, progress: Callable[[int], None]) -> Iterator[tuple[Any, int]]:
        import pyarrow.parquet as pq

        try:
            handle = pq.ParquetFile(str(self.path))
        except OSError as error:
            raise InvalidInputError(f"{self.path.name}: not a readable Parquet file ({error})", code="unreadable-log") from None
        present = _require([name for name in LOG_COLUMNS if name in handle.schema_arrow.names and name not in self.skip], self.path)
        if self.period_from_statistics and "timestamp" in present:
            # A native timestamp cannot be unparsable: when it is not grouped on, only the period is needed,
            # and the row groups' statistics hold it without reading the column.
            self.period = _statistics_period(handle)
            if self.period is not None:
                present.remove("timestamp")
        handle = pq.ParquetFile(str(self.path), read_dictionary=[n for n in present if n in (*SITE_COLUMNS, *LABEL_COLUMNS)])
        row = 1
        for group in range(handle.num_row_groups):
            if handle.metadata.row_group(group).num_rows <= 4 * PARQUET_BATCH_ROWS:
                # A row group of moderate size: decoded on all cores at once.
                batches = [handle.read_row_group(group, columns=present, use_threads=True)]
            else:
                batches = handle.iter_batches(batch_size=PARQUET_BATCH_ROWS, row_groups=[group], columns=present)
            for batch in batches:
                yield batch.to_pandas(), row
                row += batch.num_rows
                progress(row - 1)

    def exact_blocks(self) -> Iterator[tuple[Any, Any, list[tuple[int, str]]]]:
        """``(frame of text, line numbers, structural errors)`` read line by line: only run to locate bad lines."""
        import pandas as pd

        if self.fmt == "csv":
            import csv

            with open(self.path, newline="", encoding="utf-8-sig", errors="replace") as handle:
                reader = csv.reader(handle)
                header = [name.strip() for name in next(reader, [])]
                rows: list[Any] = []
                lines, errors = [], []
                for row in reader:
                    if not row:
                        continue
                    if len(row) != len(header):
                        errors.append((reader.line_num, f"{len(row)} fields, the header has {len(header)}"))
                    else:
                        rows.append([cell if cell.strip() else None for cell in row])
                        lines.append(reader.line_num)
                    if len(rows) + len(errors) >= EXACT_PASS_ROWS:
                        yield pd.DataFrame(rows, columns=header, dtype=object), lines, errors
                        rows, lines, errors = [], [], []
                yield pd.DataFrame(rows, columns=header, dtype=object), lines, errors
        else:
            with open(self.path, encoding="utf-8", errors="replace") as handle:
                rows, lines, errors = [], [], []
                for number, text in enumerate(handle, 1):
                    if not text.strip():
                        continue
                    try:
                        value = json.loads(text)
                    except json.JSONDecodeError as error:
                        errors.append((number, f"not valid JSON ({error.msg} at column {error.colno})"))
                        continue
                    if not isinstance(value, dict):
                        errors.append((number, f"not a JSON object (got {type(value).__name__})"))
                        continue
                    rows.append(value)
                    lines.append(number)
                    if len(rows) + len(errors) >= EXACT_PASS_ROWS:
                        yield pd.DataFrame(rows, dtype=object), lines, errors
                        rows, lines, errors = [], [], []
                yield pd.DataFrame(rows, dtype=object), lines, errors


def open_log(path: str | os.PathLike, fmt: str | None = None) -> Reader:
    """A :class:`Reader` over ``path``; raises a one-line error if the file is missing."""
    path = Path(path)
    fmt = detect_format(path, fmt)
    if not path.is_file():
        raise InvalidInputError(f"{path}: file not found", code="file-not-found")
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            total = pq.ParquetFile(str(path)).metadata.num_rows
        except Exception as error:  # pyarrow raises several types for a corrupt file
            raise InvalidInputError(f"{path.name}: not a readable Parquet file ({error})", code="unreadable-log") from None
        return Reader(path, fmt, "rows", total)
    return Reader(path, fmt, "B", path.stat().st_size)


# --- the whole log ---------------------------------------------------------------------------


def estimate_log(
    path: str | os.PathLike,
    config: Config,
    *,
    fmt: str | None = None,
    hardware: str | None = None,
    region: str | None = None,
    datacenter: str | None = None,
    method: str = DEFAULT_METHOD,
    group_by: Sequence[str] = (),
    engine: str = "pandas",
    progress: Callable[[int, str], Any] | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """Footprint of every request of a log file, in total and per group; see :func:`report` for the shape.

    ``progress(total, unit)`` may return a tqdm-like object (``update``,
    ``close``); ``engine='dask'`` reads and sums the blocks with Dask on the
    current scheduler (local by default, a ``dask.distributed.Client`` if one is active).
    """
    plan = make_plan(config, hardware, region, datacenter, method, group_by)
    reader = open_log(path, fmt)
    if "model" not in plan.group_by:
        reader.skip = frozenset({"model"})
    reader.period_from_statistics = engine == "pandas" and not set(plan.group_by) & {"day", "month"}
    name = source or reader.path.name
    if engine not in ENGINES:
        raise InvalidInputError(f"engine: unknown engine {engine!r}; allowed: {', '.join(ENGINES)}", code="unknown-engine")
    exact = False
    try:
        if engine == "dask":
            total = _dask_total(reader, plan)
        else:
            total = _stream_total(reader, plan, progress)
    except _NeedExactPass:
        exact = True
    else:
        # JSON Lines blocks skip blank lines, so their line numbers are approximate: locate bad rows exactly.
        exact = total.bad > 0 and reader.fmt == "jsonl"
    if exact:
        total = _exact_total(reader, plan)
    raise_bad_rows(total, name, "row" if reader.fmt == "parquet" else "line")
    if reader.period is not None:
        total.first, total.last = reader.period
    return report(total, plan, source=name, fmt=reader.fmt, engine=engine)


def _statistics_period(handle: Any) -> tuple[Any, Any] | None:
    """``(first, last)`` of a native Parquet timestamp column from its row-group statistics, as naive UTC
    ``datetime64[s]``; ``None`` when the column is not a timestamp or a row group has no min/max."""
    import numpy as np
    import pyarrow as pa

    if not pa.types.is_timestamp(handle.schema_arrow.field("timestamp").type) or handle.num_row_groups == 0:
        return None
    column = handle.schema_arrow.get_field_index("timestamp")
    lows, highs = [], []
    for group in range(handle.num_row_groups):
        meta = handle.metadata.row_group(group)
        if meta.num_rows == 0:
            continue
        stats = meta.column(column).statistics
        if stats is None or not stats.has_min_max:
            return None
        lows.append(stats.min)
        highs.append(stats.max)
    if not lows:
        return None
    # Statistics of a zoned column come back in UTC; naive ones are taken as UTC, as the rows would be.
    return np.datetime64(min(lows).replace(tzinfo=None), "s"), np.datetime64(max(highs).replace(tzinfo=None), "s")


def estimate_frame(frame: Any, config: Config, **options: Any) -> dict[str, Any]:
    """Footprint of the requests of an in-memory pandas DataFrame (rows numbered from 1)."""
    plan = make_plan(config, **options)
    total = merge([summarise(frame, plan, first_line=1)])
    raise_bad_rows(total, "dataframe", "row")
    return report(total, plan, source="dataframe", fmt="dataframe", engine="pandas")


def _stream_total(reader: Reader, plan: Plan, progress: Callable[[int, str], Any] | None) -> Partial:
    bar = progress(reader.total, reader.unit) if progress else None
    done = 0

    def advance(position: int) -> None:
        nonlocal done
        if bar is not None:
            bar.update(max(0, min(position, reader.total) - done))
            done = max(done, min(position, reader.total))

    partials = []
    try:
        try:
            for frame, first_line in reader.blocks(advance):
                part = summarise(frame, plan, first_line=first_line)
                partials.append(part)
                if len(partials) > 64:  # keep memory bounded: fold the sums as we go
                    partials = [merge(partials)]
        except _NeedExactPass:
            if reader.fmt != "csv" or reader.numbers_as_text:
                raise
            # A value that is not a number: read the number columns as text, so each bad cell is named.
            reader.numbers_as_text = True
            partials = [summarise(frame, plan, first_line=first_line) for frame, first_line in reader.blocks()]
    finally:
        if bar is not None:
            bar.close()
    return merge(partials)


def _exact_total(reader: Reader, plan: Plan) -> Partial:
    """Read the file line by line (Python parsers) to number each bad line exactly; the checks stay vectorised."""
    partials = []
    for frame, lines, errors in reader.exact_blocks():
        part = summarise(frame, plan, lines=lines) if len(frame) else Partial()
        part.bad += len(errors)
        part.errors = [(line, message, "", "") for line, message in errors] + part.errors
        partials.append(part)
        if len(partials) > 64:
            partials = [merge(partials)]
    return merge(partials)


def _dask_total(reader: Reader, plan: Plan) -> Partial:
    """The same :func:`summarise` on each partition of a Dask dataframe, then the same :func:`merge`."""
    import dask
    import dask.dataframe as dd

    path = str(reader.path)
    if reader.fmt == "csv":
        header = reader._csv_header()
        text = {name: "object" for name in header}
        frame = dd.read_csv(path, dtype=text, blocksize=CSV_BLOCK_BYTES * 4, skip_blank_lines=False, keep_default_na=False, na_values=[""])
        first = 2
    elif reader.fmt == "jsonl":
        frame = dd.read_json(path, lines=True, blocksize=CSV_BLOCK_BYTES * 4, dtype=False)
        first = 1
    else:
        frame = dd.read_parquet(path)
        first = 1
    frame = frame[[name for name in LOG_COLUMNS if name in frame.columns]]
    try:
        sizes, parts = dask.compute(
            [dask.delayed(len)(p) for p in frame.to_delayed()],
            [dask.delayed(summarise)(p, plan) for p in frame.to_delayed()],
        )
    except ValueError as error:  # pandas' parser refused a block
        raise _NeedExactPass(str(error)) from None
    # Number each partition's rows from its offset in the file (partitions keep the file order).
    offset = first
    for size, part in zip(sizes, parts, strict=True):
        part.errors = [(line - 1 + offset, *rest) for line, *rest in part.errors]
        offset += size
    return merge(parts)


def report(total: Partial, plan: Plan, *, source: str, fmt: str, engine: str) -> dict[str, Any]:
    """The JSON shape shared by the CLI's ``--json`` and ``POST /batch``."""

    def numbers(sums: Any) -> dict[str, Any]:
        values = sums.tolist()
        out = dict(zip(SUMS, values, strict=True))
        for name in _INTEGER_SUMS:
            out[name] = round(out[name])
        return out

    import numpy as np

    grand = np.zeros(len(SUMS))
    for sums in total.sums.values():
        grand = grand + sums
    totals = numbers(grand)
    requests = totals["requests"]
    groups = [
        {**dict(zip(plan.group_by, key, strict=True)), **numbers(sums)}
        for key, sums in sorted(total.sums.items(), key=lambda item: tuple((v is None, str(v)) for v in item[0]))
    ]
    period = None
    if total.first is not None:
        period = {"first": f"{total.first}Z", "last": f"{total.last}Z"}
    return {
        "source": source,
        "format": fmt,
        "engine": engine,
        "method": plan.method,
        "rows": total.rows,
        "blank_lines": total.blank,
        "defaults": {"hardware": plan.hardware, "region": plan.region, "datacenter": plan.datacenter},
        "data_pack_version": reference.pack_version(),
        "defaults_used": dict(sorted(total.defaulted.items())),
        "period": period,
        "totals": totals,
        "per_request": {
            "energy_wh": totals["energy_kwh"] * 1000.0 / requests if requests else 0.0,
            "carbon_gco2eq": totals["carbon_gco2eq"] / requests if requests else 0.0,
            "water_l": totals["water_l"] / requests if requests else 0.0,
        },
        "group_by": list(plan.group_by),
        "groups": groups if plan.group_by else [],
        "covers": dict(methods.get(plan.method).covers),
        "notes": [
            "_min/_max: every uncertain input of the hardware preset and datacentre at its low/high bound; token counts are taken as exact",
            "defaults_used: rows whose hardware, region or datacenter was empty or absent and took the default",
        ],
    }


def write_groups_csv(result: dict[str, Any], path: str | os.PathLike) -> None:
    """The grouped table (or the totals, without grouping) as CSV; units are in the column names."""
    import csv

    columns = [*result["group_by"], *SUMS]
    rows = result["groups"] if result["group_by"] else [result["totals"]]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
