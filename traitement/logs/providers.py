"""The providers' usage exports as log formats: OpenAI, Anthropic, LiteLLM and OpenTelemetry (docs/usage-exports.md).

Each is one more :class:`~.formats.Format` of the registry, recognised from its
content (``sniff``) and read by DuckDB into the canonical columns
(:mod:`.columns`), so the one definition of the row checks (:mod:`.checks`),
the sums (:mod:`.query`) and both engines serve them unchanged:

- ``openai-usage``: the organization Usage API for completions: pages
  (``object: page``) of time buckets holding ``results``; a result's
  ``num_model_requests`` is its ``count``;
- ``anthropic-usage``: the Admin API usage report for messages: pages of
  buckets (``starting_at``/``ending_at``) holding ``results``; input tokens
  are converted to OpenAI's convention (uncached + cache read + cache writes);
  it does not count requests;
- ``litellm-spend-logs``: the LiteLLM proxy's spend logs (the
  ``LiteLLM_SpendLogs`` table) exported as CSV, or as JSON (an array of
  records, or JSON Lines): one request per row;
- ``otel-genai``: OpenTelemetry spans as OTLP JSON (``resourceSpans`` /
  ``scopeSpans`` / ``spans``) with the GenAI semantic conventions' attributes:
  one request per inference span.

A JSON export is read as documents: one per line (JSON Lines, what the APIs'
pages saved one per line and the OpenTelemetry collector's file exporter
write), or the whole file as one document (a page, an array of pages, a trace
request), each parsed by DuckDB's ``from_json`` and unnested in SQL. A first
query takes the union of the documents' structures (``json_structure``): it
names the fields the reader does not know (then counted, and reported with
the number of rows that carry them), and when every token field holds plain
integers the rows are read as numbers; otherwise as JSON values, so that a
string, a boolean or a list is named by the checks. A row's position is its
line (or its page or record in a single document) and its place in it
(``data[0].results[3]``).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError
from .checks import number_from_text, sql_string
from .columns import KEY_COLUMNS
from .formats import Format, MissingColumnError, Source, read_header, register, unreadable
from .limits import CapError, Limits, setting

# --- JSON documents -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Documents:
    """A JSON export as DuckDB reads it: ``sql`` yields ``_doc`` (the line, or 1) and ``l`` (one document's text)."""

    sql: str
    lines: bool
    """One document per line (JSON Lines); else the whole file is one document."""


def documents(path: Path, name: str, limits: Limits) -> Documents:
    """The documents of a JSON export: JSON Lines when its first line holds a whole object or array, else one document."""
    head = b""
    with open(path, "rb") as handle:  # up to the first line's end past the leading blank lines (a page may be long)
        while len(head) <= limits.max_document_bytes:
            chunk = handle.read(1 << 20)
            head += chunk
            if not chunk or b"\n" in head.lstrip(b"\xef\xbb\xbf \t\r\n"):
                break
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    first = text.split(b"\n", 1)[0].strip()
    lines = len(first) > 1 and ((first[:1] == b"{" and first[-1:] == b"}") or (first[:1] == b"[" and first[-1:] == b"]"))
    literal = sql_string(str(path))
    if lines:
        options = (
            "header = false, auto_detect = false, columns = {'l': 'VARCHAR'}, delim = '\\0', quote = '', escape = '', "
            f"strict_mode = false, encoding = 'utf-8', max_line_size = {limits.max_document_bytes}, buffer_size = {limits.max_document_bytes}"
        )
        return Documents(f"SELECT row_number() OVER () AS _doc, l FROM read_csv({literal}, {options})", True)
    size = path.stat().st_size
    if size > limits.max_document_bytes:
        raise CapError(
            f"{name}: one JSON document of {size:,} bytes, over the cap of {limits.max_document_bytes:,} ({setting('max_document_bytes')}); "
            "save the pages one per line (JSON Lines), or raise the cap"
        )
    no_bom = "CASE WHEN starts_with(content, chr(65279)) THEN substr(content, 2) ELSE content END"  # a byte order mark before the JSON
    return Documents(f"SELECT 1::BIGINT AS _doc, {no_bom} AS l FROM read_text({literal})", False)


NOT_BLANK = "l IS NOT NULL AND regexp_matches(l, '\\S')"
"""SQL: a document's line holds something (``trim(l) <> ''`` copies each line: seconds on a 250 MB export)."""


def json_kind(value: str) -> str:
    """SQL: the JSON type of a JSON value's text (``VARCHAR``, ``BOOLEAN``, ``ARRAY``, ``OBJECT``, ``NULL``, ``DOUBLE``), from its first character."""
    return (
        f"CASE WHEN {value} IS NULL THEN NULL ELSE CASE left({value}::VARCHAR, 1) WHEN '\"' THEN 'VARCHAR' WHEN 't' THEN 'BOOLEAN' "
        f"WHEN 'f' THEN 'BOOLEAN' WHEN '[' THEN 'ARRAY' WHEN '{{' THEN 'OBJECT' WHEN 'n' THEN 'NULL' ELSE 'DOUBLE' END END"
    )


def json_text(value: str) -> str:
    """SQL: a JSON value as the checks read it: a string unquoted, JSON null as NULL, anything else its text."""
    return f"CASE WHEN left({value}::VARCHAR, 1) = '\"' THEN {value}->>'$' WHEN {value}::VARCHAR = 'null' THEN NULL ELSE {value}::VARCHAR END"


def json_number_columns(mapping: dict[str, str], typed: bool) -> list[str]:
    """SELECT items of canonical number (or time) columns from JSON values: the value and ``<column>__kind`` (kind ``json``),
    or the value as a DOUBLE (kind ``float``) when the structure pass found only integers there."""
    out = []
    for column, value in mapping.items():
        if typed:
            out.append(f"{value} AS {column}")
        else:
            out += [f"{json_kind(value)} AS {column}__kind", f"{json_text(value)} AS {column}"]
    return out


def unnest_rows(docs: Documents, doc_type: str, row_type: str, rows: str, problem: str) -> str:
    """SQL yielding one row per provider row: ``_doc``, ``pi`` (the document's index in its array, else 1), ``x``
    (a struct of ``row_type``: the row's indices, fields and ``problem``), ``_array`` (the document was an array).

    ``rows(p, pi)`` is SQL listing the rows of one parsed document ``p``; ``problem`` the SQL of a problem with a
    document that parses (NULL if none), in terms of ``pages`` (the list of parsed documents).
    """
    array = "left(ltrim(l), 1) = '['"
    parsed = f"TRY(from_json(CASE WHEN {array} THEN l ELSE '[' || l || ']' END, '[{doc_type}]'))"

    def problem_row(code: str) -> str:
        return f"[{{'problem': {code}}}::{row_type}]"

    listing = (
        f"CASE WHEN pages IS NULL THEN {problem_row(sql_string('invalid'))} "
        f"WHEN ({problem}) IS NOT NULL THEN {problem_row(problem)} "
        f"ELSE flatten(list_transform(pages, lambda p, pi: {rows})) END"
    )
    inner = f"SELECT _doc, {array} AS _array, {parsed} AS pages FROM ({docs.sql}) WHERE {NOT_BLANK}"
    return f"SELECT _doc, _array, unnest({listing}) AS x FROM ({inner})"


def unnest_buckets(docs: Documents, doc_type: str, not_page: str, time_field: str, arrays: set[bool]) -> str:
    """SQL yielding ``x`` (a struct: ``t`` the bucket's time, ``r`` the result, ``problem``) per result of pages of
    buckets of results, by plain unnests: the fast scan of the sums. :func:`unnest_rows` builds the same rows with their
    indices for the ordered scan that names bad rows (it wraps each line in brackets and builds lists of structs per
    page: on a 250 MB export, twice the time and 2.2 times the memory). A page that does not parse, or has no ``data``
    list (``not_page``: the problem's text), is one row with ``r`` NULL and its problem. ``arrays``: the kinds of documents
    the structure pass found (reading the lines twice, for both kinds, holds twice the memory)."""
    array = "left(ltrim(l), 1) = '['"
    page_problem = f"CASE WHEN p IS NULL THEN 'invalid' WHEN p.data IS NULL THEN {sql_string(not_page)} END"
    objects = f"SELECT p, {page_problem} AS problem FROM (SELECT TRY(from_json(l, '{doc_type}')) AS p FROM ({docs.sql}) WHERE {NOT_BLANK} AND NOT {array})"
    # An array of pages: one row for the whole line when a page is not one (as unnest_rows does, so both count alike).
    doc_problem = f"CASE WHEN pages IS NULL THEN 'invalid' WHEN list_bool_or(list_transform(pages, lambda q: q.data IS NULL)) THEN {sql_string(not_page)} END"
    listed = f"SELECT pages, {doc_problem} AS problem FROM (SELECT TRY(from_json(l, '[{doc_type}]')) AS pages FROM ({docs.sql}) WHERE {NOT_BLANK} AND {array})"
    arrays_sql = f"SELECT unnest(CASE WHEN problem IS NULL THEN pages ELSE [NULL] END) AS p, problem FROM ({listed})"
    kinds = [f"SELECT p, problem FROM ({sql})" for sql, kind in ((objects, False), (arrays_sql, True)) if kind in arrays]
    pages = " UNION ALL ".join(kinds) or f"SELECT p, problem FROM ({objects})"  # no document: nothing to read
    buckets = f"SELECT problem, unnest(CASE WHEN problem IS NULL THEN p.data ELSE [NULL] END) AS b FROM ({pages})"
    results = f"SELECT problem, b, unnest(CASE WHEN problem IS NULL THEN b.results ELSE [NULL] END) AS r FROM ({buckets})"
    return f"SELECT {{'t': b.{time_field}, 'r': r, 'problem': problem}} AS x FROM ({results})"


def positions(docs: Documents, noun: str, where: str) -> tuple[str, str, str]:
    """SQL of ``_position`` (the line, or the document's index in the file's array), ``_within`` (the row's order in it) and
    ``_where`` (its place: ``[1].data[0].results[3]``), from ``_doc``, ``_array`` and the row's indices; and the unit."""
    if docs.lines:
        return "_doc", f"CASE WHEN _array THEN '[' || (x.pi - 1) || '].' ELSE '' END || {where}", "line"
    return "coalesce(x.pi, 1)", where, noun


@dataclass(frozen=True)
class Structure:
    """The union of the documents' structures: each field's path and the JSON types it holds, and the fields not known."""

    types: dict[str, set[str]] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    json_paths: dict[str, str] = field(default_factory=dict)
    """An unknown field's path -> its JSON path, each key quoted (a key may hold dots, spaces or quotes)."""
    arrays: set[bool] = field(default_factory=set)
    """Whether the documents are arrays of pages (True), single pages (False), or both: the fast scan reads only those."""
    mismatched: dict[str, str] = field(default_factory=dict)
    """A known field that holds another JSON type than the format's (a list where an object goes...) -> what it holds."""

    def check(self, name: str, root: str = "the document") -> None:
        """A one-line error naming the first field whose type is not the format's: its rows would otherwise be lost."""
        if self.mismatched:
            path, found = next(iter(self.mismatched.items()))
            more = f" (and {len(self.mismatched) - 1:,} more such fields)" if len(self.mismatched) > 1 else ""
            raise InvalidInputError(f"{name}: {path or root} holds {found}{more}; nothing estimated", code="bad-rows")


def walk(structure: Any, known: Any, prefix: str, out: Structure, json_prefix: str = "$") -> None:
    """Record the types of ``structure`` (a ``json_structure`` value) by path; paths absent from ``known`` are unknown.
    ``known``: a dict of the known keys, a one-item list (an array's items), or a string (a known field, whatever it holds)."""
    if isinstance(known, str) and isinstance(structure, dict | list):
        out.types.setdefault(prefix, set()).add("OBJECT" if isinstance(structure, dict) else "ARRAY")
        return
    # A field of another type than the format's (a document that is not one is named by its line, not here).
    if prefix and isinstance(known, dict | list) and structure not in ("NULL", "JSON") and not isinstance(structure, type(known)):  # JSON: {} or mixed
        kind = _JSON_TYPE_NAMES.get(str(structure), "value")
        found = "an object" if isinstance(structure, dict) else "a list" if isinstance(structure, list) else f"a {kind}"
        out.mismatched.setdefault(prefix, f"{found}, not {'a list' if isinstance(known, list) else 'an object'}")
        return
    if isinstance(structure, dict):
        for key, value in structure.items():
            path = f"{prefix}.{key}" if prefix else key
            json_path = f"{json_prefix}.{json.dumps(key)}"
            if not isinstance(known, dict) or key not in known:
                if path not in out.unknown:
                    out.unknown.append(path)
                    out.json_paths[path] = json_path
                continue
            walk(value, known[key], path, out, json_path)
    elif isinstance(structure, list):
        item = known[0] if isinstance(known, list) and known else known
        walk(structure[0] if structure else "NULL", item, prefix + "[]", out, json_prefix + "[*]")
    else:
        out.types.setdefault(prefix, set()).add(str(structure))


def structure_of(con: Any, docs: Documents, known: dict[str, Any], root: str = "") -> Structure:
    """The structure pass: the union of the documents' structures (an array document: its elements'), with ``known`` the fields the reader knows."""
    sql = f"SELECT DISTINCT left(ltrim(l), 1) = '[', TRY(json_structure(l)) FROM ({docs.sql}) WHERE {NOT_BLANK}"
    out = Structure()
    for array, text in con.execute(sql).fetchall():
        out.arrays.add(bool(array))
        if text is None:
            continue
        value = json.loads(text)  # nested deeper than Python recurses: RecursionError, a one-line error in _guarded
        if isinstance(value, list):  # an array of documents
            value = value[0] if value else {}
        walk(value, known, root, out)
    return out


def _guarded(what: str) -> Callable[[Callable[..., Source]], Callable[..., Source]]:
    """Decorator of a format's ``open``: DuckDB's errors and JSON nested too deep as one-line errors, never a traceback."""

    def decorate(open_source: Callable[..., Source]) -> Callable[..., Source]:
        def guarded(path: Path, name: str, limits: Limits, con: Any, **options: Any) -> Source:
            import duckdb

            try:
                return open_source(path, name, limits, con, **options)
            except RecursionError:
                raise InvalidInputError(
                    f"{name}: JSON nested too deep to read (about {sys.getrecursionlimit():,} levels or more; the {what} format nests a few levels)",
                    code="unreadable-log",
                ) from None
            except duckdb.OutOfMemoryException:
                raise CapError(f"{name}: needs more memory than the cap of {limits.memory_limit_mb:,} MiB ({setting('memory_limit_mb')})") from None
            except duckdb.Error as error:
                raise unreadable(name, what, error) from None

        guarded.__doc__ = open_source.__doc__
        return guarded

    return decorate


_INTEGER_TYPES = {"UBIGINT", "BIGINT", "NULL"}
_JSON_TYPE_NAMES = {"VARCHAR": "string", "BOOLEAN": "boolean", "JSON": "mix of types", **dict.fromkeys(("UBIGINT", "BIGINT", "DOUBLE", "HUGEINT"), "number")}


def plain_integers(structure: Structure, paths: list[str]) -> bool:
    """Every one of ``paths`` holds JSON integers (or null) in every document: read as numbers, exactly."""
    return all(structure.types.get(path, {"NULL"}) <= _INTEGER_TYPES for path in paths)


def count_carriers(con: Any, docs: Documents, paths: list[str], json_paths: dict[str, str] | None = None) -> dict[str, int]:
    """How many rows (objects at the path's last level) carry each field of ``paths`` (``data[].results[].x``); ``json_paths``:
    their JSON paths with quoted keys (:attr:`Structure.json_paths`), else built from the paths."""
    if not paths:
        return {}
    items = []
    array = "CASE WHEN left(ltrim(l), 1) = '[' THEN l ELSE '[' || l || ']' END"  # a document, or an array of them: always a list
    for index, path in enumerate(paths):
        json_path = (json_paths or {}).get(path) or "$." + path.replace("[]", "[*]")
        extract = f"json_extract({array}, {sql_string('$[*]' + json_path[1:])})"
        items.append(f"sum(len(TRY({extract}))) AS c{index}")
    sql = f"SELECT {', '.join(items)} FROM ({docs.sql}) WHERE {NOT_BLANK}"
    counts = con.execute(sql).fetchall()[0]
    return {path: int(count or 0) for path, count in zip(paths, counts, strict=True)}


def fields_block(mapped: dict[str, str], structure: Structure, details: dict[str, str], unmapped: dict[str, int], more: int = 0) -> dict[str, Any]:
    """The answer's ``fields``: the provider's field behind each canonical column, the known fields present but not used
    (with why), and the fields the reader does not know with the rows that carry them (``unmapped_not_listed``: how many
    more, past :data:`MAX_FIELDS_LISTED`)."""
    present = set(structure.types)
    out = {
        "mapped": mapped,
        "not_used": {path: why for path, why in details.items() if any(key == path or key.startswith(path + ".") for key in present)},
        "unmapped": unmapped,
    }
    return out | ({"unmapped_not_listed": more} if more else {})


MAX_FIELDS_LISTED = 100
"""Unknown fields listed (and counted) in an answer; past it, their number only (a hostile file may hold 100,000 keys)."""


def listed(paths: list[str]) -> tuple[list[str], int]:
    """The unknown fields to list and count, and how many more there are."""
    return paths[:MAX_FIELDS_LISTED], max(0, len(paths) - MAX_FIELDS_LISTED)


def unmapped_warnings(unmapped: dict[str, int], noun: str, more: int = 0) -> list[str]:
    out = [f"field {path!r}: not known to this reader, not used ({rows:,} {noun} carry it)" for path, rows in unmapped.items()]
    if more:
        out.append(f"and {more:,} more fields not known to this reader, not used (not listed: at most {MAX_FIELDS_LISTED} are)")
    return out


def sniff_keys(head: bytes, required: tuple[bytes, ...], any_of: tuple[bytes, ...] = ()) -> bool:
    """The file's first bytes hold every key of ``required`` (as ``"key"``) and one of ``any_of``."""
    return all(b'"' + key + b'"' in head for key in required) and (not any_of or any(b'"' + key + b'"' in head for key in any_of))


_NEEDS_JSON = "JSON documents"

# --- OpenAI organization Usage API, completions -----------------------------------------------------

OPENAI_RESULT_TOKENS = {
    "input_tokens": "input_tokens",
    "cached_input_tokens": "input_cached_tokens",
    "output_tokens": "output_tokens",
    "count": "num_model_requests",
}
OPENAI_KEYS = {"model": "model", "project_id": "project_id", "user_id": "user_id", "api_key_id": "api_key_id", "batch": "batch", "service_tier": "service_tier"}
OPENAI_DETAILS = {
    "object": "the object's type (page, bucket, organization.usage.completions.result)",
    "has_more": "pagination",
    "next_page": "pagination",
    "data[].end_time": "the bucket's end (its start dates the requests)",
    "data[].results[].object": "the result's type",
    "data[].results[].input_uncached_tokens": "a detail of input_tokens (input_tokens - input_cached_tokens)",
    "data[].results[].input_text_tokens": "a detail of input_tokens (text)",
    "data[].results[].input_audio_tokens": "a detail of input_tokens (audio; estimated as text tokens)",
    "data[].results[].input_image_tokens": "a detail of input_tokens (images; estimated as text tokens)",
    "data[].results[].input_cached_text_tokens": "a detail of input_cached_tokens",
    "data[].results[].input_cached_audio_tokens": "a detail of input_cached_tokens",
    "data[].results[].input_cached_image_tokens": "a detail of input_cached_tokens",
    "data[].results[].output_text_tokens": "a detail of output_tokens (text)",
    "data[].results[].output_audio_tokens": "a detail of output_tokens (audio; estimated as text tokens)",
    "data[].results[].output_image_tokens": "a detail of output_tokens (images; estimated as text tokens)",
}
"""Fields of the reference that the estimate does not need, and why (listed in the answer when present)."""
_OPENAI_RESULT_KNOWN = {
    **{key: "" for key in (*OPENAI_RESULT_TOKENS.values(), *OPENAI_KEYS.values())},
    **{path.rsplit(".", 1)[1]: "" for path in OPENAI_DETAILS if path.startswith("data[].results[].")},
}
OPENAI_KNOWN = {
    "object": "",
    "has_more": "",
    "next_page": "",
    "data": [{"object": "", "start_time": "", "end_time": "", "results": [_OPENAI_RESULT_KNOWN]}],
}
OPENAI_CONVENTION = (
    "OpenAI's convention, the calculator's: input_tokens include the cached ones (input_cached_tokens); output_tokens are all the "
    "tokens written; the Usage API does not report reasoning tokens apart (0); num_model_requests is each result's request count"
)


def _sniff_openai(head: bytes) -> bool:
    page = re.search(rb'"object"\s*:\s*"page"', head) is not None
    return page and (sniff_keys(head, (b"data",), (b"results", b"start_time", b"num_model_requests")) or re.search(rb'"data"\s*:\s*\[\s*\]', head) is not None)


@_guarded("OpenAI usage export")
def _open_openai(path: Path, name: str, limits: Limits, con: Any) -> Source:
    docs = documents(path, name, limits)
    structure = structure_of(con, docs, OPENAI_KNOWN)
    structure.check(name)
    typed = plain_integers(structure, [f"data[].results[].{field_name}" for field_name in OPENAI_RESULT_TOKENS.values()] + ["data[].start_time"])
    number = "DOUBLE" if typed else "JSON"
    items = [*(f'"{key}": "{number}"' for key in OPENAI_RESULT_TOKENS.values()), *(f'"{key}": "VARCHAR"' for key in OPENAI_KEYS.values())]
    result_type = "{" + ", ".join(items) + "}"
    doc_type = '{"object": "VARCHAR", "data": [{"start_time": "' + number + '", "results": [' + result_type + "]}]}"
    result_sql = con.execute(f"SELECT typeof(from_json('{{}}', '{result_type}'))").fetchall()[0][0]
    row_type = f"STRUCT(pi BIGINT, bi BIGINT, ri BIGINT, t {'DOUBLE' if typed else 'JSON'}, r {result_sql}, problem VARCHAR)"
    rows = (
        f"flatten(list_transform(p.data, lambda b, bi: list_transform(b.results, lambda r, ri: "
        f"{{'pi': pi, 'bi': bi, 'ri': ri, 't': b.start_time, 'r': r, 'problem': NULL}}::{row_type})))"
    )
    problem = "CASE WHEN list_bool_or(list_transform(pages, lambda p: p.data IS NULL)) THEN 'not-page:a page (object: page) with a data list of buckets' END"
    source = unnest_rows(docs, doc_type, row_type, rows, problem)
    fast = unnest_buckets(docs, doc_type, "not-page:a page (object: page) with a data list of buckets", "start_time", structure.arrays)
    numbers = {column: f"x.r.{key}" for column, key in OPENAI_RESULT_TOKENS.items()}
    numbers["timestamp"] = "x.t"
    columns = json_number_columns(numbers, typed)
    columns += [f"x.r.{key} AS {column}" for column, key in OPENAI_KEYS.items()]
    position, where, unit = positions(docs, "page", "'data[' || (x.bi - 1) || '].results[' || (x.ri - 1) || ']'")
    record = "CASE WHEN x.problem IS NOT NULL THEN 'problem:' || x.problem END AS _record"
    scan = f"SELECT {', '.join(columns)}, {record} FROM ({fast})"
    ordered = (
        f"SELECT {position} AS _position, coalesce(x.bi, 0) * 1000000000 + coalesce(x.ri, 0) AS _within, "
        f"CASE WHEN x.problem IS NULL THEN {where} END AS _where, NULL::VARCHAR AS _line_text, {', '.join(columns)}, {record} FROM ({source})"
    )
    kinds = {column: "float" if typed else "json" for column in numbers} | {column: "text" for column in OPENAI_KEYS}

    def describe(con: Any) -> dict[str, Any]:
        shown, more = listed(structure.unknown)
        unmapped = count_carriers(con, docs, shown, structure.json_paths)
        return {
            "token_convention": OPENAI_CONVENTION,
            "fields": fields_block(
                {column: f"data[].results[].{key}" for column, key in {**OPENAI_RESULT_TOKENS, **OPENAI_KEYS}.items()} | {"timestamp": "data[].start_time"},
                structure,
                OPENAI_DETAILS,
                unmapped,
                more,
            ),
            "warnings": unmapped_warnings(unmapped, "results or buckets", more),
        }

    return Source(
        path=path,
        name=name,
        fmt="openai-usage",
        columns=kinds,
        scan=scan,
        ordered_scan=ordered,
        unit=unit,
        exact_positions=not docs.lines,
        totals=True,
        splittable=docs.lines,
        describe=describe,
        field_names={"count": "num_model_requests", "cached_input_tokens": "input_cached_tokens", "timestamp": "start_time"},
    )


# --- Anthropic Admin API usage report, messages ------------------------------------------------------

ANTHROPIC_PARTS = ("uncached_input_tokens", "cache_read_input_tokens", "cache_creation.ephemeral_5m_input_tokens", "cache_creation.ephemeral_1h_input_tokens")
"""Anthropic's input, in four parts: the calculator's input_tokens is their sum."""
ANTHROPIC_KEYS = {
    "model": "model",
    "workspace_id": "workspace_id",
    "api_key_id": "api_key_id",
    "service_tier": "service_tier",
    "context_window": "context_window",
}
ANTHROPIC_DETAILS = {
    "has_more": "pagination",
    "next_page": "pagination",
    "data[].ending_at": "the bucket's end (its start dates the tokens)",
    "data[].results[].server_tool_use": "server tools' use (web search requests): not text generation, not estimated",
}
ANTHROPIC_KNOWN = {
    "has_more": "",
    "next_page": "",
    "data": [
        {
            "starting_at": "",
            "ending_at": "",
            "results": [
                {
                    "uncached_input_tokens": "",
                    "cache_read_input_tokens": "",
                    "cache_creation": {"ephemeral_5m_input_tokens": "", "ephemeral_1h_input_tokens": ""},
                    "output_tokens": "",
                    "server_tool_use": {"web_search_requests": ""},
                    **{key: "" for key in ANTHROPIC_KEYS.values()},
                }
            ],
        }
    ],
}
ANTHROPIC_CONVENTION = (
    "converted from Anthropic's convention: its uncached_input_tokens exclude the cache reads and writes, so input_tokens = "
    "uncached_input_tokens + cache_read_input_tokens + cache_creation.ephemeral_5m_input_tokens + cache_creation.ephemeral_1h_input_tokens "
    "(cache writes are computed like any prompt token), cached_input_tokens = cache_read_input_tokens; output_tokens include extended "
    "thinking, which the report does not give apart (reasoning 0); the report does not count requests"
)


def _sniff_anthropic(head: bytes) -> bool:
    return sniff_keys(head, (b"data", b"starting_at"), (b"uncached_input_tokens", b"cache_read_input_tokens", b"results"))


@_guarded("Anthropic usage report")
def _open_anthropic(path: Path, name: str, limits: Limits, con: Any) -> Source:
    docs = documents(path, name, limits)
    structure = structure_of(con, docs, ANTHROPIC_KNOWN)
    structure.check(name)
    token_paths = [f"data[].results[].{part}" for part in (*ANTHROPIC_PARTS, "output_tokens")]
    typed = plain_integers(structure, token_paths)
    number = "DOUBLE" if typed else "JSON"
    result_type = (
        "{"
        + ", ".join(
            [
                f'"uncached_input_tokens": "{number}", "cache_read_input_tokens": "{number}", "output_tokens": "{number}"',
                f'"cache_creation": {{"ephemeral_5m_input_tokens": "{number}", "ephemeral_1h_input_tokens": "{number}"}}',
                *(f'"{key}": "VARCHAR"' for key in ANTHROPIC_KEYS.values()),
            ]
        )
        + "}"
    )
    doc_type = '{"data": [{"starting_at": "VARCHAR", "results": [' + result_type + "]}]}"
    result_sql = con.execute(f"SELECT typeof(from_json('{{}}', '{result_type}'))").fetchall()[0][0]
    row_type = f"STRUCT(pi BIGINT, bi BIGINT, ri BIGINT, t VARCHAR, r {result_sql}, problem VARCHAR)"
    rows = (
        f"flatten(list_transform(p.data, lambda b, bi: list_transform(b.results, lambda r, ri: "
        f"{{'pi': pi, 'bi': bi, 'ri': ri, 't': b.starting_at, 'r': r, 'problem': NULL}}::{row_type})))"
    )
    problem = "CASE WHEN list_bool_or(list_transform(pages, lambda p: p.data IS NULL)) THEN 'not-page:a page with a data list of buckets' END"
    source = unnest_rows(docs, doc_type, row_type, rows, problem)
    fast = unnest_buckets(docs, doc_type, "not-page:a page with a data list of buckets", "starting_at", structure.arrays)
    parts = [f"x.r.{part}" for part in ANTHROPIC_PARTS]
    if typed:
        # Plain integers: each part is checked as the sum is (a negative part is given as the value, so its row is named).
        bad = " ".join(f"WHEN {value} < 0 THEN {value}" for value in parts)
        # uncached_input_tokens is required (missing: the row is named); the cache's parts may be absent (0).
        input_value = f"CASE WHEN {parts[0]} IS NULL THEN NULL {bad} ELSE {' + '.join(f'coalesce({value}, 0)' for value in parts)} END"
        columns = [f"{input_value} AS input_tokens", "x.r.cache_read_input_tokens AS cached_input_tokens", "x.r.output_tokens AS output_tokens"]
    else:
        # JSON values: the sum when every part is an integer from 0 (or absent); else the first part that is not, as it is.
        def ok(value: str) -> str:
            # A part written as text follows the number rule (DuckDB's cast reads '1_000' and '+5'); text that is no number
            # ('abc') is not ok (the comparison's NULL let it through, summed as 0).
            text = json_text(value)
            number_value = number_from_text(text)
            whole = f"coalesce({number_value} >= 0 AND {number_value} = floor({number_value}), false)"
            return f"({value} IS NULL OR {value}::VARCHAR = 'null' OR ({json_kind(value)} IN ('DOUBLE', 'VARCHAR') AND {whole}))"

        summed = " + ".join(f"coalesce(TRY_CAST({json_text(value)} AS DOUBLE), 0)" for value in parts)
        first_bad = " ".join(f"WHEN NOT {ok(value)} THEN {value}" for value in parts)
        input_value = f"CASE WHEN {parts[0]} IS NULL OR {parts[0]}::VARCHAR = 'null' THEN NULL {first_bad} ELSE to_json({summed}) END"
        values = {"input_tokens": input_value, "cached_input_tokens": "x.r.cache_read_input_tokens", "output_tokens": "x.r.output_tokens"}
        columns = json_number_columns(values, False)
    columns += ["x.t AS timestamp", *(f"x.r.{key} AS {column}" for column, key in ANTHROPIC_KEYS.items())]
    position, where, unit = positions(docs, "page", "'data[' || (x.bi - 1) || '].results[' || (x.ri - 1) || ']'")
    record = "CASE WHEN x.problem IS NOT NULL THEN 'problem:' || x.problem END AS _record"
    scan = f"SELECT {', '.join(columns)}, {record} FROM ({fast})"
    ordered = (
        f"SELECT {position} AS _position, coalesce(x.bi, 0) * 1000000000 + coalesce(x.ri, 0) AS _within, "
        f"CASE WHEN x.problem IS NULL THEN {where} END AS _where, NULL::VARCHAR AS _line_text, {', '.join(columns)}, {record} FROM ({source})"
    )
    kinds = {column: "float" if typed else "json" for column in ("input_tokens", "cached_input_tokens", "output_tokens")}
    kinds |= {"timestamp": "text"} | {column: "text" for column in ANTHROPIC_KEYS}

    def describe(con: Any) -> dict[str, Any]:
        shown, more = listed(structure.unknown)
        unmapped = count_carriers(con, docs, shown, structure.json_paths)
        out: dict[str, Any] = {
            "token_convention": ANTHROPIC_CONVENTION,
            "fields": fields_block(
                {
                    "input_tokens": " + ".join(f"data[].results[].{part}" for part in ANTHROPIC_PARTS),
                    "cached_input_tokens": "data[].results[].cache_read_input_tokens",
                    "output_tokens": "data[].results[].output_tokens",
                    "timestamp": "data[].starting_at",
                    **{column: f"data[].results[].{key}" for column, key in ANTHROPIC_KEYS.items()},
                },
                structure,
                ANTHROPIC_DETAILS,
                unmapped,
                more,
            ),
            "warnings": unmapped_warnings(unmapped, "results or buckets", more),
        }
        if "data[].results[].server_tool_use.web_search_requests" in structure.types:
            path = "$.data[*].results[*].server_tool_use.web_search_requests"
            extract = f"CASE WHEN left(ltrim(l), 1) = '[' THEN json_extract(l, {sql_string('$[*]' + path[1:])}) ELSE json_extract(l, {sql_string(path)}) END"
            summed = f"sum(list_sum(list_transform(TRY({extract}), lambda v: TRY_CAST(v AS DOUBLE))))"
            sql = f"SELECT {summed} FROM ({docs.sql}) WHERE {NOT_BLANK}"
            searches = con.execute(sql).fetchall()[0][0]
            if searches:
                out["warnings"].append(f"server_tool_use: {searches:,.0f} web search requests, not estimated (a search is not text generation)")
        return out

    return Source(
        path=path,
        name=name,
        fmt="anthropic-usage",
        columns=kinds,
        scan=scan,
        ordered_scan=ordered,
        unit=unit,
        exact_positions=not docs.lines,
        totals=True,
        requests_known=False,
        splittable=docs.lines,
        describe=describe,
        field_names={
            "input_tokens": "uncached_input_tokens + cache_read_input_tokens + cache_creation",
            "cached_input_tokens": "cache_read_input_tokens",
            "timestamp": "starting_at",
        },
    )


# --- LiteLLM spend logs -------------------------------------------------------------------------------

LITELLM_COLUMNS = {
    "input_tokens": "prompt_tokens",
    "output_tokens": "completion_tokens",
    "timestamp": "startTime",
    "model": "model",
    "provider": "custom_llm_provider",
    "api_key_id": "api_key",
    "user_id": "user",
    "team_id": "team_id",
}
LITELLM_USAGE = {
    "cached_input_tokens": ("$.usage_object.prompt_tokens_details.cached_tokens", "$.usage_object.cache_read_input_tokens"),
    "reasoning_tokens": ("$.usage_object.completion_tokens_details.reasoning_tokens",),
}
"""Fields of ``metadata.usage_object`` (LiteLLM's ``Usage``, in OpenAI's shape), first found wins."""
LITELLM_DETAILS = {
    "request_id": "the request's id",
    "call_type": "the kind of call: text generation is estimated, the rest counted under skipped",
    "status": "failed requests are counted under skipped",
    "spend": "cost in USD",
    "total_tokens": "prompt_tokens + completion_tokens",
    "endTime": "the request's end",
    "completionStartTime": "time to first token",
    "request_duration_ms": "latency",
    "model_id": "the proxy's deployment id",
    "model_group": "the public model name (the model when model is empty)",
    "api_base": "the provider's endpoint",
    "metadata": "the source of cached and reasoning tokens (usage_object)",
    "cache_hit": "LiteLLM's own response cache",
    "cache_key": "LiteLLM's own response cache",
    "request_tags": "labels",
    "organization_id": "LiteLLM organization",
    "end_user": "the end user",
    "requester_ip_address": "the client",
    "messages": "the prompt (when stored)",
    "response": "the answer (when stored)",
    "session_id": "a session",
    "mcp_namespaced_tool_name": "an MCP tool call",
    "agent_id": "an agent",
    "proxy_server_request": "the request as received",
}
LITELLM_KNOWN = {*LITELLM_COLUMNS.values(), *LITELLM_DETAILS}
LITELLM_FIELD_NAMES = {
    **LITELLM_COLUMNS,
    "cached_input_tokens": "metadata.usage_object cached tokens",
    "reasoning_tokens": "metadata.usage_object.completion_tokens_details.reasoning_tokens",
}
GENERATION_CALL = "(completion|responses|messages|generate_content|chat)"
"""A LiteLLM call type that generates text (``completion``, ``acompletion``, ``text_completion``, ``aresponses``, ``anthropic_messages``...)."""
LITELLM_CONVENTION = (
    "LiteLLM's Usage, in OpenAI's shape: prompt_tokens include the cached tokens (metadata.usage_object.prompt_tokens_details.cached_tokens, "
    "or cache_read_input_tokens), and for Anthropic's models LiteLLM adds the cache reads and writes to them; completion_tokens include the "
    "reasoning tokens (completion_tokens_details.reasoning_tokens); one request per row"
)


def _litellm_select(field_ref: Callable[[str], str], present: set[str], metadata: str) -> list[str]:
    """SELECT items of the canonical columns from a spend log row (``field_ref(name)``: the SQL of a column)."""
    columns = []
    for column, key in LITELLM_COLUMNS.items():
        if key not in present:
            continue
        value = field_ref(key)
        if column == "model" and "model_group" in present:
            value = f"coalesce(nullif(trim({value}), ''), nullif(trim({field_ref('model_group')}), ''))"
        columns.append(f"nullif(trim({value}), '') AS {column}" if column != "model" else f"{value} AS {column}")
    if "metadata" in present:
        usage = _litellm_usage(metadata)
        for column, paths in LITELLM_USAGE.items():
            found = ", ".join(f"json_extract({usage}, {sql_string(path)})" for path in paths)
            columns.append(f"coalesce({found})::VARCHAR AS {column}")
    return columns


def _litellm_usage(metadata: str) -> str:
    """SQL: the metadata as JSON (a JSON string holding JSON, as some exports write it, is read inside), NULL if not JSON."""
    return f"TRY(CASE WHEN left(ltrim({metadata}), 1) = '\"' THEN ({metadata})::JSON->>'$' ELSE {metadata} END::JSON)"


def _litellm_skip(field_ref: Callable[[str], str], present: set[str]) -> str:
    """SQL: why a spend log row is not estimated (NULL: estimated): a failed request, or a call that is not text generation."""
    reasons = []
    if "status" in present:
        reasons.append(f"WHEN lower({field_ref('status')}) = 'failure' THEN 'failed requests (no tokens generated)'")
    if "call_type" in present:
        call = field_ref("call_type")
        generation = f"regexp_matches(lower({call}), '{GENERATION_CALL}')"
        reasons.append(f"WHEN {call} IS NOT NULL AND NOT {generation} THEN 'call_type ' || {call} || ' (not text generation)'")
    return f"CASE {' '.join(reasons)} END" if reasons else "NULL::VARCHAR"


def _sniff_litellm(head: bytes) -> bool:
    first = head.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0]
    csv_header = not first.lstrip().startswith((b"{", b"[")) and b'"' not in first[:1]
    if csv_header and b"prompt_tokens" in first and b"completion_tokens" in first and (b"startTime" in first or b"request_id" in first):
        return True
    return sniff_keys(head, (b"prompt_tokens", b"completion_tokens"), (b"request_id", b"startTime", b"call_type", b"spend"))


