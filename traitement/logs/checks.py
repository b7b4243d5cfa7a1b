"""The row checks: ONE SQL definition, run by DuckDB on every row, by every engine.

:func:`checked_sql` wraps a source (a file's canonical columns, or a pandas
frame of them in a Dask partition) in a SELECT that, for every row, parses
each column according to its kind, names what is wrong with it as a short
code (``missing``, ``not-number``, ``not-integer``, ``below``, ``above``,
``unparsed``, ``range``, ``unknown``...), and yields the validated values the
sums use: exact integers (``BIGINT``; products and sums in ``HUGEINT``) and a
UTC timestamp. :func:`describe` turns the codes of the few rows shown in an
error into the one-line messages.

A row whose every cell is empty is *blank*: skipped and counted. Any other
row with a code is *bad*: the engine then estimates nothing and names the
first bad rows by position.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..base import JSON_NUMBER
from ..core import MAX_TOKENS
from ..errors import InvalidInputError, shown_number
from .columns import EARLIEST, KEY_COLUMNS, LATEST, NAME_COLUMNS, NUMBERS, PARTS, TIME_ALLOWED, TIME_COLUMN, TIME_RANGE, TOTAL_NUMBERS, NumberRule

MAX_SHOWN = 10
"""Bad rows named in an error message; the rest are counted."""
_SHOWN_CHARS = 60
"""A cell's value is cut to this many characters in a message."""


class BadRowsError(InvalidInputError):
    """Rows of a log are invalid; ``lines`` holds the first ones (position, message), ``total`` how many."""

    code = "bad-rows"

    def __init__(self, message: str, lines: Sequence[tuple[int, str]] = (), total: int = 0) -> None:
        super().__init__(message)
        self.lines = list(lines)
        self.total = total


@dataclass(frozen=True)
class CheckPlan:
    """What the checks need besides the columns: whether a missing timestamp is an error, the unknown names."""

    time_required: bool = False
    """Grouping by day or month: a row without a timestamp cannot be placed."""
    unknown: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Name column -> raw names the config does not know (found by a first pass; flagged by the second)."""
    time_keys: tuple[str, ...] = ()
    """``day`` and/or ``month``: computed from the timestamp."""
    keys: tuple[str, ...] = ()
    """The providers' grouping keys (:data:`.columns.KEY_COLUMNS`) grouped by: kept in the sums (others are not read)."""
    totals: bool = False
    """The rows give token sums over their ``count`` requests (a usage export), not the tokens of one request."""

    @property
    def rules(self) -> dict[str, NumberRule]:
        """The rules of the number columns for this shape of rows."""
        return TOTAL_NUMBERS if self.totals else NUMBERS


def _q(name: str) -> str:
    return f'"{name}"'


def sql_string(text: str) -> str:
    """A SQL string literal of ``text`` (a NUL character, which ends a C string, is spliced in with ``chr(0)``)."""
    parts = ["'" + part.replace("'", "''") + "'" for part in text.split("\x00")]
    return " || chr(0) || ".join(parts) if len(parts) > 1 else parts[0]


@dataclass
class _Layers:
    """The SELECT lists of the checks: 1 parses the raw cells, 2 names the problems, 3 keeps the valid values
    (4, built in :func:`checked_sql`, flags the bad rows). Each layer passes on what the next needs."""

    parse: list[str] = field(default_factory=list)
    check: list[str] = field(default_factory=list)
    value: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    raws: list[str] = field(default_factory=list)


