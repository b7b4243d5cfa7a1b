"""The base of every schema: a frozen pydantic model that refuses unknown keys, and one rule for numbers.

Every schema of the project (the value objects, the request bodies, the config
files, the analytics and cases files) derives from :class:`Frozen` and writes
its numbers as ``Annotated[int, Field(ge=...), INTEGER]`` or ``Annotated[float, ..., NUMBER]``, so that a command
line, a JSON body and a YAML file accept and refuse the same text, and
:func:`parse` words a refusal the same way everywhere
(:func:`traitement.errors.format_validation_error`).

Models are built on first use (``defer_build=True``): a one-off estimate builds
the few it needs, not all of them.
"""

from __future__ import annotations

import json
import operator
import re
import sys
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel, BeforeValidator, ConfigDict, GetCoreSchemaHandler, ValidationError
from pydantic_core import PydanticCustomError, PydanticKnownError, core_schema

from .errors import CalculatorError, InvalidInputError, format_validation_error

M = TypeVar("M", bound=BaseModel)

_SMALLEST_NORMAL = sys.float_info.min
_LARGEST_FLOAT = sys.float_info.max

JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
"""A number as JSON writes it: ASCII digits, an optional fraction and exponent (no ``1_000``, no ``inf``)."""


def _number_from_text(text: str, refused: Literal["int_parsing", "float_parsing"]) -> Any:
    """``text`` read as JSON reads a number, or pydantic's ``refused`` error (its kind: ``int_parsing`` or ``float_parsing``)."""
    text = text.strip()
    if JSON_NUMBER.fullmatch(text) is None:
        raise PydanticKnownError(refused)
    try:
        return json.loads(text)
    except ValueError:  # more digits than Python converts
        raise PydanticKnownError(refused) from None


def parse_integer(value: Any) -> Any:
    """The one rule for numbers, in every schema: a number, or text written as a JSON number; never a boolean.

    ``"2000"``, ``" 1e3 "`` and ``"-0.5"`` are read as JSON reads them (a command
    line gives text, a JSON body numbers: both mean the same); ``"1_000"``,
    ``"١٠٠٠"``, ``"inf"`` and ``true`` are refused. The field's own type then
    checks the result (``1e3`` is the integer 1000, ``1.5`` is not an integer).
    """
    if isinstance(value, str):
        return _number_from_text(value, "int_parsing")
    if value is True or value is False:
        raise PydanticCustomError("bool_not_allowed", "a boolean is not allowed here")
    return value


def parse_real(value: Any) -> Any:
    """The same rule as :func:`parse_integer`, for a real number; and ``-0.0`` is 0, a subnormal number is refused.

    A subnormal (``1e-320``) has lost most of its digits and divides into
    infinity; an integer beyond the largest float (``10**400``) has no float.
    """
    if isinstance(value, str):
        value = _number_from_text(value, "float_parsing")
    elif value is True or value is False:
        raise PydanticCustomError("bool_not_allowed", "a boolean is not allowed here")
    if isinstance(value, float):
        if value != 0 and abs(value) < _SMALLEST_NORMAL:
            raise PydanticCustomError("subnormal_number", "must be 0 or at least 2.2e-308 in magnitude (smaller numbers lose their digits)")
        return value + 0.0  # -0.0 + 0.0 is 0.0: no "-0" printed
    if isinstance(value, int) and abs(value) > _LARGEST_FLOAT:
        raise PydanticCustomError("number_too_large", "must be at most 1.8e308 in magnitude")
    return value


INTEGER = BeforeValidator(parse_integer)
"""Put in every integer's ``Annotated[int, Field(...), INTEGER]``, after its constraints (the JSON schema keeps them)."""
NUMBER = BeforeValidator(parse_real)
"""Put in every real number's ``Annotated[float, Field(...), NUMBER]``, after its constraints."""


@dataclass(frozen=True)
class OneOf:
    """``Annotated[str, OneOf(choices)]``: one of a list of names known only at run time (the methods of the registry).

    Validated as a ``Literal`` would be (``must be one of 'a', 'b' or 'c'``), and shown
    as an enum in the JSON schema and in OpenAPI.
    """

    choices: tuple[str, ...]

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.literal_schema(list(self.choices))


class Frozen(BaseModel):
    """Base of every schema: immutable, unknown keys refused, no NaN or infinity, built on first use."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, defer_build=True)


def parse(
    schema: type[M],
    data: Any,
    *,
    prefix: str = "",
    whole: str = "input",
    error: type[CalculatorError] = InvalidInputError,
    code: str | None = None,
) -> M:
    """``data`` validated by ``schema``; a refusal raises ``error`` with the one-line message.

    ``prefix`` goes before the field (a file name), ``whole`` names the value
    when the error is about all of it (``file``, ``body``).
    """
    try:
        return schema.model_validate(data)
    except ValidationError as problem:
        raise error(format_validation_error(problem, schema, prefix, whole), code=code) from None


_BOUNDS = ((Ge, "ge", ">=", operator.ge), (Gt, "gt", ">", operator.gt), (Le, "le", "<=", operator.le), (Lt, "lt", "<", operator.lt))
"""The numeric constraints of a pydantic field: its annotated-types object, attribute, sign and test."""


def check_against(field: Any, value: float) -> str | None:
    """What is wrong with ``value`` under the numeric constraints of ``field`` (a ``FieldInfo``), or ``None``.

    For ranges: each end of a ``(min, max)`` range must obey the field's own
    bounds (a utilisation range cannot reach 5, a speed's minimum cannot be 0).
    """
    for constraint in field.metadata:
        for kind, key, sign, holds in _BOUNDS:
            if isinstance(constraint, kind):
                bound = getattr(constraint, key)
                if not holds(value, bound):
                    return f"must be {sign} {bound:g}"
    return None
