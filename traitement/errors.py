"""Exceptions of the calculator, each with a stable kebab-case code, and THE formatter of validation errors.

The CLI prints ``str(error)`` on one line and exits 2 (wrong call) or 1
(failure); the API answers 404 for an unknown name, 422 for an invalid value.
Every schema is a pydantic model: :func:`format_validation_error` turns its
``ValidationError`` into the one line that the CLI, the API, the config loader
and the file readers all show: ``field: what is wrong (got X); allowed: ...``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, get_origin


class CalculatorError(Exception):
    """Base class: ``code`` is stable and machine-readable, the message is for people."""

    code = "calculator-error"
    http_status = 422
    exit_code = 2

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class InvalidInputError(CalculatorError):
    """A value is out of its allowed range or of the wrong type."""

    code = "invalid-input"


class UnknownNameError(CalculatorError):
    """A region, datacentre, hardware, profile or model name is not in the config."""

    code = "unknown-name"
    http_status = 404


class UploadTooLargeError(InvalidInputError):
    """An uploaded file or body is larger than its limit (HTTP 413)."""

    code = "upload-too-large"
    http_status = 413


class ConfigError(CalculatorError):
    """A configuration file (or a setting) is missing, unreadable or invalid."""

    code = "invalid-config"
    http_status = 503  # the server's own files are wrong: not the caller's fault
    exit_code = 1


# --- the one formatter of validation errors --------------------------------------------

_SHOWN_CHARS = 60
"""The offending value is shown up to this many characters (a 1 MB body is not echoed back)."""
_FRAMEWORK_PARTS = ("body", "query")
"""FastAPI's first element of an error location: where the value came from, not a field."""


def shown_number(value: float) -> str:
    """A number a message shows, to all its digits: ``5.0000000001``, ``20000001``, ``1.8446744073709552e+19`` (``:g`` kept
    6 digits: "not an integer (got 5)", "above 10,000,000 (got 1e+07)" for 10,000,001)."""
    value = float(value)
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


def _number(value: Any) -> str:
    """A bound as people write it: 10,000,000, 0.01, 1."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def _problem(error: Mapping[str, Any]) -> str:
    """What is wrong, in the project's words (pydantic's own message for the rare kinds not listed)."""
    kind, ctx = error["type"], error.get("ctx") or {}
    words = {
        "missing": "a value is required",
        "extra_forbidden": "unknown field",
        "int_parsing": "must be an integer",
        "int_type": "must be an integer",
        "int_from_float": "must be an integer",
        "int_parsing_size": "is too large",
        "float_parsing": "must be a number",
        "float_type": "must be a number",
        "finite_number": "must be a finite number",
        "string_type": "must be a string",
        "bool_parsing": "must be true or false",
        "bool_type": "must be true or false",
        "string_unicode": "must be valid text (it holds bytes that are not UTF-8, or a lone surrogate)",
        "string_pattern_mismatch": "has characters or a form not allowed",
        "model_type": "must be a mapping of field names to values",
        "model_attributes_type": "must be a mapping of field names to values",
        "dict_type": "must be a mapping",
        "list_type": "must be a list",
    }
    if kind in words:
        return words[kind]
    bounds = {"greater_than_equal": (">=", "ge"), "greater_than": (">", "gt"), "less_than_equal": ("<=", "le"), "less_than": ("<", "lt")}
    if kind in bounds:
        sign, key = bounds[kind]
        return f"must be {sign} {_number(ctx[key])}"
    if kind in ("literal_error", "enum"):
        return f"must be one of {ctx['expected']}"
    if kind == "string_too_long":
        return f"must be at most {ctx['max_length']} characters"
    if kind == "string_too_short":
        return "must not be empty" if ctx["min_length"] == 1 else f"must be at least {ctx['min_length']} characters"
    if kind == "too_long":
        got = f" (got {_number(ctx['actual_length'])})" if ctx.get("actual_length") is not None else ""
        return f"must have at most {_number(ctx['max_length'])} entries{got}"
    message = str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return message[:1].lower() + message[1:]


def _path(loc: Sequence[Any]) -> str:
    """``('genai', 'chatbots', 12, 'count')`` -> ``'genai.chatbots[12].count'``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _fields(model: Any) -> Mapping[str, Any] | None:
    """The fields of a pydantic model class (or a mapping of names to ``FieldInfo``), else ``None``."""
    if isinstance(model, Mapping):
        return model
    fields = getattr(model, "model_fields", None)
    return fields if isinstance(fields, Mapping) else None


