"""Log formats: a registry from a format's name to how DuckDB reads a file into the canonical columns.

Each :class:`Format` turns a file into a :class:`Source`: the SQL that yields
the canonical columns (:mod:`.columns`) raw, as the file holds them, with the
*kind* of each (integer, float, text, JSON, time...), which the checks use to
parse and validate them. Nothing here parses a row: DuckDB reads the file
(streamed, in parallel) when the engine runs the query built on that SQL.

- ``csv``: DuckDB's CSV reader; the header is read here (first line only);
  the reader parses the number columns itself and reads the others as text.
  Rows that do not parse (a number that is not one, a wrong field count, not
  UTF-8, a line over the cap, an unclosed quote) go to DuckDB's reject tables
  with their line number.
- ``jsonl``: one JSON object per line, read by DuckDB's JSON Lines reader.
  When it fails (a line that is not JSON, not an object, or gives a column
  twice) or a row is bad, the file is read again line by line: lines as text
  by DuckDB's CSV reader (one column, no quoting), each parsed by DuckDB's
  JSON functions, so each bad line is named; deep nesting is no risk
  (DuckDB's parser does not recurse).
- ``parquet``: DuckDB's Parquet reader; rows and row groups are checked
  against the caps from the metadata before any row is read.

The providers' usage exports (OpenAI, Anthropic, LiteLLM, OpenTelemetry) are
more entries, in :mod:`.providers`: each ``Format``'s ``open`` maps the
provider's fields to the canonical columns, and its ``sniff`` recognises its
content, so :func:`detect_format` finds it whatever the file's name.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError
from .checks import BadRowsError, sql_string
from .columns import LOG_COLUMNS, NUMBER_COLUMNS, OPTIONAL_COLUMNS, REQUIRED_COLUMNS, TIME_COLUMN
from .limits import CapError, Limits, setting

_NO_PLACE = "NULL::BIGINT AS _within, NULL::VARCHAR AS _where"
"""A request log's row has no place within its line (a usage export's rows do: ``data[0].results[3]``)."""
REJECTS_KEPT = 10_000
"""Errors DuckDB keeps in its CSV reject table per scan (the first ones, when the scan is ordered)."""
_GLOB = re.compile(r"[*?\[\]{}]")


@dataclass(frozen=True)
class Source:
    """A log file as DuckDB reads it: SQL yielding the canonical columns, raw, and how rows are numbered."""

    path: Path
    """The file DuckDB reads (a link without glob characters when the real name has some)."""
    name: str
    """The name shown in messages."""
    fmt: str
    columns: dict[str, str]
    """Canonical column -> kind: ``int``, ``float``, ``text``, ``json`` (text plus a ``<column>__kind`` column),
    ``time``, ``date`` or ``bool``. Columns absent from the file are absent here."""
    scan: str
    """SQL (a SELECT) yielding the canonical columns, ``_record`` (a problem of the whole record, or NULL)."""
    ordered_scan: str
    """``scan`` plus ``_position``: the row's position (``exact_positions``) or its ordinal among parsed records."""
    unit: str = "line"
    """What positions count: ``line`` (file lines, the header is line 1) or ``row`` (1-based rows)."""
    exact_positions: bool = False
    """``ordered_scan``'s ``_position`` is the row's position; else an ordinal that the line map turns into a line."""
    rejects: bool = False
    """DuckDB's reject tables hold the records that do not parse."""
    first_line: int = 1
    """Line of the first record (2 after a CSV header)."""
    quoted_lines: bool = False
    """A record may span lines inside quotes (CSV)."""
    dynamic_columns: bool = False
    """Columns are present when some row has a value (JSON Lines), not from a header or schema."""
    header: bytes = b""
    """The raw header line with its line end (CSV), prepended to each block by the Dask engine."""
    reject_fields: dict[str, str] = field(default_factory=dict)
    """The reader's column names -> canonical columns, for the messages of rejected rows."""
    fallback: Source | None = None
    """A slower source of the same rows that names every bad one (JSON Lines read line by line): used when this
    one fails to read the file or finds a bad row."""
    totals: bool = False
    """Each row gives token sums over its ``count`` requests (a usage export), not the tokens of one request."""
    requests_known: bool = True
    """The file counts its requests (Anthropic's usage report does not: its answer says ``requests: null``)."""
    splittable: bool = True
    """The Dask engine may cut the file into ranges of lines (a single JSON document is read whole)."""
    field_names: dict[str, str] = field(default_factory=dict)
    """Canonical column -> the file's own field, as messages name it (``count`` -> ``num_model_requests``)."""
    left_out: Callable[[Any], int] | None = None
    """``left_out(con)``: how many records ``scan`` leaves out on purpose (LiteLLM's failed requests and calls that are
    not text generation; counted in the answer by ``describe``), so that the records' ordinals still map to lines."""
    describe: Callable[[Any], dict[str, Any]] | None = None
    """``describe(con)``: what the answer says about the file besides the sums (a usage export's token convention,
    its fields that were not mapped and on how many rows, the rows it does not estimate); one query of its own."""


