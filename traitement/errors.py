"""Exceptions of the calculator, each with a stable kebab-case code.

The CLI prints ``str(error)`` on one line and exits 2 (wrong call) or 1
(failure); the API answers 404 for an unknown name, 422 for an invalid value.
"""

from __future__ import annotations

from typing import Any


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


class ConfigError(CalculatorError):
    """A configuration file is missing, unreadable or invalid."""

    code = "invalid-config"
    http_status = 503  # the server's own files are wrong: not the caller's fault
    exit_code = 1


def format_validation_error(error: Any, model: type | None = None, prefix: str = "") -> str:
    """One line for a pydantic ``ValidationError``: field path, what is wrong, what is allowed.

    Takes the first error only (one line). The field's ``description`` in
    ``model`` says what is allowed, so the CLI and the API reject the same
    input with the same words.
    """
    errors = error.errors()
    first = errors[0]
    if first["type"] == "json_invalid":
        reason = first.get("ctx", {}).get("error", "not valid JSON")
        return f"{prefix}body: invalid JSON ({reason}) at character {first['loc'][-1]}"
    loc = tuple(part for part in first["loc"] if part not in ("body", "query"))
    whole = "body" if tuple(first["loc"])[:1] == ("body",) else "input"  # the API's whole body, or the CLI's input
    where = prefix + ".".join(str(part) for part in loc) if loc else (prefix.rstrip(".") or whole)
    got = first.get("input")
    shown = first["type"] != "missing" and not isinstance(got, (dict, list))
    message = f"{where}: {first['msg']}" + (f" (got {got!r})" if shown else "")
    allowed = field_description(model, loc) if model is not None else ""
    if allowed:
        message += f"; allowed: {allowed}"
    if len(errors) > 1:
        message += f" [+{len(errors) - 1} more]"
    return message


def field_description(model: Any, loc: tuple) -> str:
    """The ``description`` of the (possibly nested) field at ``loc``, or ``""``."""
    for index, part in enumerate(loc):
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return ""
        info = fields[part]
        if index == len(loc) - 1:
            return info.description or ""
        model = getattr(info, "record", None) or getattr(info, "annotation", None)
    return ""


def reject_bool(value: Any) -> Any:
    """A pydantic ``BeforeValidator``: ``true``/``false`` is not a number here."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not allowed here")
    return value