@_guarded("LiteLLM spend log")
def _open_litellm(path: Path, name: str, limits: Limits, con: Any, *, header: tuple[list[str], bytes] | None = None) -> Source:
    with open(path, "rb") as handle:
        start = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if header is not None or not start.startswith((b"{", b"[")):
        return _open_litellm_csv(path, name, limits, con, header)
    return _open_litellm_json(path, name, limits, con)


def _open_litellm_csv(path: Path, name: str, limits: Limits, con: Any, header: tuple[list[str], bytes] | None) -> Source:
    names, raw = header if header is not None else read_header(path, name, limits)
    index: dict[str, int] = {}
    for position, column in enumerate(names):
        if column in index:
            raise InvalidInputError(f"{name}: the header names {column!r} twice (fields {index[column] + 1} and {position + 1})", code="duplicate-column")
        index[column] = position
    for needed in ("prompt_tokens", "completion_tokens"):
        if needed not in index:
            raise MissingColumnError(f"{name}: missing column {needed!r}; a LiteLLM spend log needs prompt_tokens and completion_tokens")
    struct = "{" + ", ".join(f"'c{position}': 'VARCHAR'" for position in range(len(names))) + "}"
    options = (
        f"header = true, auto_detect = false, columns = {struct}, delim = ',', quote = '\"', escape = '\"', "
        f"strict_mode = true, encoding = 'utf-8', max_line_size = {limits.max_line_bytes}, store_rejects = true, rejects_limit = 10000"
    )
    reader = f"read_csv({sql_string(str(path))}, {options})"
    present = set(index)

    def ref(key: str) -> str:
        return f"c{index[key]}"

    columns = _litellm_select(ref, present, ref("metadata") if "metadata" in present else "NULL")
    skip = _litellm_skip(ref, present)
    scan = f"SELECT {', '.join(columns)}, NULL::VARCHAR AS _record FROM {reader} WHERE ({skip}) IS NULL"
    ordered = (
        "SELECT _position, NULL::VARCHAR AS _line_text, NULL::BIGINT AS _within, NULL::VARCHAR AS _where, * EXCLUDE (_position, _skip) FROM "
        f"(SELECT row_number() OVER () AS _position, {skip} AS _skip, {', '.join(columns)}, NULL::VARCHAR AS _record FROM {reader}) WHERE _skip IS NULL"
    )
    unknown = [column for column in names if column not in LITELLM_KNOWN and column]
    plain = reader.replace("store_rejects = true, rejects_limit = 10000", "store_rejects = false")

    def left_out(con: Any) -> int:
        return int(con.execute(f"SELECT count(*) FROM {plain} WHERE ({skip}) IS NOT NULL").fetchall()[0][0])

    def describe(con: Any) -> dict[str, Any]:
        shown, more = listed(unknown)
        counts = [f"count({ref(column)}) FILTER (WHERE trim({ref(column)}) <> '')" for column in shown]
        metadata = ref("metadata") if "metadata" in present else "NULL::VARCHAR"
        counts.append(f"count(*) FILTER (WHERE ({skip}) IS NULL AND trim({metadata}) <> '' AND {_litellm_usage(metadata)} IS NULL)")
        row = con.execute(f"SELECT {', '.join(counts)} FROM {plain}").fetchall()[0]
        skip_sql = f"SELECT _skip, count(*) FROM (SELECT {skip} AS _skip FROM {plain}) WHERE _skip IS NOT NULL GROUP BY ALL ORDER BY 1"
        skipped = dict(con.execute(skip_sql).fetchall())
        unmapped = {column: int(count) for column, count in zip(shown, row[:-1], strict=True) if count}
        return _litellm_info(present, unmapped, skipped, more, int(row[-1]))

    return Source(
        path=path,
        name=name,
        fmt="litellm-spend-logs",
        columns={column: "text" for column in (*_litellm_canonical(present),)},
        scan=scan,
        ordered_scan=ordered,
        unit="line",
        rejects=True,
        first_line=2,
        quoted_lines=True,
        header=raw,
        totals=True,
        left_out=left_out,
        describe=describe,
        field_names=LITELLM_FIELD_NAMES,
    )


