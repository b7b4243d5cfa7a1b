"""The DuckDB engine: one query over the file for the sums, a second only to name the bad rows.

1. :func:`connect` opens an in-memory DuckDB with the caps (threads, memory
   limit, a private spill folder; no extension is ever downloaded).
2. :func:`run_sums` runs the sums query (:mod:`.query`) straight on the file,
   streamed and in parallel, with a progress bar on long runs.
3. :func:`settle` checks the distinct names against the config (a loop over
   distinct names, never rows) and counts the bad rows.
4. If any row is bad, :func:`locate` finds the first ones and their
   positions: the ordered scan numbers the parsed rows, DuckDB's reject
   tables give the lines of the rows that did not parse, and a scan of the
   file's physical lines (empty lines, lines inside quoted cells) turns a
   row's ordinal into its line. Then :func:`raise_bad_rows` raises one line.

The Dask engine (:mod:`.dask_engine`) runs the same functions on each partition.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .checks import MAX_SHOWN, BadRowsError, CheckPlan, describe, reject_message
from .columns import KEY_COLUMNS, NAME_COLUMNS, SITE_COLUMNS, TIME_COLUMN, TIME_KEYS
from .formats import REJECTS_KEPT, Source, raw_lines, require, unreadable
from .limits import CapError, Limits, setting
from .query import SUM_NAMES, Partial, key_columns, locate_sql, presence_columns, sums_sql

Progress = Callable[[int, str], Any]
"""``progress(total, unit)`` returns a tqdm-like bar (``update(n)``, ``close()``)."""
Resolver = Callable[[str, str], "str | None"]
"""``resolve(column, raw name)``: the config's name, or None when unknown."""


def connect(limits: Limits, workdir: Path) -> Any:
    """An in-memory DuckDB connection within the caps; nothing downloaded; progress measured."""
    import duckdb

    config: dict[str, Any] = {
        "memory_limit": f"{limits.memory_limit_mb}MB",
        "temp_directory": str(workdir / "spill"),
        "autoinstall_known_extensions": False,
    }
    if limits.threads:
        config["threads"] = limits.threads
    con = duckdb.connect(":memory:", config=config)
    # Progress is measured (query_progress) but never printed by DuckDB: the caller draws its own bar. In a Jupyter
    # kernel without ipywidgets DuckDB refuses every progress setting: the estimate then runs without a bar.
    try:
        con.execute("SET enable_progress_bar = true; SET enable_progress_bar_print = false; SET progress_bar_time = 0")
    except duckdb.InvalidInputException:
        pass
    con.execute("SET TimeZone = 'UTC'")  # text without an offset that takes the TIMESTAMPTZ path is UTC
    return con


def fetch(con: Any, sql: str, source: Source, limits: Limits, progress: Progress | None = None) -> list[tuple]:
    """Run ``sql``; a bar follows DuckDB's progress; DuckDB's errors become one-line errors naming the file."""
    with duckdb_errors(source, limits):
        if progress is None:
            return con.execute(sql).fetchall()
        return _with_progress(con, sql, progress)


@contextmanager
def duckdb_errors(source: Source, limits: Limits) -> Iterator[None]:
    """DuckDB's errors while reading ``source`` as the calculator's one-line errors."""
    import duckdb

    try:
        yield
    except duckdb.OutOfMemoryException:
        raise CapError(f"{source.name}: needs more memory than the cap of {limits.memory_limit_mb:,} MiB ({setting('memory_limit_mb')})") from None
    except duckdb.InterruptException:
        raise KeyboardInterrupt from None
    except duckdb.Error as error:
        raise unreadable(source.name, FORMAT_NAMES.get(source.fmt, source.fmt), error) from None


FORMAT_NAMES = {"csv": "CSV", "jsonl": "JSON Lines", "parquet": "Parquet", "dataframe": "data frame"}


def _with_progress(con: Any, sql: str, progress: Progress) -> list[tuple]:
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["rows"] = con.execute(sql).fetchall()
        except BaseException as error:  # handed to the calling thread, raised there
            outcome["error"] = error

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    bar = progress(100, "%")
    done = 0.0
    try:
        while worker.is_alive():
            worker.join(0.1)
            percent = con.query_progress()
            if percent > done:
                bar.update(round(percent - done, 1))
                done = percent
    except KeyboardInterrupt:
        con.interrupt()
        worker.join()
        raise
    finally:
        bar.close()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["rows"]