@dataclass(frozen=True)
class Format:
    """A registered log format: its name, file extensions, and how to open a file as a :class:`Source`."""

    name: str
    extensions: tuple[str, ...]
    description: str
    open: Callable[..., Source]
    blocks: str = "bytes"
    """How the Dask engine splits a file: ``bytes`` (ranges of lines) or ``row-groups``."""
    sniff: Callable[[bytes], bool] | None = None
    """Recognises the format from the file's first 64 KiB (the providers' exports: detected from their content)."""
    needs: str = ""
    """What the format needs, for the error about a file that looks like no known format."""


FORMATS: dict[str, Format] = {}
"""The registry: format name -> :class:`Format`."""


def register(fmt: Format) -> Format:
    """Add a format to the registry (its extensions must not be taken)."""
    taken = {ext for other in FORMATS.values() if other.name != fmt.name for ext in other.extensions}
    clash = sorted(set(fmt.extensions) & taken)
    if clash:
        raise ValueError(f"format {fmt.name}: extensions already registered: {', '.join(clash)}")
    FORMATS[fmt.name] = fmt
    return fmt


def extensions() -> dict[str, str]:
    """File extension -> format name."""
    return {ext: fmt.name for fmt in FORMATS.values() for ext in fmt.extensions}


SNIFF_BYTES = 1 << 16
"""Bytes read from the start of a file to recognise a provider's export."""


class UnknownFormatError(InvalidInputError):
    """A file that looks like none of the formats: the message says which were tried and what each needed."""

    code = "unknown-format"


def detect_format(path: str | os.PathLike, fmt: str | None = None, *, name: str | None = None) -> str:
    """The format: ``fmt`` if given; else a provider's export recognised from the content; else from the extension.
    ``name``: the file's name in messages (an upload's own name), else the path's."""
    if Path(path).is_dir():
        shown = name or Path(path).name
        allowed = "a log file (CSV, JSON Lines, Parquet or a provider's usage export)"
        raise InvalidInputError(f"{shown}: is a folder, not a file; allowed: {allowed}", code="not-a-file")
    if fmt is not None:
        name = str(fmt).strip().lower()
        if name not in FORMATS:
            raise InvalidInputError(f"format: unknown format {fmt!r}; allowed: {', '.join(FORMATS)}", code="unknown-format")
        return name
    suffix = Path(path).suffix.lower()
    by_extension = extensions()
    sniffers = [f for f in FORMATS.values() if f.sniff is not None]
    head = b""
    if sniffers and Path(path).is_file():
        try:
            with open(path, "rb") as handle:
                head = handle.read(SNIFF_BYTES)
        except OSError:
            head = b""
        for candidate in sniffers:
            if candidate.sniff(head):  # type: ignore[misc]
                return candidate.name
    if suffix in by_extension:
        found = by_extension[suffix]
        if found == "jsonl" and head.strip() and b'"input_tokens"' not in head:
            raise not_a_known_format(name or Path(path).name, "JSON without an input_tokens field in its first 64 KiB, and no provider's export recognised")
        return found
    raise not_a_known_format(name or Path(path).name, f"the extension {suffix!r} is none of {', '.join(sorted(by_extension))}")


def not_a_known_format(name: str, reason: str) -> UnknownFormatError:
    """The error for a file that looks like no known format: the formats tried, and what each needed."""
    tried = "; ".join(f"{fmt.name} ({fmt.needs})" for fmt in FORMATS.values() if fmt.needs)
    return UnknownFormatError(f"{name}: not a known log format ({reason}); tried: {tried}; or give the format (--format, ?format=)")