def checked_sql(source: str, columns: dict[str, str], plan: CheckPlan, position: bool = False) -> str:
    """SQL over ``source`` (a SELECT, or the name of a table or frame, holding the canonical columns with the
    kinds of ``columns``) that adds, per row: ``<column>__code`` for each checked column, the validated values
    ``_i``, ``_o``, ``_c`` (``BIGINT``) and ``_ts`` (naive UTC ``TIMESTAMP``), the name keys, ``day``/``month``,
    ``_blank`` and ``_bad``. With ``position``, ``_position``, ``_line_text``, ``_within`` and ``_where`` are kept (the
    row's place: its line or row, the text of a line that is not JSON, its order and place within a usage export's document).
    """
    layers = _Layers()
    for column, rule in plan.rules.items():
        if column in columns:
            _number(layers, column, columns[column], rule)
        elif column != "input_tokens" and column != "output_tokens":
            layers.value.append(f"{rule.default}::BIGINT AS {_VALUE[column]}")
    if TIME_COLUMN in columns:
        _time(layers, columns[TIME_COLUMN], plan.time_required)
    else:
        layers.value.append("NULL::TIMESTAMP AS _ts")
    for column in (*NAME_COLUMNS, *(key for key in KEY_COLUMNS if key in plan.keys)):
        if column in columns:
            _name(layers, column, columns[column], plan.unknown.get(column))
    relations = _relations(columns, plan)
    layers.codes += [name for name, _ in relations]
    kept = ["_record", *(["_position", "_line_text", "_within", "_where"] if position else [])]
    # A usage export has no blank rows: its empty lines never become rows, and a result or record without any field the
    # reader uses is bad (input_tokens: missing), not skipped.
    blank = "FALSE" if plan.totals else " AND ".join([f"{_q(column)} IS NULL" for column in layers.raws] + ["_record IS NULL"])
    layer1 = f"SELECT {', '.join([*kept, *layers.parse, f'({blank}) AS _blank'])} FROM ({source})"
    layer2 = f"SELECT {', '.join([*kept, '_blank', *layers.check])} FROM ({layer1})"
    layer3 = f"SELECT {', '.join([*kept, '_blank', *layers.value])} FROM ({layer2})"
    bad = " OR ".join(["_record IS NOT NULL", *(f"{code} IS NOT NULL" for code in layers.codes)])
    keys = ["CAST(_ts AS DATE) AS day" if key == "day" else "CAST(date_trunc('month', _ts) AS DATE) AS month" for key in plan.time_keys]
    related = [f"{sql} AS {name}" for name, sql in relations]
    return f"SELECT *, {', '.join([*keys, f'(NOT _blank AND ({bad})) AS _bad'])} FROM (SELECT *, {', '.join(related) or 'NULL AS _none'} FROM ({layer3}))"


_VALUE = {"input_tokens": "_i", "output_tokens": "_o", "count": "_c", "cached_input_tokens": "_ci", "reasoning_tokens": "_ro"}
"""The validated value of each number column (``BIGINT``; NULL on a bad row)."""


def _relations(columns: dict[str, str], plan: CheckPlan) -> list[tuple[str, str]]:
    """Checks across columns, on the validated values: a part above its whole (cached above input tokens, reasoning
    above output tokens); in a usage export, a row's mean request above the largest one (or tokens with no request)."""
    out = []
    for part, whole in PARTS.items():
        if part in columns and whole in columns:
            out.append((f"{part}__part", f"CASE WHEN {_VALUE[part]} > {_VALUE[whole]} THEN 'above-whole' END"))
    if plan.totals and "count" in columns:
        for column in ("input_tokens", "output_tokens"):
            if column in columns:
                out.append((f"{column}__mean", f"CASE WHEN {_VALUE[column]} > {MAX_TOKENS} * _c THEN 'above-mean' END"))
    return out


def number_from_text(text: str) -> str:
    """SQL: the DOUBLE that the text ``text`` (an SQL expression) holds when it is a number as JSON writes it, else NULL.
    The number rule of :data:`traitement.base.JSON_NUMBER`: DuckDB's cast alone also reads ``1_000``, ``+5`` and ``0x1F``."""
    return f"CASE WHEN regexp_full_match(trim({text}), {sql_string(JSON_NUMBER.pattern)}) THEN TRY_CAST({text} AS DOUBLE) END"

