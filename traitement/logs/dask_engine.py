"""Beyond one machine: Dask runs the same DuckDB query on each partition and merges the partial sums.

The file is split into partitions: ranges of lines for CSV and JSON Lines
(each range starts after a line end; a CSV range gets the header line in
front), ranges of whole row groups for Parquet. Each Dask task reads its
partition with the same DuckDB reader as the one-machine engine
(:mod:`.formats`) into a pandas DataFrame (Arrow-backed, so DuckDB's types
come back unchanged), and DuckDB runs the same sums query (:mod:`.query`) on
that frame. The driver adds the partial sums (exact integers, min and max),
then resolves names and counts bad rows with the same code as the one-machine
engine. If a row is bad, a second pass locates the bad rows of each partition
with the same code, and shifts their line numbers by the lines before the
partition. So both engines give the same totals and the same errors.

A CSV partition boundary must not fall inside a quoted cell that holds a line
break: each task counts the quotes of its range; a boundary after an odd count
is removed and the two partitions are read again as one.

Runs on the current Dask scheduler: local threads by default, a
``dask.distributed.Client`` when one is active (the file must be readable by
the workers: a shared disk or mount). Each task's DuckDB uses one thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError
from .checks import CheckPlan
from .engine import (
    Located,
    Settled,
    connect,
    describe_source,
    duckdb_errors,
    finish,
    group_by_check,
    has_rejects,
    locate,
    over_cap,
    raise_bad_rows,
    run_sums,
    settle,
)
from .formats import FORMATS, Source, Workdir, frame_source, open_source, read_header
from .limits import Limits
from .query import Partial
from .report import Plan

BLOCK_BYTES = 64 << 20
"""Bytes of CSV or JSON Lines per partition."""
BLOCK_ROWS = 1 << 20
"""Rows of Parquet per partition (whole row groups)."""
_LOOKAHEAD = 1 << 16


@dataclass(frozen=True)
class Part:
    """One partition: bytes [start, end) of a text file before alignment to line starts, or rows [start, end)."""

    start: int
    end: int


@dataclass
class PartResult:
    """What a task returns: its partial sums; for a text file, the line ends and quotes of its range."""

    partial: Partial
    newlines: int = 0
    quotes: int = 0
    failed: bool = False
    """The fast reader could not read the partition (the line-by-line source will)."""


@dataclass(frozen=True)
class _Job:
    """What every task needs (sent to the workers)."""

    path: str
    fmt: str
    name: str
    limits: Limits
    checks: CheckPlan
    quadratic: bool
    header: tuple[list[str], bytes] | None = None
    data_start: int = 0
    size: int = 0
    hints: dict[Any, str] = field(default_factory=dict)
    line_by_line: bool = False
    """Read each partition with the format's slower source that names every bad row (JSON Lines)."""


def dask_settle(path: Path, fmt: str, plan: Plan, limits: Limits, name: str) -> tuple[Settled, dict[str, Any]]:
    """The Dask engine: the same checks, sums and errors as :func:`.estimate.duckdb_settle`."""
    import dask

    with Workdir() as workdir:  # the same opening checks as the one-machine engine (header, caps, schema)
        con = connect(limits, workdir)
        try:
            src = open_source(path, fmt, limits, con, workdir, name=name)
            plan.for_source(src)
        finally:
            con.close()
    if not src.dynamic_columns:
        group_by_check(set(src.columns), plan.group_by, name)
    job = _Job(str(path.resolve()), fmt, name, limits, plan.checks(), plan.quadratic)
    if FORMATS[fmt].blocks == "row-groups":
        parts = _row_parts(src)
    else:
        header = read_header(path, name, limits) if src.header else None
        job = replace(job, header=header, data_start=len(header[1]) if header else 0, size=path.stat().st_size)
        block = BLOCK_BYTES if src.splittable else max(job.size, 1)  # a single JSON document is read whole
        starts = range(job.data_start, max(job.size, job.data_start + 1), block)
        parts = [Part(start, min(start + block, job.size)) for start in starts]
    parts, results, partial = _all_sums(job, parts)
    settled = None if any(result.failed for result in results) else settle(partial, src.columns, plan.resolve, plan.settle_defaults, plan.keys)
    if src.fallback is not None and (settled is None or settled.bad or partial.rejected):
        # As on one machine: the fast reader failed, or a row is bad: every partition is read line by line.
        job = replace(job, line_by_line=True)
        src = src.fallback
        parts, results, partial = _all_sums(job, parts)
        settled = settle(partial, src.columns, plan.resolve, plan.settle_defaults, plan.keys)
    assert settled is not None
    finish(settled, name, plan.group_by, dynamic=src.dynamic_columns)
    if settled.bad or partial.rejected:
        job = replace(job, checks=replace(job.checks, unknown=settled.unknown), hints=plan.hints())
        tasks = [dask.delayed(_locate)(job, part, result.partial) for part, result in zip(parts, results, strict=True)]
        found = dask.compute(*tasks, scheduler=_scheduler())
        total = Located(unit=src.unit)
        lines_before = rows_before = 0
        for result, located in zip(results, found, strict=True):
            if located is not None:
                total.rejected += located.rejected
                shift = lines_before if located.unit == src.unit else rows_before
                total.unit = located.unit if located.unit != src.unit else total.unit
                total.errors += [((key[0] + shift, key[1]), *rest) for key, *rest in located.errors]
                total.where.update({(key[0] + shift, key[1]): where for key, where in located.where.items()})
            lines_before += result.newlines
            rows_before += sum(_rows(result.partial))
        raise_bad_rows(total, settled.bad + total.rejected, name)
    with Workdir() as workdir:  # what the format says about the whole file: the same query as on one machine
        con = connect(limits, workdir)
        try:
            return settled, describe_source(con, open_source(path, fmt, limits, con, workdir, name=name), limits)
        finally:
            con.close()