def run_sums(con: Any, source: Source, plan: CheckPlan, limits: Limits, *, quadratic: bool, progress: Progress | None = None) -> Partial:
    """The sums of one source (a file, or a Dask partition's frame): one query."""
    sql = sums_sql(source.scan, source.columns, plan, quadratic=quadratic, dynamic=source.dynamic_columns, limit=limits.max_cells + 1)
    rows = fetch(con, sql, source, limits, progress)
    over_cap(len(rows), source.name, limits)
    partial = Partial(keys=key_columns(source.columns, plan.time_keys, plan.keys), presence=presence_columns(source.columns, source.dynamic_columns))
    partial.add_rows(rows)
    if source.rejects:
        partial.rejected = bool(_rejects(con))
    return partial


def over_cap(cells: int, name: str, limits: Limits) -> None:
    if cells > limits.max_cells:
        raise CapError(
            f"{name}: more than {limits.max_cells:,} distinct combinations of hardware, region, datacenter, profile, model"
            f" and group keys ({setting('max_cells')}; a column with one label per row?)"
        )


def describe_source(con: Any, src: Source, limits: Limits) -> dict[str, Any]:
    """What the format says about the file besides the sums (nothing for a request log)."""
    info: dict[str, Any] = {} if src.requests_known else {"requests_known": False}
    if src.describe is not None:
        with duckdb_errors(src, limits):
            info.update(src.describe(con))
    return info


# --- names and bad rows: on the distinct names, after the sums ---------------------------------


@dataclass
class Settled:
    """The sums with names resolved: what the report needs, or what the locate pass needs."""

    cells: dict[tuple, list] = field(default_factory=dict)
    """(hardware, region, datacenter, profile, model, *provider keys grouped by, *time keys) resolved -> SUM_NAMES values + [first, last]."""
    rows: int = 0
    blank: int = 0
    bad: int = 0
    """Rows that parsed but break a rule (or name something unknown)."""
    unknown: dict[str, tuple[str, ...]] = field(default_factory=dict)
    defaulted: dict[str, int] = field(default_factory=dict)
    present: set[str] = field(default_factory=set)
    bad_records: int = 0
    """Lines that are not JSON objects with distinct keys (JSON Lines)."""