def _number(layers: _Layers, column: str, kind: str, rule: NumberRule) -> None:
    """A number column: ``<column>__code``, ``__text``, ``__num`` (for messages) and its validated value."""
    maximum, default, minimum = rule.maximum, rule.default, rule.minimum
    c, text, num, integer = _q(column), f"{column}__text", f"{column}__num", f"{column}__int"
    missing = "NULL" if default is not None else "'missing'"
    empty = str(default) if default is not None else "NULL"
    layers.raws.append(column)
    layers.parse.append(c)

    def ok(value: str) -> str:
        """The common case first: a valid value ends the CASE at its first test (the codes below name the others)."""
        return f"({value} >= {minimum} AND {value} <= {maximum} AND {value} = floor({value}))"

    if kind in ("text", "json"):
        # DuckDB's cast also reads 1_000, +5 and 0x1F: text that is not a number as JSON writes it is none (the number rule).
        layers.parse += [
            f"{c}::VARCHAR AS {text}",
            f"{number_from_text(f'{c}::VARCHAR')} AS {num}",
        ]
        wrong_kind = ""
        if kind == "json":
            layers.parse.append(f"{column}__kind")
            wrong_kind = f"WHEN {column}__kind IN ('BOOLEAN', 'ARRAY', 'OBJECT') THEN 'not-number' "
        code = (
            f"CASE WHEN {ok(num)} THEN NULL WHEN {text} IS NULL THEN {missing} {wrong_kind}"
            f"WHEN {num} IS NULL THEN 'not-number' WHEN isnan({num}) OR isinf({num}) THEN 'not-finite' "
            f"WHEN {num} <> floor({num}) THEN 'not-integer' WHEN {num} < {minimum} THEN 'below' WHEN {num} > {maximum} THEN 'above' END"
        )
        value = f"CASE WHEN {text} IS NULL THEN {empty} ELSE CAST({num} AS BIGINT) END"
        layers.check += [text, num, *([f"{column}__kind"] if kind == "json" else [])]
    elif kind == "int":
        layers.parse += [f"NULL::VARCHAR AS {text}", f"{c}::DOUBLE AS {num}", f"{c} AS {integer}"]
        code = (
            f"CASE WHEN {integer} >= {minimum} AND {integer} <= {maximum} THEN NULL "
            f"WHEN {integer} IS NULL THEN {missing} WHEN {integer} < {minimum} THEN 'below' ELSE 'above' END"
        )
        value = f"CASE WHEN {integer} IS NULL THEN {empty} ELSE CAST({integer} AS BIGINT) END"
        layers.check += [text, num, integer]
    elif kind == "float":
        layers.parse += [f"NULL::VARCHAR AS {text}", f"{c}::DOUBLE AS {num}"]
        code = (
            f"CASE WHEN {ok(num)} THEN NULL WHEN {num} IS NULL THEN {missing} WHEN isnan({num}) OR isinf({num}) THEN 'not-finite' "
            f"WHEN {num} <> floor({num}) THEN 'not-integer' WHEN {num} < {minimum} THEN 'below' WHEN {num} > {maximum} THEN 'above' END"
        )
        value = f"CASE WHEN {num} IS NULL THEN {empty} ELSE CAST({num} AS BIGINT) END"
        layers.check += [text, num]
    else:  # bool: never a number
        layers.parse += [f"{c}::VARCHAR AS {text}", f"NULL::DOUBLE AS {num}"]
        code = f"CASE WHEN {text} IS NULL THEN {missing} ELSE 'not-number' END"
        value = f"{empty}::BIGINT"
        layers.check += [text, num]
    layers.check.append(f"{code} AS {column}__code")
    layers.codes.append(f"{column}__code")
    # A bad row's value is NULL (never cast, never summed: nothing is estimated when a row is bad).
    layers.value += [text, num, f"{column}__code", f"CASE WHEN {column}__code IS NULL THEN {value} END AS {_VALUE[column]}"]
    if kind == "json":
        layers.value.append(f"{column}__kind")


_LOW = f"TIMESTAMP '{EARLIEST:%Y-%m-%d %H:%M:%S}'"
_HIGH = f"TIMESTAMP '{LATEST:%Y-%m-%d %H:%M:%S}'"
_LOW_S, _HIGH_S = EARLIEST.timestamp(), LATEST.timestamp()


_OFFSET_BEYOND_SQL = r"[+-](1[5-9]|[2-9][0-9])(:?[0-9]{2})?$"
"""A UTC offset past +-14:00, the furthest any zone uses (Kiribati's +14:00): DuckDB applies +25:00, a day off."""


