"""Request logs on DuckDB: the footprint of every request of a log file, in total and per group.

``estimate_log(path, config)`` reads a CSV, JSON Lines or Parquet log with
DuckDB (one query on the file, streamed, out of core, in parallel), checks
every row in SQL, sums the tokens exactly per setup and group, and applies
``traitement``'s physics once per distinct setup. ``engine='dask'`` runs the
same query on each partition with Dask. See ``docs/batch.md``.

Modules: :mod:`.columns` (the canonical columns and their rules),
:mod:`.formats` (the format registry), :mod:`.checks` (the row checks, SQL),
:mod:`.query` (the sums, SQL), :mod:`.engine` (DuckDB: run, names, bad rows),
:mod:`.dask_engine`, :mod:`.report` (physics and answer), :mod:`.limits` (caps).
No DuckDB, numpy, pandas or Dask import happens until an estimate runs.
"""

from . import providers  # noqa: F401 - registers the providers' usage exports as formats
from .checks import MAX_SHOWN, BadRowsError
from .columns import GROUP_BY, LOG_COLUMNS, NUMBER_COLUMNS, REQUIRED_COLUMNS
from .estimate import ENGINES, estimate_frame, estimate_log
from .formats import FORMATS, Format, detect_format, extensions, register
from .limits import CapError, Limits
from .report import AUTO, QUANTITIES, SUMS, make_plan, write_groups_csv

__all__ = [
    "AUTO",
    "ENGINES",
    "FORMATS",
    "GROUP_BY",
    "LOG_COLUMNS",
    "MAX_SHOWN",
    "NUMBER_COLUMNS",
    "QUANTITIES",
    "REQUIRED_COLUMNS",
    "SUMS",
    "BadRowsError",
    "CapError",
    "Format",
    "Limits",
    "detect_format",
    "estimate_frame",
    "estimate_log",
    "extensions",
    "make_plan",
    "register",
    "write_groups_csv",
]