def _litellm_canonical(present: set[str]) -> list[str]:
    out = [column for column, key in LITELLM_COLUMNS.items() if key in present]
    return out + (list(LITELLM_USAGE) if "metadata" in present else [])


def _litellm_info(present: set[str], unmapped: dict[str, int], skipped: dict[str, int], more: int = 0, bad_metadata: int = 0) -> dict[str, Any]:
    mapped = {column: key for column, key in LITELLM_COLUMNS.items() if key in present}
    if "metadata" in present:
        mapped |= {column: " or ".join("metadata" + path[1:] for path in paths) for column, paths in LITELLM_USAGE.items()}
    warnings = unmapped_warnings(unmapped, "rows", more)
    if bad_metadata:
        warnings.append(
            f"metadata: not JSON on {bad_metadata:,} estimated row{'s' if bad_metadata != 1 else ''}: their cached input and reasoning tokens "
            "are unknown, taken as 0 (the input and output tokens are counted)"
        )
    warnings += [f"not estimated: {count:,} row{'s' if count != 1 else ''} of {reason}" for reason, count in skipped.items()]
    return {
        "token_convention": LITELLM_CONVENTION,
        "fields": {"mapped": mapped, "not_used": {key: why for key, why in LITELLM_DETAILS.items() if key in present}, "unmapped": unmapped}
        | ({"unmapped_not_listed": more} if more else {}),
        "skipped": skipped,
        "warnings": warnings,
    }