def _time(layers: _Layers, kind: str, required: bool) -> None:
    """The timestamp: ``_ts`` (a naive UTC ``TIMESTAMP`` within the accepted range) and ``timestamp__code``.

    Text in the plain shapes (``2025-03-01``, ``2025-03-01 14:05:00``, anything ending in ``Z``) is cast to
    ``TIMESTAMP``, taken as UTC; other text goes through ``TIMESTAMPTZ`` (an offset or zone is applied; slower,
    so only for those rows); a number, or text that is one, is Unix seconds.
    """
    c = _q(TIME_COLUMN)
    layers.raws.append(TIME_COLUMN)
    layers.parse += [c, f"{c}::VARCHAR AS timestamp__text", f"{c} IS NULL AS timestamp__missing"]
    passed = ["timestamp__text", "timestamp__missing"]
    wrong_kind = "false"
    if kind in ("text", "json"):
        t = f"{c}::VARCHAR"
        plain = f"(strlen({t}) = 19 AND substr({t}, 17, 1) = ':') OR strlen({t}) = 10 OR ends_with({t}, 'Z')"
        layers.parse.append(
            f"CASE WHEN {plain} THEN TRY_CAST({t} AS TIMESTAMP) WHEN regexp_matches({t}, '{_OFFSET_BEYOND_SQL}') THEN NULL "
            f"ELSE make_timestamp(epoch_us(TRY_CAST({t} AS TIMESTAMPTZ))) END AS timestamp__parsed"
        )
        if kind == "json":
            layers.parse.append("timestamp__kind")
            passed.append("timestamp__kind")
            wrong_kind = "timestamp__kind IN ('BOOLEAN', 'ARRAY', 'OBJECT')"
        # Unix seconds written as text follow the number rule (DuckDB's cast reads 1_740_787_200 and +1740787200).
        seconds_text = number_from_text("timestamp__text")
        layers.check += [*passed, "timestamp__parsed", f"CASE WHEN timestamp__parsed IS NULL THEN {seconds_text} END AS timestamp__seconds"]
        parsed, seconds = "timestamp__parsed", "timestamp__seconds"
    elif kind in ("time", "date"):
        # A TIMESTAMP WITH TIME ZONE holds UTC microseconds: taken as they are, with no time-zone conversion.
        layers.parse.append(f"make_timestamp(epoch_us({c})) AS timestamp__parsed")
        layers.check += [*passed, "timestamp__parsed", "NULL::DOUBLE AS timestamp__seconds"]
        parsed, seconds = "timestamp__parsed", "timestamp__seconds"
    else:  # int, float: Unix seconds
        layers.parse.append(f"{c}::DOUBLE AS timestamp__seconds")
        layers.check += [*passed, "NULL::TIMESTAMP AS timestamp__parsed", "timestamp__seconds"]
        parsed, seconds = "timestamp__parsed", "timestamp__seconds"
    in_range = f"({parsed} >= {_LOW} AND {parsed} < {_HIGH})"
    in_seconds = f"({seconds} >= {_LOW_S} AND {seconds} < {_HIGH_S})"
    as_time = f"make_timestamp(CAST({seconds} * 1000000 AS BIGINT))"
    missing = "'missing'" if required else "NULL"
    ts = f"CASE WHEN {in_range} THEN {parsed} WHEN {parsed} IS NULL AND {in_seconds} THEN {as_time} END"
    if kind == "json":
        ts = f"CASE WHEN {wrong_kind} THEN NULL ELSE {ts} END"
    layers.value += [
        "timestamp__text",
        f"{ts} AS _ts",
        f"CASE WHEN {in_range} THEN NULL WHEN timestamp__missing THEN {missing} WHEN {wrong_kind} OR ({parsed} IS NULL AND {seconds} IS NULL) THEN 'unparsed' "
        f"WHEN NOT ({parsed} IS NULL AND {in_seconds}) THEN 'range' END AS timestamp__code",
        *(["timestamp__kind"] if kind == "json" else []),
    ]
    layers.codes.append("timestamp__code")