def _all_sums(job: _Job, parts: list[Part]) -> tuple[list[Part], list[PartResult], Partial]:
    """Every partition's sums, added up (partitions cut inside quoted cells are merged and read again)."""
    import dask

    while True:
        results = list(dask.compute(*[dask.delayed(_sums)(job, part) for part in parts], scheduler=_scheduler()))
        merged = _merge_odd_boundaries(job, parts, results)
        if merged is None:
            break
        parts = merged
    read = [result.partial for result in results if not result.failed]
    partial = Partial(keys=read[0].keys, presence=read[0].presence) if read else Partial(keys=())
    for one in read:
        partial.merge(one)
    if len(read) == len(results):
        over_cap(len(partial.cells), job.name, job.limits)
    return parts, results, partial


def _scheduler() -> str | None:
    """Dask's current scheduler (None), or local threads when the configuration still names a distributed client
    that is gone (a client that failed, or closed without restoring the configuration)."""
    import dask

    if dask.config.get("scheduler", None) not in ("dask.distributed", "distributed"):
        return None
    try:
        from dask.distributed import default_client

        default_client()
    except (ImportError, ValueError):
        return "threads"
    return None


def _row_parts(src: Source) -> list[Part]:
    """Ranges of whole row groups of about BLOCK_ROWS rows."""
    import duckdb

    con = duckdb.connect()
    try:
        sql = "SELECT row_group_id, max(row_group_num_rows) FROM parquet_metadata(?) GROUP BY row_group_id ORDER BY row_group_id"
        sizes = [int(rows) for _, rows in con.execute(sql, [str(src.path)]).fetchall()]
    finally:
        con.close()
    parts: list[Part] = []
    start = end = 0
    for rows in sizes:
        end += rows
        if end - start >= BLOCK_ROWS:
            parts.append(Part(start, end))
            start = end
    if end > start or not parts:
        parts.append(Part(start, end))
    return parts


def _aligned(handle: Any, offset: int, job: _Job) -> int:
    """The first line start at or after ``offset`` (the data start for the first partition)."""
    if offset <= job.data_start:
        return job.data_start
    if offset >= job.size:
        return job.size
    handle.seek(offset - 1)
    while True:
        chunk = handle.read(_LOOKAHEAD)
        if not chunk:
            return job.size
        found = chunk.find(b"\n")
        if found >= 0:
            return handle.tell() - len(chunk) + found + 1


def _partition_source(job: _Job, part: Part, con: Any, folder: Path) -> tuple[Source, int, int]:
    """The partition as a :class:`Source` read by DuckDB; for a text file, the line ends and quotes of its range.

    A text partition is written to a file of its own (after the CSV header): its line numbers are then the
    file's, shifted by the lines before the partition.
    """
    if FORMATS[job.fmt].blocks == "row-groups":
        return open_source(Path(job.path), job.fmt, job.limits, con, folder, name=job.name, rows=(part.start, part.end)), 0, 0
    with open(job.path, "rb") as handle:
        begin, stop = _aligned(handle, part.start, job), _aligned(handle, part.end, job)
        handle.seek(begin)
        data = handle.read(stop - begin)
    block = folder / f"part{(*FORMATS[job.fmt].extensions, '')[0]}"
    with open(block, "wb") as out:
        if job.header is not None:
            out.write(job.header[1] if job.header[1].endswith(b"\n") else job.header[1] + b"\n")
        out.write(data)
    options = {"header": job.header} if job.header is not None else {}
    src = open_source(block, job.fmt, job.limits, con, folder, name=job.name, **options)
    if job.line_by_line and src.fallback is not None:
        src = src.fallback
    return src, data.count(b"\n"), data.count(b'"') if job.fmt == "csv" else 0