def _open_litellm_json(path: Path, name: str, limits: Limits, con: Any) -> Source:
    docs = documents(path, name, limits)
    structure = structure_of(con, docs, dict.fromkeys(LITELLM_KNOWN, ""))
    if "" in structure.types:  # records that are not all objects: their union says nothing of their fields
        kinds = ", ".join(sorted(_JSON_TYPE_NAMES.get(kind, kind.lower()) for kind in structure.types[""]))
        found = f"found: {kinds} (or empty objects)"
        raise InvalidInputError(f"{name}: a LiteLLM spend log's records are JSON objects with fields; {found}; nothing estimated", code="bad-rows")
    present = {key.split(".", 1)[0] for key in structure.types}
    for needed in ("prompt_tokens", "completion_tokens"):
        if needed not in present:
            raise MissingColumnError(f"{name}: no record has {needed!r}; a LiteLLM spend log needs prompt_tokens and completion_tokens")
    types = {key: "VARCHAR" for key in LITELLM_COLUMNS.values()} | {"metadata": "JSON", "status": "VARCHAR", "call_type": "VARCHAR", "model_group": "VARCHAR"}
    record_type = "{" + ", ".join(f'"{key}": "{value}"' for key, value in types.items()) + "}"
    record_sql = con.execute(f"SELECT typeof(from_json('{{}}', '{record_type}'))").fetchall()[0][0]
    row_type = f"STRUCT(pi BIGINT, r {record_sql}, problem VARCHAR)"
    rows = f"[{{'pi': pi, 'r': p, 'problem': NULL}}::{row_type}]"
    source = unnest_rows(docs, record_type, row_type, rows, "NULL::VARCHAR")

    def ref(key: str) -> str:
        return f"x.r.{key}"

    columns = _litellm_select(ref, present, "x.r.metadata::VARCHAR")
    skip = _litellm_skip(ref, present)
    position, where, unit = positions(docs, "record", "''")
    record = "CASE WHEN x.problem IS NOT NULL THEN 'problem:' || x.problem END AS _record"
    scan = f"SELECT {', '.join(columns)}, {record} FROM ({source}) WHERE ({skip}) IS NULL"
    ordered = (
        f"SELECT {position} AS _position, 0 AS _within, nullif(rtrim({where}, '.'), '') AS _where, NULL::VARCHAR AS _line_text, "
        f"{', '.join(columns)}, {record} FROM ({source}) WHERE ({skip}) IS NULL"
    )
    unknown = structure.unknown  # top-level keys: the known ones are not walked into

    def describe(con: Any) -> dict[str, Any]:
        shown, more = listed(unknown)
        unmapped = count_carriers(con, docs, shown, structure.json_paths)
        sql = f"SELECT _skip, count(*) FROM (SELECT {skip} AS _skip FROM ({source})) WHERE _skip IS NOT NULL GROUP BY ALL ORDER BY 1"
        skipped = dict(con.execute(sql).fetchall())
        metadata = "x.r.metadata::VARCHAR"
        not_json = f"x.r.metadata IS NOT NULL AND {metadata} <> 'null' AND {_litellm_usage(metadata)} IS NULL"
        bad = f"SELECT count(*) FROM ({source}) WHERE ({skip}) IS NULL AND {not_json}"
        bad_metadata = int(con.execute(bad).fetchall()[0][0]) if "metadata" in present else 0
        return _litellm_info(present, unmapped, skipped, more, bad_metadata)

    return Source(
        path=path,
        name=name,
        fmt="litellm-spend-logs",
        columns={column: "text" for column in _litellm_canonical(present)},
        scan=scan,
        ordered_scan=ordered,
        unit=unit,
        exact_positions=not docs.lines,
        totals=True,
        splittable=docs.lines,
        describe=describe,
        field_names=LITELLM_FIELD_NAMES,
    )