def _name(layers: _Layers, column: str, kind: str, unknown: tuple[str, ...] | None) -> None:
    """A name column: the raw name is the key (the config checks it on the distinct names); lists and objects are bad."""
    c, key = _q(column), f"{column}__key"
    layers.raws.append(column)
    layers.parse.append(c)
    if kind == "json":
        layers.parse += [f"{column}__kind", f"CASE WHEN {column}__kind IN ('ARRAY', 'OBJECT') THEN NULL ELSE {c} END AS {key}"]
        code = f"CASE WHEN {column}__kind = 'ARRAY' THEN 'list' WHEN {column}__kind = 'OBJECT' THEN 'object'"
    else:
        layers.parse.append(f"{c}::VARCHAR AS {key}")
        code = "CASE"
    if unknown:
        names = ", ".join(sql_string(name) for name in unknown)
        code += f" WHEN {key} IN ({names}) THEN 'unknown'"
    code = "NULL::VARCHAR" if code == "CASE" else code + " END"
    layers.check += [key, f"{code} AS {column}__code"]
    layers.value += [f"{key} AS {column}", f"{column}__code"]
    layers.codes.append(f"{column}__code")


# --- messages ----------------------------------------------------------------------------------


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "..."


def _got(row: dict[str, Any], column: str, kind: str) -> str:
    """The cell as a message shows it: text quoted, JSON as its Python value, numbers with ``:g``."""
    text = row.get(f"{column}__text")
    if kind == "json" and text is not None:
        json_kind = row.get(f"{column}__kind")
        if json_kind == "VARCHAR":
            return repr(_shown(text))
        if json_kind in ("ARRAY", "OBJECT"):
            return "a list" if json_kind == "ARRAY" else "an object"
        if json_kind == "BOOLEAN":
            return "True" if text == "true" else "False"
        return shown_number(float(text)) if json_kind == "DOUBLE" else _shown(text)
    if kind in ("text", "bool") and text is not None:
        return repr(_shown(text)) if kind == "text" else text.capitalize()
    number = row.get(f"{column}__num")
    return shown_number(number) if number is not None else repr(_shown(str(text)))


def describe(
    row: dict[str, Any], columns: dict[str, str], hints: dict[Any, str], totals: bool = False, names: dict[str, str] | None = None
) -> list[tuple[str, str]]:
    """The messages of one bad row: ``(message, hint)`` in column order (a hint is shown once per message). ``names``: the
    file's own name of a canonical column (a usage export's field), as the messages say it."""
    names = names or {}
    out: list[tuple[str, str]] = []
    record = row.get("_record")
    if record is not None:
        out.append((_record_message(record, row), ""))
        return out
    for column, rule in (TOTAL_NUMBERS if totals else NUMBERS).items():
        code = row.get(f"{column}__code")
        if code is None:
            continue
        kind, label = columns[column], names.get(column, column)
        number = row.get(f"{column}__num")
        allowed = f"allowed: {rule.allowed}"
        text = {
            "missing": f"{label}: missing",
            "not-number": f"{label}: not a number (got {_got(row, column, kind)})",
            "not-finite": f"{label}: not a finite number (got {_got(row, column, kind)})",
            "not-integer": f"{label}: not an integer (got {shown_number(number)})" if number is not None else "",
            "below": f"{label}: below {rule.minimum} (got {shown_number(number)})" if number is not None else "",
            "above": f"{label}: above {rule.maximum:,} (got {shown_number(number)})" if number is not None else "",
        }[code]
        out.append((text, allowed))
    for part, whole in PARTS.items():
        if row.get(f"{part}__part") is not None:
            noun = "cached input tokens are part of the input tokens" if whole == "input_tokens" else "reasoning tokens are part of the output tokens"
            part_name, whole_name = names.get(part, part), names.get(whole, whole)
            out.append((f"{part_name}: {row[_VALUE[part]]:,} above {whole_name} ({row[_VALUE[whole]]:,})", f"allowed: from 0 to {whole_name} ({noun})"))
    for column in ("input_tokens", "output_tokens"):
        if row.get(f"{column}__mean") is not None:
            requests, label = row.get("_c") or 0, names.get(column, column)
            if requests == 0:
                out.append((f"{label}: {row[_VALUE[column]]:,} tokens with 0 requests", "allowed: tokens only where the row counts requests"))
            else:
                out.append((f"{label}: {row[_VALUE[column]]:,} over {requests:,} requests", f"allowed: at most {MAX_TOKENS:,} per request"))
    for column in (*NAME_COLUMNS, *KEY_COLUMNS):
        code = row.get(f"{column}__code")
        if code == "unknown":
            raw = str(row[column])
            out.append((f"{column} {_shown(raw)!r} unknown", hints.get((column, raw.strip()), hints.get(column, ""))))
        elif code in ("list", "object"):
            what = "a list" if code == "list" else "an object"
            out.append((f"{column}: {what}, not a name", "allowed: text"))
    code = row.get("timestamp__code")
    if code is not None:
        kind, label = columns[TIME_COLUMN], names.get(TIME_COLUMN, TIME_COLUMN)
        if code == "missing":
            out.append((f"{label}: missing (needed to group by day or month)", f"allowed: {TIME_ALLOWED}"))
        elif code == "unparsed":
            out.append((f"{label}: not a date and time (got {_got(row, TIME_COLUMN, kind)})", f"allowed: {TIME_ALLOWED}"))
        else:
            out.append((f"{label}: out of range (got {_got(row, TIME_COLUMN, kind)})", f"allowed: {TIME_RANGE}"))
    return out


