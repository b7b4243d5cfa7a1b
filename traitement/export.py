"""Writing results out safely: CSV cells a spreadsheet cannot run, files written whole or not at all, finite JSON.

Shared by every command that writes a file (``analytics --csv/--plot``; the
request-log track's ``batch --csv`` can use :func:`write_csv` too) and by the
API's answers:

* :func:`safe_cell` neutralises a text cell that a spreadsheet would read as a
  formula (``=HYPERLINK(...)``, ``+``, ``-``, ``@``, a leading tab or carriage
  return: OWASP's CSV injection advice, a leading ``'``) and escapes line
  breaks, so one row stays one line;
* :func:`write_bytes` writes the exact path given and reports a failed write
  (``/dev/full``, a missing folder) as one line, exit code 1;
* :func:`non_finite_at` finds a NaN or an infinity in a JSON-ready answer, which
  JSON cannot hold: the CLI and the API refuse to print one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import CalculatorError, InvalidInputError

if TYPE_CHECKING:
    import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (or strip them and read what follows)."""


class WriteError(CalculatorError):
    """An output file could not be written (a full disk, a missing folder, no permission): a failure, exit code 1."""

    code = "cannot-write"
    exit_code = 1
    http_status = 500


class NonFiniteError(CalculatorError):
    """A result holds NaN or an infinity, which JSON cannot hold (a bug: every input is bounded so that none occurs)."""

    code = "non-finite-result"
    exit_code = 1
    http_status = 500


def safe_cell(value: str) -> str:
    """A text cell as a spreadsheet will show it, never run it: ``=1+1`` -> ``'=1+1``; ``a\\nb`` -> ``a\\\\nb``."""
    if value.startswith(FORMULA_STARTS):
        value = "'" + value
    return value.replace("\r", "\\r").replace("\n", "\\n")


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text columns (strings, categories, objects) go through :func:`safe_cell`; numbers are kept."""
    out = frame.copy()
    for name in out.columns:
        if str(out[name].dtype) in ("object", "category", "string", "str"):
            out[name] = out[name].map(lambda cell: safe_cell(cell) if isinstance(cell, str) else cell).astype(object)
    out.columns = [safe_cell(str(name)) for name in out.columns]
    return out


def output_path(path: str | Path, flag: str) -> Path:
    """``path`` as an output file name; an empty one is an error naming ``flag`` (it is never silently ignored)."""
    if not str(path).strip():
        raise InvalidInputError(f"{flag}: must not be empty; allowed: a file name to write", code="empty-path")
    if "\x00" in str(path):  # only from a caller in process (a command line cannot hold it); open() raises ValueError
        raise InvalidInputError(f"{flag}: {str(path)!r} cannot hold a NUL character; allowed: a file name to write", code="invalid-path")
    return Path(path)


def write_bytes(path: str | Path, data: bytes, what: str = "output") -> None:
    """Write ``data`` to exactly ``path``; a failure (disk full, no folder, no permission) raises :class:`WriteError`
    naming ``what`` (the CLI's flag): ``--plot: cannot write /dev/full: No space left on device``."""
    try:
        with open(path, "wb") as handle:
            handle.write(data)
    except OSError as error:
        raise WriteError(f"{what}: cannot write {path}: {error.strerror or error}") from None


def write_csv(frame: pd.DataFrame, path: str | Path, what: str = "output", **options: Any) -> None:
    """``frame`` as CSV at ``path`` with every text cell neutralised (:func:`safe_frame`); ``options`` go to ``DataFrame.to_csv``."""
    text = safe_frame(frame).to_csv(None, index=False, lineterminator="\n", **options)
    write_bytes(path, text.encode("utf-8"), what)


def non_finite_at(data: Any, where: str = "") -> str | None:
    """Where ``data`` (dicts, lists, numbers) holds NaN or an infinity (``total.energy_kwh``), or ``None`` when it holds none."""
    if isinstance(data, float):
        return None if math.isfinite(data) else (where or "value")
    if isinstance(data, Mapping):
        for key, value in data.items():
            found = non_finite_at(value, f"{where}.{key}" if where else str(key))
            if found is not None:
                return found
    elif isinstance(data, (list, tuple)):
        for index, value in enumerate(data):
            found = non_finite_at(value, f"{where}[{index}]")
            if found is not None:
                return found
    return None


def check_finite(data: Any) -> None:
    """Raise :class:`NonFiniteError` naming where ``data`` holds NaN or an infinity (JSON has neither)."""
    found = non_finite_at(data)
    if found is not None:
        raise NonFiniteError(f"{found}: the result is not a finite number; this is a bug, please report it with the input")