# --- OpenTelemetry GenAI spans, OTLP JSON ------------------------------------------------------------

OTEL_TOKENS = {
    "input_tokens": ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"),
    "cached_input_tokens": ("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.input_tokens.cached"),
    "output_tokens": ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"),
    "reasoning_tokens": ("gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.output_tokens.reasoning"),
}
"""Canonical column -> the attributes that give it, the current semantic conventions' first, then older names."""
OTEL_NAMES = {"model": ("gen_ai.response.model", "gen_ai.request.model"), "provider": ("gen_ai.provider.name", "gen_ai.system")}
INFERENCE_OPERATIONS = ("chat", "text_completion", "generate_content")
"""``gen_ai.operation.name`` of the spans that are requests to a model writing text (a span without one counts if it has token usage)."""
OTEL_KNOWN_GENAI = {
    *(name for names in (*OTEL_TOKENS.values(), *OTEL_NAMES.values()) for name in names),
    "gen_ai.operation.name",
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.request.max_tokens",
    "gen_ai.request.temperature",
    "gen_ai.request.top_p",
    "gen_ai.request.top_k",
    "gen_ai.request.frequency_penalty",
    "gen_ai.request.presence_penalty",
    "gen_ai.request.stop_sequences",
    "gen_ai.request.seed",
    "gen_ai.request.choice.count",
    "gen_ai.request.encoding_formats",
    "gen_ai.response.id",
    "gen_ai.response.finish_reasons",
    "gen_ai.output.type",
    "gen_ai.conversation.id",
    "gen_ai.agent.id",
    "gen_ai.agent.name",
    "gen_ai.agent.description",
    "gen_ai.tool.name",
    "gen_ai.tool.call.id",
    "gen_ai.tool.description",
    "gen_ai.tool.type",
    "gen_ai.data_source.id",
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.definitions",
    "gen_ai.openai.request.service_tier",
    "gen_ai.openai.response.service_tier",
    "gen_ai.openai.response.system_fingerprint",
}
"""The GenAI attributes of the semantic conventions this reader knows (used above, or not needed for the footprint)."""
OTEL_CONVENTION = (
    "the OpenTelemetry GenAI semantic conventions (status Development): gen_ai.usage.input_tokens SHOULD include the cached tokens "
    "(gen_ai.usage.cache_read.input_tokens) and the cache writes; gen_ai.usage.output_tokens SHOULD include the reasoning tokens "
    "(gen_ai.usage.reasoning.output_tokens); one request per inference span (operation chat, text_completion or generate_content); "
    "older attribute names (gen_ai.usage.prompt_tokens, gen_ai.usage.input_tokens.cached...) are read where the current ones are absent"
)
_ATTRIBUTE = '{"key": "VARCHAR", "value": {"stringValue": "VARCHAR", "intValue": "JSON", "doubleValue": "JSON", "boolValue": "JSON"}}'


