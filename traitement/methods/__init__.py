"""The registry of estimation methods: one module per method in this package.

Each module declares its ``METHOD`` (:class:`~traitement.methods.base.Method`):
its name, a one-line description, what its figures cover and where it is
offered, and, for the methods that run on a serving setup, its time model.
The interfaces read the names from here (the CLI's choices, the API's enums,
``validate``, the docs) instead of repeating them. To add a method: add a
module here and list it in :data:`REGISTRY`.
"""

from __future__ import annotations

from typing import Any

from ..base import OneOf
from ..errors import InvalidInputError
from . import ecologits, hardware, measured, model_aware, parameter, seed_quadratic
from .base import INTERFACES, Method

REGISTRY: dict[str, Method] = {
    module.METHOD.name: module.METHOD for module in (hardware, model_aware, ecologits, parameter, seed_quadratic, measured)
}
"""Every method by name, in the order they are listed and offered (the first offered is the headline)."""


def names(interface: str) -> tuple[str, ...]:
    """The names of the methods offered by ``interface`` (one of :data:`~traitement.methods.base.INTERFACES`), in registry order."""
    if interface not in INTERFACES:
        raise ValueError(f"unknown interface {interface!r}; allowed: {', '.join(sorted(INTERFACES))}")
    return tuple(name for name, method in REGISTRY.items() if interface in method.interfaces)


def get(name: str, interface: str | None = None) -> Method:
    """The method ``name`` (offered by ``interface`` when given); an unknown name is a one-line ``unknown-method`` error."""
    allowed = names(interface) if interface is not None else tuple(REGISTRY)
    if name not in allowed:
        raise InvalidInputError(f"method: unknown method {name!r}; allowed: {', '.join(allowed)}", code="unknown-method")
    return REGISTRY[name]


def offered(interface: str) -> OneOf:
    """``Annotated[str, offered("estimate")]``: a method name offered by ``interface`` (an enum in OpenAPI)."""
    return OneOf(names(interface))


def help_text(interface: str) -> str:
    """The methods offered by ``interface``, each with its description: for ``--help`` and the API's field descriptions."""
    return "; ".join(f"'{name}': {REGISTRY[name].description}" for name in names(interface))


def describe() -> dict[str, dict[str, Any]]:
    """Every method as a JSON-ready dict: description, what its figures cover, where it is offered (for the docs)."""
    return {
        name: {"description": method.description, "covers": dict(method.covers), "interfaces": sorted(method.interfaces)}
        for name, method in REGISTRY.items()
    }


__all__ = ["REGISTRY", "Method", "describe", "get", "help_text", "names", "offered"]
