"""Validated, frozen records: the one schema family of the CLI, the API and the config.

Why not pydantic models here: measured on this project's machines, merely
importing ``pydantic.BaseModel`` costs 1.68x a bare ``python -c "import pydantic,
yaml"``, above the 1.5x budget of a one-off CLI estimate. So the records of the
core are frozen dataclasses whose fields carry a :class:`Spec` (type, bounds,
description); :func:`check` validates a value against it. The API builds its
pydantic models and OpenAPI schema *from the same specs*
(:func:`pydantic_model`), so both interfaces accept and reject the same input,
with the same words: ``field: what is wrong (got X); allowed: description``.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from .errors import InvalidInputError

R = TypeVar("R", bound="Record")
_MISSING = dataclasses.MISSING


@dataclass(frozen=True)
class Spec:
    """What a scalar field accepts: its type, bounds or choices, and a description that states them."""

    kind: type  # int, float or str
    description: str
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    choices: tuple[str, ...] | None = None
    max_length: int | None = None
    pattern: str | None = None
    optional: bool = False

    def problem(self, value: Any) -> tuple[str | None, Any]:
        """``(None, coerced value)`` when ``value`` is allowed, else ``(what is wrong, value)``."""
        if value is None:
            return (None, None) if self.optional else ("a value is required", value)
        if isinstance(value, bool):
            return "a boolean is not allowed here", value
        if self.kind is str:
            if not isinstance(value, str):
                return "must be a string", value
            if self.max_length is not None and len(value) > self.max_length:
                return f"must be at most {self.max_length} characters", value
            if self.choices is not None and value not in self.choices:
                return f"must be one of {', '.join(repr(c) for c in self.choices)}", value
            if self.pattern is not None and re.fullmatch(self.pattern, value) is None:
                return "has characters or a form not allowed", value
            return None, value
        number = _number(value, self.kind)
        if number is None:
            return ("must be an integer" if self.kind is int else "must be a finite number"), value
        if self.ge is not None and not number >= self.ge:
            return f"must be >= {self.ge:g}", value
        if self.gt is not None and not number > self.gt:
            return f"must be > {self.gt:g}", value
        if self.le is not None and not number <= self.le:
            return f"must be <= {self.le:,g}", value
        return None, number


def _number(value: Any, kind: type) -> int | float | None:
    """``value`` as a finite int or float (strings such as ``"2000"`` from a command line too), else ``None``."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text) if kind is int else float(text)
        except ValueError:
            return None
    if not isinstance(value, (int, float)):
        return None
    if not math.isfinite(value):
        return None
    if kind is int:
        if isinstance(value, float) and not value.is_integer():
            return None
        return int(value)
    return float(value)


def _reject_bool(value: Any) -> Any:
    """A pydantic ``BeforeValidator``: ``true``/``false`` is not a number here."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not allowed here")
    return value


def message(where: str, problem: str, value: Any, description: str) -> str:
    """The one-line error shared by the CLI and the API."""
    shown = "" if problem == "a value is required" or isinstance(value, (dict, list)) else f" (got {value!r})"
    allowed = f"; allowed: {description}" if description else ""
    return f"{where}: {problem}{shown}{allowed}"


def check(where: str, value: Any, spec: Spec) -> Any:
    """``value`` coerced to the spec's type, or :class:`InvalidInputError` naming ``where``."""
    problem, coerced = spec.problem(value)
    if problem is not None:
        raise InvalidInputError(message(where, problem, value, spec.description))
    return coerced


# --- field declarations ----------------------------------------------------------


def scalar(kind: type, description: str, default: Any = _MISSING, **bounds: Any) -> Any:
    """A scalar field: ``kind`` int, float or str, with bounds (ge, gt, le), choices or max_length."""
    spec = Spec(kind, description, optional=default is None, **bounds)
    return dataclasses.field(default=default, metadata={"spec": spec})


def nested(record: type[Record], description: str, default: Any = _MISSING) -> Any:
    """A field holding another record (given as a mapping)."""
    return dataclasses.field(default=default, metadata={"record": record, "description": description})


def table(record: type[Record], description: str, required: bool = True) -> Any:
    """A field holding a mapping of names (lower-cased) to records (empty by default when not ``required``)."""
    default = {} if required else {"default_factory": dict}
    return dataclasses.field(metadata={"table": record, "description": description}, **default)