def _inner_model(annotation: Any) -> Any:
    """The pydantic model inside ``annotation`` (``M``, ``M | None``, ``list[M]``, ``dict[str, M]``), else ``None``."""
    if isinstance(annotation, type) and _fields(annotation) is not None:
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        found = _inner_model(argument)
        if found is not None:
            return found
    return None


def _is_table(annotation: Any) -> bool:
    """Whether ``annotation`` is a mapping of names to entries (``dict[str, M]``, possibly ``| None``)."""
    if get_origin(annotation) in (dict, Mapping):
        return True
    return any(_is_table(argument) for argument in getattr(annotation, "__args__", ()) if argument is not type(None))


def _allowed(model: Any, loc: Sequence[Any], kind: str) -> str:
    """What is allowed at ``loc``: the field's description; the known fields for an unknown one or a wrong shape."""
    shape = kind in ("extra_forbidden", "model_type", "model_attributes_type")
    node, info, table_key = model, None, False
    for part in loc[:-1] if kind == "extra_forbidden" else loc:
        if isinstance(part, int) or table_key:  # a list item, or a key of a table: described by the list or table
            table_key = False
            continue
        fields = _fields(node)
        if fields is None or part not in fields:
            return ""
        info = fields[part]
        annotation = getattr(info, "annotation", None)
        node, table_key = _inner_model(annotation), _is_table(annotation)
    fields = _fields(node)
    if shape and fields:
        return ("one of " if kind == "extra_forbidden" else "the fields ") + ", ".join(fields)
    return str(getattr(info, "description", None) or "")


def format_validation_error(error: Any, model: Any = None, prefix: str = "", whole: str = "input") -> str:
    """One line for a pydantic ``ValidationError`` (or FastAPI's ``RequestValidationError``).

    ``field: what is wrong (got X); allowed: what the field's description says``.
    Only the first error is worded (one line), followed by ``[+N more]``.
    ``model`` (a pydantic model class, or a mapping of names to ``FieldInfo``)
    gives the descriptions; ``prefix`` goes before the field (a file name);
    ``whole`` names the value itself when the error is about all of it
    (``body`` for an API body, ``file`` for a file). The CLI, the API, the
    config loader, the settings and the file readers all use this function,
    so the same mistake reads the same everywhere.
    """
    errors = error.errors()
    first = errors[0]
    raw_loc = tuple(first["loc"])
    if first["type"] == "json_invalid":
        reason = (first.get("ctx") or {}).get("error", "not valid JSON")
        return f"{prefix}body: invalid JSON ({reason})"
    if raw_loc[:1] == ("body",):
        whole = "body"
    loc = tuple(part for part in raw_loc if part not in _FRAMEWORK_PARTS) if raw_loc[:1] in (("body",), ("query",)) else raw_loc
    path = _path(loc)
    where = prefix + path if path else (prefix.removesuffix(".") if prefix.endswith(".") else prefix + whole)
    message = f"{where}: {_problem(first)}"
    got = first.get("input")
    if first["type"] != "missing" and not isinstance(got, (dict, list, tuple)) and "(got " not in message:  # a validator may show it already
        shown = repr(got)
        message += f" (got {shown if len(shown) <= _SHOWN_CHARS else shown[:_SHOWN_CHARS] + '...'})"
    allowed = _allowed(model, loc, first["type"]) if model is not None else ""
    if allowed:
        message += f"; allowed: {allowed}"
    if len(errors) > 1:
        message += f" [+{len(errors) - 1} more]"
    return message