def open_source(path: Path, fmt: str, limits: Limits, con: Any, workdir: Path, *, name: str | None = None, **options: Any) -> Source:
    """The :class:`Source` of ``path`` in format ``fmt``; checks the file is readable and within the caps."""
    shown = name or path.name
    if not path.exists():
        raise InvalidInputError(f"{path}: file not found", code="file-not-found")
    if not path.is_file():
        raise InvalidInputError(f"{path}: not a file", code="unreadable-log")
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except OSError as error:
        raise InvalidInputError(f"{shown}: cannot read the file ({error.strerror or error})", code="unreadable-log") from None
    readable = _safe_path(path, workdir)
    return FORMATS[fmt].open(readable, shown, limits, con, **options)


def _safe_path(path: Path, workdir: Path) -> Path:
    """``path`` absolute; a link to it with a plain name when its name holds characters DuckDB reads as a glob."""
    path = path.resolve()
    if not _GLOB.search(str(path)) and "'" not in str(path):
        return path
    link = workdir / f"log{path.suffix.lower() if not _GLOB.search(path.suffix) else ''}"
    link.symlink_to(path)
    return link


# --- CSV ---------------------------------------------------------------------------------------


def read_header(path: Path, name: str, limits: Limits) -> tuple[list[str], bytes]:
    """The CSV header's field names (spaces around them removed) and its raw line; one-line errors for a bad header."""
    with open(path, "rb") as handle:
        head = handle.read(limits.max_line_bytes + 2)
    end = head.find(b"\n")
    if end < 0:
        if len(head) > limits.max_line_bytes:
            raise CapError(f"{name}: line 1 (the header) is longer than the cap of {limits.max_line_bytes:,} bytes ({setting('max_line_bytes')})")
        end = len(head)
    raw = head[: end + 1]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInputError(f"{name}: line 1 (the header): not UTF-8 text; save the log as UTF-8", code="bad-header") from None
    try:
        fields = next(csv.reader(io.StringIO(text.rstrip("\r\n"))), [])
    except csv.Error as error:  # a field over the csv module's limit (131,072 characters)
        raise CapError(f"{name}: line 1 (the header): {error}") from None
    if len(fields) > limits.max_columns:
        raise CapError(f"{name}: the header has {len(fields):,} fields, over the cap of {limits.max_columns:,}")
    return [field_name.strip() for field_name in fields], raw


def check_header(names: list[str], name: str) -> dict[str, int]:
    """Canonical column -> field index; a one-line error for a duplicate or a missing required column."""
    seen: dict[str, int] = {}
    for index, column in enumerate(names):
        if column in LOG_COLUMNS:
            if column in seen:
                raise InvalidInputError(
                    f"{name}: the header names {column!r} twice (fields {seen[column] + 1} and {index + 1}); a column must appear once",
                    code="duplicate-column",
                )
            seen[column] = index
    require(list(seen), name, names)
    return seen


def require(present: list[str], name: str, found: list[str] | None = None) -> None:
    """A one-line error when a required column is missing, with a hint when the header suggests why."""
    missing = [column for column in REQUIRED_COLUMNS if column not in present]
    if not missing:
        return
    hint = ""
    if found is not None:
        lowered = {column.lower(): column for column in found}
        if missing[0] in lowered:
            hint = f"; found {lowered[missing[0]]!r}: names are lower case"
        elif len(found) == 1 and any(sep in found[0] for sep in ";\t|"):
            sep = next(sep for sep in ";\t|" if sep in found[0])
            hint = f"; the header is one field {found[0][:80]!r}: fields must be separated by commas, not {sep!r}"
    raise MissingColumnError(
        f"{name}: missing column {missing[0]!r}; a log needs {' and '.join(REQUIRED_COLUMNS)} (optional: {', '.join(OPTIONAL_COLUMNS)}){hint}"
    )


class MissingColumnError(BadRowsError):
    """A required column is missing (when the format was not given, the file may be another format: see :func:`not_a_known_format`)."""