def settle(partial: Partial, columns: dict[str, str], resolve: Resolver, defaults: dict[str, str | None], keys: tuple[str, ...] = ()) -> Settled:
    """Resolve the raw names (once per distinct name: a loop over names, never rows), count the bad and defaulted
    rows, and merge the cells whose names resolve alike (``FRA`` and ``france``, ``gpt-4o-2024-08-06`` and ``gpt-4o``).
    ``keys``: the providers' keys grouped by, in the order of the resolved cells' keys."""
    out = Settled()
    n = len(SUM_NAMES)
    position = {key: index for index, key in enumerate(partial.keys)}
    present = set(columns)
    if partial.presence:  # columns of JSON Lines: present where some row has a value
        totals = [0] * len(partial.presence)
        for values in partial.cells.values():
            totals = [a + b for a, b in zip(totals, values[n + 2 :], strict=True)]
        present = {column for column, total in zip(partial.presence, totals, strict=True) if total}
        out.bad_records = dict(zip(partial.presence, totals, strict=True)).get("_record", 0)
        present.discard("_record")
    # Each raw name -> (config name or label, took the default, unknown).
    names: list[tuple[str, int, dict[Any, tuple[str | None, bool, bool]]]] = []
    unknown: dict[str, tuple[str, ...]] = {}
    for column in NAME_COLUMNS:
        if column not in position:
            continue
        index = position[column]
        mapping: dict[Any, tuple[str | None, bool, bool]] = {}
        for raw in {key[index] for key in partial.cells}:
            label = None if raw is None else str(raw).strip() or None
            if label is None:
                mapping[raw] = (defaults.get(column), True, False)
            else:
                name = resolve(column, label)
                mapping[raw] = (name, False, name is None)
        if any(not defaulted for _, defaulted, _ in mapping.values()):
            present.add(column)
        wrong = sorted(str(raw) for raw, (_, _, bad_name) in mapping.items() if bad_name)
        if wrong:
            unknown[column] = tuple(wrong)
        names.append((column, index, mapping))
    absent_sites = [column for column in SITE_COLUMNS if column not in position]
    fixed = {column: defaults.get(column) for column in NAME_COLUMNS if column not in position}
    time_positions = [position[key] for key in partial.keys if key in TIME_KEYS]
    key_positions = [position.get(key) for key in keys]  # a key absent from the file (JSON Lines) is None in every row
    defaulted = dict.fromkeys(SITE_COLUMNS, 0)
    for key, values in partial.cells.items():
        rows = values[0] or 0
        if key[0]:  # _blank
            out.blank += rows
            continue
        out.rows += rows
        resolved = dict(fixed)
        wrong_name = False
        took: list[str] = []
        for column, index, mapping in names:
            name, took_default, bad_name = mapping[key[index]]
            resolved[column] = name
            wrong_name = wrong_name or bad_name
            if took_default and column in defaulted:
                took.append(column)
        # A row with a model and no hardware keeps its deployment unknown (the default "None"): no default taken.
        unused = "hardware" if defaults.get("hardware") is None and resolved.get("model") is not None else None
        for column in took:
            if column != unused:
                defaulted[column] += rows
        bad = values[1] or 0
        out.bad += rows if wrong_name else bad
        if wrong_name or bad:
            continue
        for column in absent_sites:
            if column != unused:
                defaulted[column] += rows
        labels = [None if index is None or key[index] is None else str(key[index]).strip() or None for index in key_positions]
        full = (*(resolved[column] for column in NAME_COLUMNS), *labels, *(key[index] for index in time_positions))
        sums = [value or 0 for value in values[:n]]
        stamps = values[n : n + 2]
        old = out.cells.get(full)
        if old is None:
            out.cells[full] = [*sums, *stamps]
        else:
            first = min((t for t in (old[n], stamps[0]) if t is not None), default=None)
            last = max((t for t in (old[n + 1], stamps[1]) if t is not None), default=None)
            out.cells[full] = [*(a + b for a, b in zip(old[:n], sums, strict=True)), first, last]
    out.defaulted = {column: count for column, count in defaulted.items() if count}
    out.unknown = unknown
    out.present = present
    return out


# --- naming the bad rows -------------------------------------------------------------------------


@dataclass
class Located:
    """The first bad rows ((position, within), message, hint) and the number of rows that did not parse.

    ``position`` is a line or row (shifted by the Dask engine); ``within`` orders the rows of one position (the
    results of one page of a usage export), whose place ``where`` names (``data[0].results[3]``)."""

    errors: list[tuple[tuple[int, int], str, str]] = field(default_factory=list)
    rejected: int = 0
    unit: str = "line"
    where: dict[tuple[int, int], str] = field(default_factory=dict)