def custom(parse: Callable[[str, Any], Any], description: str, default_factory: Callable[[], Any]) -> Any:
    """A field with its own parser ``parse(where, value)``."""
    return dataclasses.field(default_factory=default_factory, metadata={"parse": parse, "description": description})


@dataclass(frozen=True)
class FieldInfo:
    """What a record's field is: its description, and its spec or nested record type."""

    name: str
    description: str
    spec: Spec | None
    record: type[Record] | None
    table: type[Record] | None
    required: bool


class _ClassProperty:
    def __init__(self, getter: Callable[[type], Any]) -> None:
        self.getter = getter

    def __get__(self, _: Any, owner: type) -> Any:
        return self.getter(owner)


def _plan_of(cls: type[Record]) -> tuple[tuple[str, Any, Any, type[Record] | None], ...]:
    """``(name, default, default_factory, nested record or None)`` per field, computed once per class.

    ``dataclasses.fields()`` costs microseconds per call; records are built on every request.
    """
    cached = cls.__dict__.get("_field_plan")
    if cached is not None:
        return cached
    plan = tuple((f.name, f.default, f.default_factory, f.metadata.get("record")) for f in dataclasses.fields(cls))  # type: ignore[arg-type]
    cls._field_plan = plan  # type: ignore[attr-defined]
    return plan


def _trusted_plan(cls: type[Record]) -> tuple[dict[str, Any], tuple[tuple[str, Any], ...], tuple[tuple[str, Any], ...], tuple[str, ...], Any]:
    """What :meth:`Record.trusted` needs, computed once per class by :func:`record`: a template of every field
    (its default, or ``_MISSING``), the fields with a default factory, the nested-record fields, the required
    fields and the class's ``__post_init__`` (or ``None``)."""
    plan = _plan_of(cls)
    template = {name: default for name, default, _, _ in plan}
    factories = tuple((name, factory) for name, default, factory, _ in plan if default is _MISSING and factory is not _MISSING)
    nested = tuple((name, record) for name, _, _, record in plan if record is not None)
    required = tuple(name for name, default, factory, _ in plan if default is _MISSING and factory is _MISSING)
    return template, factories, nested, required, getattr(cls, "__post_init__", None)


def _fields_of(cls: type[Record]) -> dict[str, FieldInfo]:
    cached = cls.__dict__.get("_field_infos")
    if cached is not None:
        return cached
    infos = {}
    for field in dataclasses.fields(cls):
        meta = field.metadata
        spec = meta.get("spec")
        description = spec.description if spec is not None else meta.get("description", "")
        required = field.default is _MISSING and field.default_factory is _MISSING
        infos[field.name] = FieldInfo(field.name, description, spec, meta.get("record"), meta.get("table"), required)
    cls._field_infos = infos  # type: ignore[attr-defined]
    return infos


def record(cls: type[R]) -> type[R]:
    """Class decorator of a record: a dataclass whose ``__init__``, ``__eq__``, ``__repr__`` and
    immutability come from :class:`Record` instead of generated code (``dataclass`` compiles six
    functions per class with ``exec``: half of the core's import time with thirty records).
    """
    cls = dataclasses.dataclass(init=False, repr=False, eq=False)(cls)
    cls._trusted = _trusted_plan(cls)  # type: ignore[attr-defined]  # set on each record class, never inherited
    return cls