def _record_message(record: str, row: dict[str, Any]) -> str:
    """A JSON line that is not an object with distinct keys; a usage export's document that is not what its format holds."""
    if record.startswith("problem:"):
        problem = record.removeprefix("problem:")
        if problem == "invalid":
            return "not valid JSON"
        return f"not {problem.split(':', 1)[1]}" if problem.startswith("not-page:") else problem
    line = row.get("_line_text")
    if record == "invalid":
        detail = ""
        if isinstance(line, str):
            try:
                json.loads(line)
            except json.JSONDecodeError as error:
                detail = f" ({error.msg} at column {error.colno})"
            except RecursionError:
                detail = " (nested too deep)"
        return f"not valid JSON{detail}"
    if record == "duplicate":
        return "a column is given twice in this object"
    json_kind = record.removeprefix("type:")
    python = {"ARRAY": "list", "VARCHAR": "str", "BIGINT": "int", "UBIGINT": "int", "DOUBLE": "float", "BOOLEAN": "bool", "NULL": "NoneType"}
    return f"not a JSON object (got {python.get(json_kind, json_kind.lower())})"


def reject_message(entries: list[tuple], header_fields: int, fields: dict[str, str]) -> tuple[str, str]:
    """``(message, hint)`` of a row DuckDB's CSV reader rejected, from its reject entries
    ``(line, type, message, column name, column index, line text)``; ``fields`` maps the reader's column names to
    the canonical columns (a number column that is not a number is rejected by the reader, which parses it)."""
    import csv
    import re

    counts = [re.search(r"Found: (\d+)", entry[2]) for entry in entries if "COLUMNS" in entry[1]]
    if counts:  # one entry per missing column, each with a different count: the row has the smallest
        found = [int(match.group(1)) for match in counts if match]
        return f"{min(found) if found else '?'} fields, the header has {header_fields}", ""
    _, error_type, message, column_name, column_index, line_text = entries[0]
    if error_type == "CAST" and column_name in fields:
        column = fields[column_name]
        cells = next(csv.reader([line_text or ""]), [])
        cell = cells[column_index - 1] if column_index and 0 < column_index <= len(cells) else "?"
        allowed = f"allowed: {NUMBERS[column].allowed}"
        return f"{column}: not a number (got {_shown(cell)!r})", allowed
    if error_type == "INVALID ENCODING":
        return "not UTF-8 text (save the log as UTF-8)", ""
    if error_type == "LINE SIZE OVER MAXIMUM":
        size = re.search(r"Maximum line size of (\d+)", message)
        return (f"longer than the cap of {int(size.group(1)):,} bytes" if size else "longer than the cap on a line"), ""
    if error_type == "UNQUOTED VALUE":
        return "a quoted value is not closed, or text follows its closing quote", ""
    return (message.strip().splitlines()[0] if message.strip() else error_type.lower()), ""