def _sniff_otel(head: bytes) -> bool:
    return sniff_keys(head, (b"resourceSpans",), (b"scopeSpans", b"spans", b"gen_ai.")) or re.search(rb'"resourceSpans"\s*:\s*\[\s*\]', head) is not None


def _attribute(attributes: str, names: tuple[str, ...], kind: str) -> str:
    """SQL: the first of the attributes ``names`` found, as JSON text (``number``) or text (``name``)."""
    values = []
    for attribute in names:
        matches = f"list_filter({attributes}, lambda a: a.key = {sql_string(attribute)})"
        found = f"{matches}[1].value"
        if kind == "number":  # an attribute given twice is named by the checks ("not a number (got 'given 2 times')"), never one picked
            value = f"coalesce({found}.intValue, {found}.doubleValue, to_json({found}.stringValue), {found}.boolValue)"
            values.append(f"CASE WHEN len({matches}) > 1 THEN to_json('given ' || len({matches}) || ' times') ELSE {value} END")
        else:
            values.append(f"coalesce({found}.stringValue, {found}.intValue::VARCHAR, {found}.doubleValue::VARCHAR, {found}.boolValue::VARCHAR)")
    return f"coalesce({', '.join(values)})" if len(values) > 1 else values[0]


@_guarded("OpenTelemetry OTLP JSON")
def _open_otel(path: Path, name: str, limits: Limits, con: Any) -> Source:
    docs = documents(path, name, limits)
    span_type = '{"name": "VARCHAR", "startTimeUnixNano": "JSON", "attributes": [' + _ATTRIBUTE + "]}"
    doc_type = '{"resourceSpans": [{"resource": {"attributes": [' + _ATTRIBUTE + ']}, "scopeSpans": [{"spans": [' + span_type + "]}]}]}"
    attribute_sql = con.execute(f"SELECT typeof(from_json('{{}}', '{_ATTRIBUTE}'))").fetchall()[0][0]
    span_sql = con.execute(f"SELECT typeof(from_json('{{}}', '{span_type}'))").fetchall()[0][0]
    row_type = f"STRUCT(pi BIGINT, ri BIGINT, si BIGINT, pj BIGINT, s {span_sql}, resource {attribute_sql}[], problem VARCHAR)"
    rows = (
        "flatten(flatten(list_transform(p.resourceSpans, lambda rs, ri: list_transform(rs.scopeSpans, lambda ss, si: "
        "list_transform(ss.spans, lambda s, pj: "
        f"{{'pi': pi, 'ri': ri, 'si': si, 'pj': pj, 's': s, 'resource': rs.resource.attributes, 'problem': NULL}}::{row_type})))))"
    )
    problem = "CASE WHEN list_bool_or(list_transform(pages, lambda p: p.resourceSpans IS NULL)) THEN 'not-page:an OTLP trace request (resourceSpans)' END"
    source = unnest_rows(docs, doc_type, row_type, rows, problem)
    attributes = "x.s.attributes"
    operation = _attribute(attributes, ("gen_ai.operation.name",), "name")
    token_attributes = (*OTEL_TOKENS["input_tokens"], *OTEL_TOKENS["output_tokens"])
    usage = " OR ".join(f"len(list_filter({attributes}, lambda a: a.key = {sql_string(attribute)})) > 0" for attribute in token_attributes)
    operations = ", ".join(sql_string(op) for op in INFERENCE_OPERATIONS)
    inference = f"(x.problem IS NOT NULL OR coalesce({operation} IN ({operations}), false) OR ({operation} IS NULL AND coalesce({usage}, false)))"
    columns = json_number_columns({column: _attribute(attributes, names, "number") for column, names in OTEL_TOKENS.items()}, False)
    nanos = "x.s.startTimeUnixNano"
    seconds = f"TRY_CAST({json_text(nanos)} AS HUGEINT)"
    columns.append(f"CASE WHEN {seconds} IS NOT NULL THEN ({seconds} / 1000000000.0)::VARCHAR ELSE {json_text(nanos)} END AS timestamp")
    columns += [f"{_attribute(attributes, names, 'name')} AS {column}" for column, names in OTEL_NAMES.items()]
    columns.append(f"{_attribute('x.resource', ('service.name',), 'name')} AS service")
    position, where, unit = positions(docs, "document", "'resourceSpans[' || (x.ri - 1) || '].scopeSpans[' || (x.si - 1) || '].spans[' || (x.pj - 1) || ']'")
    record = "CASE WHEN x.problem IS NOT NULL THEN 'problem:' || x.problem END AS _record"
    scan = f"SELECT {', '.join(columns)}, {record} FROM ({source}) WHERE {inference}"
    ordered = (
        f"SELECT {position} AS _position, (coalesce(x.ri, 0) * 100000 + coalesce(x.si, 0)) * 1000000 + coalesce(x.pj, 0) AS _within, "
        f"CASE WHEN x.problem IS NULL THEN {where} END AS _where, NULL::VARCHAR AS _line_text, {', '.join(columns)}, {record} FROM ({source}) WHERE {inference}"
    )
    kinds = {column: "json" for column in OTEL_TOKENS} | {"timestamp": "text"} | {column: "text" for column in (*OTEL_NAMES, "service")}

    def describe(con: Any) -> dict[str, Any]:
        keys = (
            f"SELECT _counted, k, count(*) FROM (SELECT {inference} AS _counted, unnest(list_distinct(list_transform({attributes}, lambda a: a.key))) AS k "
            f"FROM ({source}) WHERE x.problem IS NULL) GROUP BY ALL"
        )
        unmapped: dict[str, int] = {}
        other: dict[str, int] = {}
        for counted, key, count in con.execute(keys).fetchall():
            if not counted:
                continue
            if key.startswith("gen_ai.") and key not in OTEL_KNOWN_GENAI:
                unmapped[key] = unmapped.get(key, 0) + int(count)
            elif not key.startswith("gen_ai."):
                other[key] = other.get(key, 0) + int(count)
        sql = (
            f"SELECT coalesce({operation}, '(no gen_ai.operation.name)'), count(*) FROM ({source}) WHERE x.problem IS NULL AND NOT ({inference}) "
            "GROUP BY ALL ORDER BY 1"
        )
        skipped = {
            f"spans of operation {op}" if not op.startswith("(") else f"spans without GenAI token usage {op}": int(count)
            for op, count in con.execute(sql).fetchall()
        }
        warnings = unmapped_warnings(dict(sorted(unmapped.items())), "spans")
        warnings += [f"not estimated: {count:,} {reason if count != 1 else reason.replace('spans', 'span', 1)}" for reason, count in skipped.items()]
        return {
            "token_convention": OTEL_CONVENTION,
            "fields": {
                "mapped": {column: " or ".join(names) for column, names in {**OTEL_TOKENS, **OTEL_NAMES}.items()}
                | {"timestamp": "startTimeUnixNano", "service": "resource attribute service.name"},
                "not_used": {key: "not GenAI usage" for key in sorted(other)},
                "unmapped": dict(sorted(unmapped.items())),
            },
            "skipped": skipped,
            "warnings": warnings,
        }

    return Source(
        path=path,
        name=name,
        fmt="otel-genai",
        columns=kinds,
        scan=scan,
        ordered_scan=ordered,
        unit=unit,
        exact_positions=not docs.lines,
        totals=True,
        splittable=docs.lines,
        describe=describe,
        field_names={column: names[0] for column, names in OTEL_TOKENS.items()} | {"timestamp": "startTimeUnixNano"},
    )