def locate(con: Any, source: Source, plan: CheckPlan, settled: Settled, limits: Limits, hints: dict[Any, str], *, rejected: bool) -> Located:
    """Find the first bad rows of ``source`` and their positions (``rejected``: DuckDB rejected some rows).

    Rows that parse are numbered by an ordered scan (their ordinal among the parsed records; Parquet: their
    row). Rows that do not parse come from DuckDB's reject table, which numbers lines without the line breaks
    inside quoted cells. A scan of the physical lines (empty lines, lines inside quoted cells) turns both into
    file lines.
    """
    out = Located(unit=source.unit)
    fast_rejects = _rejects(con) if rejected else []
    complete = len(fast_rejects) < REJECTS_KEPT
    con.execute("DROP TABLE IF EXISTS reject_errors; DROP TABLE IF EXISTS reject_scans")
    found: list[dict[str, Any]] = []
    ordered_rejects: list[tuple] = []
    if settled.bad:
        if not source.exact_positions:
            con.execute("SET threads = 1")  # the parsed rows' ordinals and the reject table follow the file's order
        sql = locate_sql(source.ordered_scan, source.columns, plan, shown=MAX_SHOWN, ordered=source.exact_positions)
        result = con.execute(sql)
        names = [d[0] for d in result.description]
        found = [dict(zip(names, row, strict=True)) for row in result.fetchall()]
        if source.rejects:
            ordered_rejects = _rejects(con)
        con.execute("RESET threads" if not limits.threads else f"SET threads = {limits.threads}")
    rejects = fast_rejects if complete else ordered_rejects or fast_rejects
    left_out = source.left_out(con) if source.left_out is not None else 0
    physical = None
    if not source.exact_positions and (source.quoted_lines and (found or rejects) or (rejected and not complete)):
        physical = _physical_lines(con, source, limits)
    if source.quoted_lines and physical is not None:  # DuckDB's line numbers skip the line breaks inside quotes
        to_file = _LineMap(1, physical.continuation(), [])
        rejects = [(to_file.line(entry[0]), *entry[1:]) for entry in rejects]
    reject_lines = sorted({entry[0] for entry in rejects})
    if rejected:
        if complete:
            out.rejected = len(reject_lines)
        else:
            assert physical is not None
            out.rejected = max(physical.records(source.first_line) - settled.rows - settled.blank - left_out, len(reject_lines))
    by_line: dict[int, list[tuple]] = {}
    for entry in rejects:
        by_line.setdefault(entry[0], []).append(entry)
    header_fields = _header_fields(source) if source.header else len(source.columns)
    for line, entries in by_line.items():
        out.errors.append(((line, 0), *reject_message(entries, header_fields, source.reject_fields)))
    if found:
        excluded = physical.excluded(source.first_line) if physical is not None else []
        mapping = _LineMap(source.first_line, excluded, reject_lines)
        records = settled.rows + settled.blank + out.rejected + left_out
        consistent = physical is None or not source.quoted_lines or physical.records(source.first_line) == records
        for row in found:
            position = int(row["_position"])
            if not source.exact_positions:
                if consistent:
                    position = mapping.line(position)
                else:  # quotes this scan cannot follow (a stray quote in an unquoted cell): the row's ordinal
                    out.unit = "row"
            key = (position, int(row.get("_within") or 0))
            if row.get("_where"):
                out.where[key] = str(row["_where"])
            for message, hint in describe(row, source.columns, hints, plan.totals, source.field_names):
                out.errors.append((key, message, hint))
    return out


def _header_fields(source: Source) -> int:
    import csv
    import io

    return len(next(csv.reader(io.StringIO(source.header.decode("utf-8-sig", "replace").rstrip("\r\n"))), []))


def has_rejects(con: Any) -> bool:
    """Some row was rejected by DuckDB's CSV reader on this connection."""
    return bool(_rejects(con))


def _rejects(con: Any) -> list[tuple]:
    """``(line, type, message, column name, column index, line text)`` of the rows DuckDB rejected, by line
    (none if no scan stored rejects)."""
    import duckdb

    try:
        sql = "SELECT line, error_type, error_message, column_name, column_idx, csv_line FROM reject_errors ORDER BY line, column_idx"
        return con.execute(sql).fetchall()
    except duckdb.CatalogException:
        return []


@dataclass
class _Physical:
    """The file's physical lines: how many, which are empty, which hold an odd number of quotes."""

    count: int
    empty: list[int]
    odd: list[int]

    @property
    def empty_count(self) -> int:
        return len(self.empty)

    def continuation(self) -> list[tuple[int, int]]:
        """Lines that continue a record (inside a quoted cell): after each odd line up to the next odd line."""
        spans = []
        for opening, closing in zip(self.odd[::2], [*self.odd[1::2], self.count], strict=False):
            if closing > opening:
                spans.append((opening + 1, closing))
        return spans

    def excluded(self, first_line: int) -> list[tuple[int, int]]:
        """Sorted, disjoint spans of lines that hold no record start: empty lines and continuation lines."""
        spans = self.continuation()
        starts = [a for a, _ in spans]
        for line in self.empty:
            i = bisect_right(starts, line) - 1
            if i < 0 or line > spans[i][1]:
                spans.append((line, line))
        return _merge([(max(a, first_line), b) for a, b in spans if b >= first_line])

    def records(self, first_line: int) -> int:
        return self.count - (first_line - 1) - sum(b - a + 1 for a, b in self.excluded(first_line))


