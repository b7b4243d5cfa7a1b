"""Estimate a log: plan, sums (DuckDB or Dask), names, bad rows, report. The one entry point of the package."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import InvalidInputError
from .engine import Progress, Settled, connect, describe_source, finish, group_by_check, locate, raise_bad_rows, run_sums, settle
from .formats import MissingColumnError, Source, Workdir, detect_format, not_a_known_format, open_source
from .limits import Limits
from .report import Plan, make_plan, report

ENGINES = ("duckdb", "dask")


def estimate_log(
    path: str | os.PathLike,
    config: Config,
    *,
    fmt: str | None = None,
    hardware: str | None = None,
    region: str | None = None,
    datacenter: str | None = None,
    method: str | None = None,
    group_by: Sequence[str] = (),
    engine: str = "duckdb",
    progress: Progress | None = None,
    source: str | None = None,
    limits: Limits | None = None,
) -> dict[str, Any]:
    """Footprint of every request of a log file, in total and per group (see :func:`.report.report` for the shape).

    ``engine='duckdb'`` runs one DuckDB query on the file; ``'dask'`` runs the
    same query on each partition with Dask, on the current scheduler (local
    threads by default, a ``dask.distributed.Client`` if one is active).
    ``progress(total, unit)`` may return a tqdm-like bar. A bad row raises
    :class:`.checks.BadRowsError` naming the first ones; a cap (``limits``)
    exceeded raises :class:`.limits.CapError`.
    """
    plan = make_plan(config, hardware, region, datacenter, method, group_by)
    if engine not in ENGINES:
        raise InvalidInputError(f"engine: unknown engine {engine!r}; allowed: {', '.join(ENGINES)}", code="unknown-engine")
    limits = limits or Limits()
    given = fmt is not None
    path = Path(path)
    name = source or path.name
    fmt = detect_format(path, fmt, name=name)
    try:
        if engine == "dask":
            from .dask_engine import dask_settle

            settled, info = dask_settle(path, fmt, plan, limits, name)
        else:
            settled, info = duckdb_settle(path, fmt, plan, limits, name, progress)
    except MissingColumnError as error:
        if given:
            raise
        raise not_a_known_format(name, f"read as {fmt}: {str(error).removeprefix(name + ': ')}") from None
    return report(settled, plan, limits.max_groups, source=name, fmt=fmt, engine=engine, info=info)


def duckdb_settle(path: Path, fmt: str, plan: Plan, limits: Limits, name: str, progress: Progress | None = None) -> tuple[Settled, dict[str, Any]]:
    """The sums of one file by one DuckDB query; names checked; bad rows raised with their positions; what the
    format says about the file (:attr:`.formats.Source.describe`)."""
    with Workdir() as workdir:
        con = connect(limits, workdir)
        try:
            src = open_source(path, fmt, limits, con, workdir, name=name)
            plan.for_source(src)
            settled = settle_source(con, src, plan, limits, progress)
            return settled, describe_source(con, src, limits)
        finally:
            con.close()


def settle_source(con: Any, src: Source, plan: Plan, limits: Limits, progress: Progress | None = None) -> Settled:
    """Sums, names, bad rows of one source on one connection (a file, or an in-memory frame)."""
    checks = plan.checks()
    if not src.dynamic_columns:
        group_by_check(set(src.columns), plan.group_by, src.name)
    settled: Settled | None = None
    try:
        partial = run_sums(con, src, checks, limits, quadratic=plan.quadratic, progress=progress)
        settled = settle(partial, src.columns, plan.resolve, plan.settle_defaults, plan.keys)
    except InvalidInputError as error:
        if src.fallback is None or error.code != "unreadable-log":
            raise
    if src.fallback is not None and (settled is None or settled.bad or partial.rejected):
        src = src.fallback  # the fast reader failed, or a row is bad: read line by line, to name each bad line
        partial = run_sums(con, src, checks, limits, quadratic=plan.quadratic, progress=progress)
        settled = settle(partial, src.columns, plan.resolve, plan.settle_defaults, plan.keys)
    assert settled is not None
    finish(settled, src.name, plan.group_by, dynamic=src.dynamic_columns)
    if settled.bad or partial.rejected:
        located = locate(con, src, replace(checks, unknown=settled.unknown), settled, limits, plan.hints(), rejected=partial.rejected)
        raise_bad_rows(located, settled.bad + located.rejected, src.name)
    return settled


def estimate_frame(frame: Any, config: Config, *, limits: Limits | None = None, source: str = "dataframe", **options: Any) -> dict[str, Any]:
    """Footprint of the requests of an in-memory pandas DataFrame holding the log's columns (rows numbered from 1)."""
    from .formats import frame_source

    plan = make_plan(config, **options)
    limits = limits or Limits()
    with Workdir() as workdir:
        con = connect(limits, workdir)
        try:
            src = frame_source(con, frame, source)
            plan.for_source(src)
            settled = settle_source(con, src, plan, limits)
        finally:
            con.close()
    return report(settled, plan, limits.max_groups, source=source, fmt="dataframe", engine="duckdb")