def _sums(job: _Job, part: Part) -> PartResult:
    """A task: DuckDB reads the partition into a pandas frame, then runs the shared sums query on that frame."""
    import pandas as pd

    limits = replace(job.limits, threads=1)  # Dask runs the partitions side by side
    with Workdir() as folder:
        con = connect(limits, folder)
        try:
            src, newlines, quotes = _partition_source(job, part, con, folder)
            try:
                with duckdb_errors(src, limits):
                    frame = con.sql(src.scan).to_arrow_table().to_pandas(types_mapper=pd.ArrowDtype)
            except InvalidInputError as error:
                if src.fallback is None or error.code != "unreadable-log":
                    raise
                return PartResult(Partial(keys=()), newlines, quotes, failed=True)
            framed = replace(frame_source(con, frame, job.name, kinds=src.columns), dynamic_columns=src.dynamic_columns)
            partial = run_sums(con, framed, job.checks, limits, quadratic=job.quadratic)
            partial.rejected = src.rejects and has_rejects(con)
        finally:
            con.close()
    return PartResult(partial, newlines, quotes)


def _locate(job: _Job, part: Part, partial: Partial) -> Located | None:
    """A task of the second pass: the first bad rows of one partition, numbered within it (same code as one machine)."""
    bad = _may_be_bad(partial, job)
    if not bad and not partial.rejected:
        return None
    limits = replace(job.limits, threads=1)
    rows, blank = _rows(partial)
    with Workdir() as folder:
        con = connect(limits, folder)
        try:
            src, _, _ = _partition_source(job, part, con, folder)
            if partial.rejected:  # fill the reject table as the first pass did (every column read, so every cast made)
                with duckdb_errors(src, limits):
                    con.execute(f"SELECT count(COLUMNS(*)) FROM ({src.scan})").fetchall()
            return locate(con, src, job.checks, Settled(rows=rows, blank=blank, bad=int(bad)), limits, job.hints, rejected=partial.rejected)
        finally:
            con.close()


def _rows(partial: Partial) -> tuple[int, int]:
    """(rows, blank rows) of a partition."""
    rows = blank = 0
    for key, values in partial.cells.items():
        if key[0]:
            blank += values[0] or 0
        else:
            rows += values[0] or 0
    return rows, blank


def _may_be_bad(partial: Partial, job: _Job) -> bool:
    """Some row of the partition broke a rule, or names something unknown."""
    position = {key: index for index, key in enumerate(partial.keys)}
    unknown = [(position[column], set(names)) for column, names in job.checks.unknown.items() if column in position]
    for key, values in partial.cells.items():
        if values[1] or any(key[index] is not None and str(key[index]) in names for index, names in unknown):
            return True
    return False


def _merge_odd_boundaries(job: _Job, parts: list[Part], results: list[PartResult]) -> list[Part] | None:
    """New partitions without the boundaries that fall inside quotes (an odd number of quotes before them)."""
    if job.fmt != "csv" or len(parts) < 2:
        return None
    quotes = 0
    merged: list[Part] = []
    for part, result in zip(parts, results, strict=True):
        if merged and quotes % 2 == 1:
            merged[-1] = Part(merged[-1].start, part.end)
        else:
            merged.append(part)
        quotes += result.quotes
    return merged if len(merged) < len(parts) else None


def dask_client(address: str) -> Any:
    """A ``dask.distributed.Client`` on ``address`` (a context manager); a one-line error if it cannot connect."""
    import dask

    try:
        from dask.distributed import Client
    except ImportError:
        raise InvalidInputError("--scheduler: needs dask.distributed (pip install 'dask[distributed]')") from None
    before = dask.config.config.get("scheduler", _ABSENT)
    try:
        return Client(address, timeout="10s")
    except (OSError, ValueError, TypeError, TimeoutError) as error:
        # A client that failed to start has already made itself Dask's scheduler: put the previous one back.
        if before is _ABSENT:
            dask.config.config.pop("scheduler", None)
        else:
            dask.config.config["scheduler"] = before
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InvalidInputError(f"--scheduler {address}: cannot connect ({reason})", code="bad-scheduler") from None


_ABSENT = object()