def _open_csv(path: Path, name: str, limits: Limits, con: Any, *, header: tuple[list[str], bytes] | None = None) -> Source:
    names, raw = header if header is not None else read_header(path, name, limits)
    present = check_header(names, name)
    # DuckDB's reader parses the number columns itself (faster than text then a cast); a cell that is not a
    # number is rejected with its line, like a row with a wrong field count. Everything else is read as text.
    numbers = {index for column, index in present.items() if column in NUMBER_COLUMNS}
    struct = "{" + ", ".join(f"'c{index}': '{'DOUBLE' if index in numbers else 'VARCHAR'}'" for index in range(len(names))) + "}"
    options = (
        f"header = true, auto_detect = false, columns = {struct}, delim = ',', quote = '\"', escape = '\"', "
        f"strict_mode = true, encoding = 'utf-8', max_line_size = {limits.max_line_bytes}, "
        f"store_rejects = true, rejects_limit = {REJECTS_KEPT}"
    )
    reader = f"read_csv({sql_string(str(path))}, {options})"
    columns = ", ".join(f"c{index} AS {column}" for column, index in present.items())
    return Source(
        path=path,
        name=name,
        fmt="csv",
        columns={column: "float" if column in NUMBER_COLUMNS else "text" for column in present},
        scan=f"SELECT {columns}, NULL::VARCHAR AS _record FROM {reader}",
        ordered_scan=f"SELECT row_number() OVER () AS _position, NULL::VARCHAR AS _line_text, {_NO_PLACE}, {columns}, NULL::VARCHAR AS _record FROM {reader}",
        unit="line",
        rejects=True,
        first_line=2,
        quoted_lines=True,
        header=raw,
        reject_fields={f"c{index}": column for column, index in present.items() if column in NUMBER_COLUMNS},
    )


# --- JSON Lines --------------------------------------------------------------------------------


def raw_lines(path: Path, limits: Limits, rejects: bool = True) -> str:
    """SQL reading the file's physical lines as text, one row per line (an empty line is NULL), in order."""
    options = (
        "header = false, auto_detect = false, columns = {'l': 'VARCHAR'}, delim = '\\0', quote = '', escape = '', "
        f"strict_mode = false, encoding = 'utf-8', max_line_size = {limits.max_line_bytes}"
    )
    if rejects:
        options += f", store_rejects = true, rejects_limit = {REJECTS_KEPT}"
    return f"read_csv({sql_string(str(path))}, {options})"


_JSON_STRUCT = "{" + ", ".join(f'"{column}": "JSON"' for column in LOG_COLUMNS) + "}"
_JSON_KEYS = ", ".join(sql_string(column) for column in LOG_COLUMNS)
_JSON_COLUMNS = "{" + ", ".join(f"'{column}': 'JSON'" for column in LOG_COLUMNS) + "}"


def _json_values(field: str) -> str:
    """Each canonical column of a JSON object as text (strings unquoted) and its JSON type (``<column>__kind``)."""
    return ", ".join(
        f"json_type({field}{column}) AS {column}__kind, "
        f"CASE WHEN json_type({field}{column}) = 'VARCHAR' THEN {field}{column} ->> '$' ELSE {field}{column}::VARCHAR END AS {column}"
        for column in LOG_COLUMNS
    )


def _open_jsonl(path: Path, name: str, limits: Limits, con: Any) -> Source:
    lines = _jsonl_lines(path, name, limits)
    # The fast path: DuckDB's JSON Lines reader, strict (a line that is not an object with distinct keys is an
    # error there); any error, or any bad row, sends the engine to the line-by-line source, which names them.
    reader = f"read_json({sql_string(str(path))}, format = 'newline_delimited', columns = {_JSON_COLUMNS})"
    return replace(lines, scan=f"SELECT {_json_values('')}, NULL::VARCHAR AS _record FROM {reader}", rejects=False, fallback=lines)


def _jsonl_lines(path: Path, name: str, limits: Limits) -> Source:
    """JSON Lines read line by line: each line is parsed on its own, so each bad line is named."""
    # A record problem: not JSON, not an object, or a column given twice (DuckDB would keep the first silently).
    keys = f"list_filter(json_keys(l), lambda k: k IN ({_JSON_KEYS}))"
    record = (
        "CASE WHEN NOT json_valid(l) THEN 'invalid' "
        "WHEN json_type(l) <> 'OBJECT' THEN 'type:' || json_type(l) "
        f"WHEN len({keys}) <> len(list_distinct({keys})) THEN 'duplicate' END"
    )
    parsed = f"CASE WHEN json_valid(l) THEN CASE WHEN json_type(l) = 'OBJECT' THEN from_json(l, '{_JSON_STRUCT}') END END"
    lines = raw_lines(path, limits)

    def scan(position: str) -> str:
        inner = f"SELECT {position}l, {parsed} AS s FROM {lines}"
        kept = f"_position, CASE WHEN s IS NULL THEN l END AS _line_text, {_NO_PLACE}, " if position else ""
        return f"SELECT {kept}{_json_values('s.')}, {record} AS _record FROM ({inner}) WHERE l IS NOT NULL AND trim(l) <> ''"

    return Source(
        path=path,
        name=name,
        fmt="jsonl",
        columns=dict.fromkeys(LOG_COLUMNS, "json"),
        scan=scan(""),
        ordered_scan=scan("row_number() OVER () AS _position, "),
        unit="line",
        rejects=True,
        first_line=1,
        dynamic_columns=True,
    )