def _physical_lines(con: Any, source: Source, limits: Limits) -> _Physical:
    """One scan of the file's lines: empty lines and odd-quote lines. As UTF-8, the encoding every log is read in (DuckDB's
    latin-1 refuses the bytes 0x80-0x9F, which UTF-8 text such as '東京' or '€' holds); a line DuckDB rejects is counted
    back below, as a line over the cap is."""
    lines = raw_lines(source.path, limits)
    con.execute("DROP TABLE IF EXISTS reject_errors; DROP TABLE IF EXISTS reject_scans")
    odd = "(strlen(l) - strlen(replace(l, '\"', ''))) % 2 = 1" if source.quoted_lines else "false"
    empty = "l IS NULL" if source.quoted_lines else "(l IS NULL OR trim(l) = '')"
    sql = (
        f"SELECT count(*), list(_n) FILTER (WHERE {empty}), list(_n) FILTER (WHERE {odd}) "
        f"FROM (SELECT row_number() OVER () AS _n, l FROM {lines})"
    )
    count, empty_lines, odd_lines = con.execute(sql).fetchall()[0]
    too_long = sorted({row[0] for row in _rejects(con)})  # lines over the cap are rejected even here: put them back
    con.execute("DROP TABLE IF EXISTS reject_errors; DROP TABLE IF EXISTS reject_scans")
    to_line = _LineMap(1, [], too_long)
    return _Physical(
        count=int(count) + len(too_long),
        empty=sorted(to_line.line(n) for n in (empty_lines or [])),
        odd=sorted(to_line.line(n) for n in (odd_lines or [])),
    )


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


class _LineMap:
    """The line of the k-th record start from ``first_line`` that is neither excluded nor rejected."""

    def __init__(self, first_line: int, excluded: list[tuple[int, int]], rejected: list[int]) -> None:
        self.first_line = first_line
        self.spans = _merge([*excluded, *((line, line) for line in rejected)])

    def line(self, ordinal: int) -> int:
        line = self.first_line - 1 + ordinal
        for a, b in self.spans:
            if a > line:
                break
            line += b - a + 1
        return line


def raise_bad_rows(located: Located, total: int, source_name: str) -> None:
    """One-line :class:`BadRowsError` naming the first bad rows (by position) and counting the rest."""
    if not total:
        return
    shown, seen, lines = [], set(), []
    by_position = sorted(located.errors, key=lambda error: error[0])
    first = set(sorted({error[0] for error in by_position})[:MAX_SHOWN])
    for key, message, hint in by_position:
        if key not in first:
            continue
        where = located.where.get(key)
        text = f"{located.unit} {key[0]}{', ' + where if where else ''}: {message}"
        if hint and hint not in seen:  # each hint once: columns with the same rule share it
            seen.add(hint)
            text += f" ({hint})"
        shown.append(text)
        lines.append((key[0], f"{where}: {message}" if where else message))
    more = total - len(first)
    tail = f"; and {more:,} more bad rows" if more > 0 else ""
    plural = "s" if total > 1 else ""
    raise BadRowsError(f"{source_name}: {total:,} bad row{plural}, nothing estimated: {'; '.join(shown)}{tail}", lines, total)


def finish(settled: Settled, name: str, group_by: tuple[str, ...], *, dynamic: bool) -> None:
    """Checks that need the sums: a JSON Lines log's required and grouped-by columns exist in some row."""
    if dynamic and settled.rows and not settled.bad_records:  # lines that are not objects: named by the bad-row error instead
        require(sorted(settled.present), name)
        group_by_check(settled.present, group_by, name)


def group_by_check(present: set[str], group_by: tuple[str, ...], name: str) -> None:
    """A grouping key needs its column (hardware, region and datacenter have defaults: every row takes it)."""
    for key in group_by:
        if key in SITE_COLUMNS:
            continue
        need = TIME_COLUMN if key in TIME_KEYS else key
        if need not in present:
            what = "field" if key in KEY_COLUMNS else "column"
            raise BadRowsError(f"group_by {key}: the log has no {need!r} {what}")