assert set(OPENAI_KEYS) | set(ANTHROPIC_KEYS) <= {"model", *KEY_COLUMNS}
_JSON_EXTENSIONS = ()  # recognised from the content: a provider's file may be named anything

register(
    Format(
        "openai-usage",
        _JSON_EXTENSIONS,
        "OpenAI organization Usage API, completions: pages of time buckets of results (JSON, or JSON Lines of pages)",
        _open_openai,
        sniff=_sniff_openai,
        needs='JSON pages with "object": "page" and "data" buckets of "results" (input_tokens, output_tokens, num_model_requests)',
    )
)
register(
    Format(
        "anthropic-usage",
        _JSON_EXTENSIONS,
        "Anthropic Admin API usage report, messages: pages of time buckets of results (JSON, or JSON Lines of pages)",
        _open_anthropic,
        sniff=_sniff_anthropic,
        needs='JSON pages with "data" buckets ("starting_at") of "results" (uncached_input_tokens, cache_read_input_tokens, output_tokens)',
    )
)
register(
    Format(
        "litellm-spend-logs",
        _JSON_EXTENSIONS,
        "LiteLLM proxy spend logs (LiteLLM_SpendLogs rows) as CSV, a JSON array or JSON Lines",
        _open_litellm,
        sniff=_sniff_litellm,
        needs="spend log rows with prompt_tokens, completion_tokens and startTime (a CSV header, or JSON records)",
    )
)
register(
    Format(
        "otel-genai",
        _JSON_EXTENSIONS,
        "OpenTelemetry GenAI spans as OTLP JSON (resourceSpans, scopeSpans, spans with gen_ai.* attributes)",
        _open_otel,
        sniff=_sniff_otel,
        needs='OTLP JSON with "resourceSpans"[].scopeSpans[].spans[] carrying gen_ai.usage.* attributes',
    )
)