# --- Parquet -----------------------------------------------------------------------------------

_KINDS = (
    (re.compile(r"^(U?TINYINT|U?SMALLINT|U?INTEGER|U?BIGINT|U?HUGEINT)$"), "int"),
    (re.compile(r"^(FLOAT|DOUBLE|DECIMAL\(\d+,\s*\d+\))$"), "float"),
    (re.compile(r"^VARCHAR$"), "text"),
    (re.compile(r"^TIMESTAMP(_S|_MS|_NS| WITH TIME ZONE)?$"), "time"),
    (re.compile(r"^DATE$"), "date"),
    (re.compile(r"^BOOLEAN$"), "bool"),
)


def kind_of(sql_type: str) -> str:
    """The kind of a DuckDB type: ``int``, ``float``, ``text``, ``time``, ``date``, ``bool``, or ``other``."""
    for pattern, kind in _KINDS:
        if pattern.match(sql_type):
            return kind
    return "other"


def parquet_columns(path: Path, name: str, con: Any) -> list[tuple[str, str]]:
    """Top-level ``(name, DuckDB type)`` of a Parquet file; a one-line error for duplicate names."""
    import duckdb

    try:
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({sql_string(str(path))})").fetchall()
        schema = con.execute(f"SELECT name, num_children FROM parquet_schema({sql_string(str(path))})").fetchall()
    except duckdb.Error as error:
        raise unreadable(name, "Parquet", error) from None
    top: list[str] = []
    index, remaining = 1, schema[0][1] if schema else 0
    while remaining and index < len(schema):
        top.append(schema[index][0])
        skip = [schema[index][1] or 0]
        index += 1
        while skip[-1] or len(skip) > 1:  # walk past the column's nested children
            if skip[-1] == 0:
                skip.pop()
                continue
            skip[-1] -= 1
            skip.append(schema[index][1] or 0)
            index += 1
        remaining -= 1
    for column in LOG_COLUMNS:
        if top.count(column) > 1:
            raise InvalidInputError(f"{name}: the file has two columns named {column!r}; a column must appear once", code="duplicate-column")
    return [(row[0], str(row[1])) for row in described]


def unreadable(name: str, what: str, error: Exception) -> InvalidInputError:
    """A one-line error for a file DuckDB cannot read (the first line of DuckDB's message, shortened)."""
    text = str(error)
    if "Invalid unicode" in text:  # DuckDB's CSV reader (a JSON export's lines are read by it too)
        line = re.search(r"Line: (\d+)", text)
        return InvalidInputError(f"{name}: {'line ' + line.group(1) + ': ' if line else ''}not UTF-8 text; save the file as UTF-8", code="unreadable-log")
    message = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    message = re.sub(r"^[A-Za-z ]*Error: ", "", message)
    # DuckDB quotes the path it read: an upload's is the server's temporary folder (/tmp/genai-batch-x/upload.parquet).
    message = re.sub(r"'(?:[A-Za-z]:)?[/\\][^']*'", lambda _: repr(name), message)
    if len(message) > 200:
        message = message[:200] + "..."
    return InvalidInputError(f"{name}: not a readable {what} file ({message})", code="unreadable-log")