class Record:
    """Base of frozen, validated records (subclasses are decorated with :func:`record`).

    ``from_dict`` validates a mapping (unknown keys are errors), ``create``
    validates keyword arguments; both raise one-line :class:`InvalidInputError`.
    ``model_fields``, ``model_dump`` and ``model_copy`` mirror pydantic's names.
    Instances are immutable: assigning a field raises ``dataclasses.FrozenInstanceError``.
    """

    _field_infos: ClassVar[dict[str, FieldInfo] | None] = None
    model_fields = _ClassProperty(_fields_of)

    def __init__(self, **values: Any) -> None:
        state = self.__dict__  # frozen: fields are written once, here, past __setattr__
        for name, default, factory, _ in _plan_of(type(self)):
            if name in values:
                state[name] = values.pop(name)
            elif default is not _MISSING:
                state[name] = default
            elif factory is not _MISSING:
                state[name] = factory()
            else:
                raise TypeError(f"{type(self).__name__}: missing field {name!r}")
        if values:
            raise TypeError(f"{type(self).__name__}: unknown field {next(iter(values))!r}")
        post_init = getattr(self, "__post_init__", None)
        if post_init is not None:
            post_init()

    def __setattr__(self, name: str, value: Any) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.model_dump() == other.model_dump()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]  # fields may hold dicts

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={getattr(self, name)!r}" for name, *_ in _plan_of(type(self)))
        return f"{type(self).__name__}({values})"

    @classmethod
    def create(cls: type[R], **values: Any) -> R:
        return cls.from_dict(values)

    @classmethod
    def from_dict(cls: type[R], data: Any, where: str = "") -> R:
        """Validate ``data`` (a mapping); error paths start with ``where``."""
        data = cls._prepare(data)
        if not isinstance(data, Mapping):
            raise InvalidInputError(message(where.rstrip(".") or "body", "must be an object (a mapping of field names to values)", data, ""))
        infos = _fields_of(cls)
        unknown = [key for key in data if key not in infos]
        if unknown:
            raise InvalidInputError(message(f"{where}{unknown[0]}", "unknown field", data[unknown[0]], f"one of {', '.join(infos)}"))
        values = {}
        for name, info in infos.items():
            path = f"{where}{name}"
            if name not in data:
                if info.required:
                    raise InvalidInputError(message(path, "a value is required", None, info.description))
                continue
            values[name] = _parse_field(cls, name, info, data[name], path)
        try:
            record = cls(**values)
        except ValueError as error:  # a check across fields, in __post_init__
            raise InvalidInputError(f"{where.rstrip('.') or cls.__name__}: {error}") from None
        return record

    @classmethod
    def trusted(cls: type[R], data: Mapping[str, Any]) -> R:
        """A record from values *already validated against the same specs*, without checking them again.

        For the API: its pydantic models and JSON validators are generated
        from these specs (:func:`pydantic_model`, :func:`json_validator`), so
        a body they accepted needs no second check. Nested records given as
        mappings are built the same way; missing fields take their defaults;
        ``__post_init__`` (checks across fields) still runs. Never pass
        unvalidated input: use :meth:`from_dict`.
        """
        template, factories, nested, required, post_init = cls._trusted  # type: ignore[attr-defined]
        record = object.__new__(cls)
        state = record.__dict__
        state.update(template)  # every field in declaration order (defaults, or _MISSING), then the given values over them
        state.update(data)
        if len(state) != len(template):
            unknown = next(key for key in data if key not in template)
            raise TypeError(f"{cls.__name__}: unknown field {unknown!r}")
        for name, factory in factories:
            if state[name] is _MISSING:
                state[name] = factory()
        for name in required:
            if state[name] is _MISSING:
                raise TypeError(f"{cls.__name__}: missing field {name!r}")
        for name, nested_record in nested:
            value = state[name]
            if type(value) is dict or isinstance(value, Mapping):  # the exact type first: an ABC check costs more
                state[name] = nested_record.trusted(value)
        if post_init is not None:
            try:
                post_init(record)
            except ValueError as error:
                raise InvalidInputError(f"{cls.__name__}: {error}") from None
        return record

    @classmethod
    def _prepare(cls, data: Any) -> Any:
        """Hook: turn a shorthand (e.g. a plain number) into a mapping before validation."""
        return data

    def model_dump(self, exclude: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
        """A plain dict (nested records dumped too), without the ``exclude`` fields."""
        state = self.__dict__
        return {name: _dump(state[name]) for name, *_ in _plan_of(type(self)) if name not in exclude}

    def model_copy(self: R, update: Mapping[str, Any] | None = None) -> R:
        """A copy with some fields replaced, not validated again (as pydantic's ``model_copy``)."""
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        if update:
            copy.__dict__.update(update)
        return copy


def _parse_field(cls: type, name: str, info: FieldInfo, value: Any, path: str) -> Any:
    if info.spec is not None:
        return check(path, value, info.spec)
    if info.record is not None:
        return info.record.from_dict(value, f"{path}.")
    if info.table is not None:
        if not isinstance(value, Mapping):
            raise InvalidInputError(message(path, "must be a mapping of names to entries", value, info.description))
        return {str(key).lower(): info.table.from_dict(entry, f"{path}.{key}.") for key, entry in value.items()}
    parse = next(f for f in dataclasses.fields(cls) if f.name == name).metadata["parse"]
    return parse(path, value)


_PLAIN = frozenset({int, float, str, bool, type(None)})


def _dump(value: Any) -> Any:
    if type(value) in _PLAIN:  # most fields: nothing to convert
        return value
    if isinstance(value, Record):
        return value.model_dump()
    if isinstance(value, Mapping):
        return {key: _dump(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [_dump(item) for item in value]
    return value


# --- the same specs as pydantic models, for the API --------------------------------


def json_type(spec: Spec) -> Any:
    """The Python annotation pydantic should see for ``spec``."""
    from typing import Literal

    kind: Any = spec.kind
    if spec.choices is not None:
        kind = Literal[spec.choices]  # type: ignore[valid-type]
    return kind | None if spec.optional else kind


def _constraints(spec: Spec) -> dict[str, Any]:
    """pydantic ``Field`` constraints of a spec: its bounds, length and pattern; no NaN or infinity for floats."""
    constraints = {key: getattr(spec, key) for key in ("ge", "gt", "le", "max_length", "pattern") if getattr(spec, key) is not None}
    if spec.kind is float:
        constraints["allow_inf_nan"] = False
    return constraints


def pydantic_model(record: type[Record], name: str | None = None) -> Any:
    """A pydantic model with ``record``'s fields, bounds and descriptions (for FastAPI and OpenAPI).

    Numbers are validated in pydantic's lax mode (JSON ``620.0`` is an integer,
    as in JSON Schema; query parameters arrive as text) but refuse booleans.
    Imported only by the API: the CLI never pays for pydantic.
    """
    from pydantic import ConfigDict, Field, create_model

    definitions: dict[str, Any] = {}
    for field in dataclasses.fields(record):
        info = _fields_of(record)[field.name]
        default = ... if info.required else (field.default if field.default is not _MISSING else None)
        if info.spec is not None:
            spec = info.spec
            bounds = _constraints(spec)
            annotation = json_type(spec)
            if spec.kind is not str:
                # No booleans for numbers (pydantic's lax mode would take true as 1); the validator goes
                # after the Field so that the JSON schema keeps its minimum/maximum.
                from typing import Annotated

                from pydantic import BeforeValidator

                number = Annotated[spec.kind, Field(**bounds), BeforeValidator(_reject_bool)]
                annotation = number | None if spec.optional else number
                bounds = {}
            definitions[field.name] = (annotation, Field(default, description=spec.description, **bounds))
        elif info.record is not None:
            definitions[field.name] = (pydantic_model(info.record), Field(default, description=info.description))
        else:
            continue  # internal fields (bounds, tables) are not part of request bodies
    return create_model(
        name or record.__name__,
        __config__=ConfigDict(extra="forbid", frozen=True, strict=False),
        __doc__=(record.__doc__ or "").strip().splitlines()[0] if record.__doc__ else None,
        **definitions,
    )


def json_validator(record: type[Record]) -> Any:
    """A strict validator of ``record``'s JSON body that returns plain dicts: the API's fast path.

    The fields, bounds, choices and unknown-key refusal are :func:`pydantic_model`'s;
    the differences make it accept a *subset* of what the model accepts: numbers
    must be JSON numbers (``"2000"`` is refused) and integers JSON integers
    (``620.0`` is refused), so booleans are refused by pydantic-core itself, without
    the model's Python check per number. A body it refuses goes to the model, which
    accepts it or words the error. Its output is the model's
    ``model_dump(exclude_unset=True)``: only the keys given, nested dicts for nested
    records; validating into dicts skips building, then dumping, model instances.
    """
    from pydantic import TypeAdapter

    return TypeAdapter(_typed_dict(record))


def _typed_dict(record: type[Record]) -> Any:
    from typing import Annotated

    from pydantic import ConfigDict, Field, Strict, with_config
    from typing_extensions import NotRequired, TypedDict

    keys: dict[str, Any] = {}
    for name, info in _fields_of(record).items():
        if info.spec is not None:
            spec = info.spec
            kind = json_type(dataclasses.replace(spec, optional=False))
            strict = () if spec.choices is not None else (Strict(),)  # a Literal matches exactly already
            value = Annotated[(kind, *strict, Field(**_constraints(spec)))]
            annotation: Any = value | None if spec.optional else value
        elif info.record is not None:
            annotation = _typed_dict(info.record)
        else:
            continue  # internal fields (bounds, tables) are not part of request bodies, as in pydantic_model
        keys[name] = annotation if info.required else NotRequired[annotation]
    return with_config(ConfigDict(extra="forbid"))(TypedDict(f"{record.__name__}Json", keys))  # type: ignore[operator]