def _open_parquet(path: Path, name: str, limits: Limits, con: Any, *, rows: tuple[int, int] | None = None) -> Source:
    import duckdb

    literal = sql_string(str(path))
    try:
        rows_total, groups = con.execute(f"SELECT num_rows, num_row_groups FROM parquet_file_metadata({literal})").fetchall()[0]
    except duckdb.Error as error:
        raise unreadable(name, "Parquet", error) from None
    if rows_total > limits.max_rows:
        raise CapError(f"{name}: {rows_total:,} rows, over the cap of {limits.max_rows:,} rows ({setting('max_rows')})")
    if groups > limits.max_row_groups:
        cap = setting("max_row_groups")
        raise CapError(f"{name}: {groups:,} row groups, over the cap of {limits.max_row_groups:,} ({cap}; or rewrite it with larger row groups)")
    described = parquet_columns(path, name, con)
    kinds: dict[str, str] = {}
    for column, sql_type in described:
        if column not in LOG_COLUMNS:
            continue
        kind = kind_of(sql_type)
        allowed = _allowed_kinds(column)
        if kind not in allowed:
            raise InvalidInputError(
                f"{name}: column {column!r} has type {sql_type}; allowed: {_describe_kinds(column)}",
                code="bad-column-type",
            )
        kinds[column] = kind
    require(list(kinds), name)
    selected = ", ".join(kinds)
    where = f" WHERE file_row_number >= {rows[0]} AND file_row_number < {rows[1]}" if rows else ""
    reader = f"read_parquet({literal}{', file_row_number = true' if rows else ''})"
    ordered_reader = f"read_parquet({literal}, file_row_number = true)"
    return Source(
        path=path,
        name=name,
        fmt="parquet",
        columns=kinds,
        scan=f"SELECT {selected}, NULL::VARCHAR AS _record FROM {reader}{where}",
        ordered_scan=(
            f"SELECT file_row_number + 1 AS _position, NULL::VARCHAR AS _line_text, {_NO_PLACE}, {selected}, NULL::VARCHAR AS _record "
            f"FROM {ordered_reader}{where}"
        ),
        unit="row",
        exact_positions=True,
    )


def _allowed_kinds(column: str) -> tuple[str, ...]:
    if column in NUMBER_COLUMNS:
        return ("int", "float", "text", "bool")
    if column == TIME_COLUMN:
        return ("time", "date", "int", "float", "text")
    return ("int", "float", "text", "bool", "date", "time")


def _describe_kinds(column: str) -> str:
    if column in NUMBER_COLUMNS:
        return "integers (or numbers or text holding integers)"
    if column == TIME_COLUMN:
        return "timestamps, dates, Unix seconds or ISO 8601 text"
    return "text"


def frame_source(con: Any, frame: Any, name: str, kinds: dict[str, str] | None = None, table: str = "log_frame") -> Source:
    """A pandas DataFrame (or Arrow table) registered in DuckDB as a :class:`Source`: a user's frame (kinds from its
    types, rows numbered from 1), or a Dask partition that holds a file's canonical columns (``kinds`` given)."""
    con.register(table, frame)
    if kinds is None:
        kinds = {}
        for column, sql_type, *_ in con.execute(f"DESCRIBE SELECT * FROM {table}").fetchall():
            if column not in LOG_COLUMNS:
                continue
            kind = kind_of(str(sql_type))
            if kind not in _allowed_kinds(column):
                raise InvalidInputError(f"{name}: column {column!r} has type {sql_type}; allowed: {_describe_kinds(column)}", code="bad-column-type")
            kinds[column] = kind
        require(list(kinds), name)
        selected = ", ".join(f'"{column}"' for column in kinds)
        scan = f"SELECT {selected}, NULL::VARCHAR AS _record FROM {table}"
        ordered = f"SELECT row_number() OVER () AS _position, NULL::VARCHAR AS _line_text, {_NO_PLACE}, {selected}, NULL::VARCHAR AS _record FROM {table}"
    else:
        scan = ordered = f"SELECT * FROM {table}"
    return Source(path=Path(), name=name, fmt="dataframe", columns=kinds, scan=scan, ordered_scan=ordered, unit="row")


_CANONICAL_NEEDS = "input_tokens and output_tokens"
register(Format("csv", (".csv",), "comma-separated values with a header line", _open_csv, needs=f"a .csv file whose header names {_CANONICAL_NEEDS}"))
register(
    Format(
        "jsonl", (".jsonl", ".ndjson", ".json"), "JSON Lines: one JSON object per line", _open_jsonl, needs=f"one JSON object per line with {_CANONICAL_NEEDS}"
    )
)
register(Format("parquet", (".parquet", ".pq"), "Apache Parquet", _open_parquet, blocks="row-groups", needs=f"a .parquet file with columns {_CANONICAL_NEEDS}"))


@dataclass
class Workdir:
    """A private temporary folder for one estimate: DuckDB's spill files, links, Dask blocks."""

    path: Path = field(default_factory=lambda: Path())

    def __enter__(self) -> Path:
        import tempfile

        self.path = Path(tempfile.mkdtemp(prefix="genai-carbon-log-"))
        return self.path

    def __exit__(self, *exc: object) -> None:
        import shutil

        shutil.rmtree(self.path, ignore_errors=True)
