"""What every method declares: :class:`Method`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

INTERFACES = frozenset({"estimate", "raw", "batch", "validate", "measure"})
"""Where a method can be chosen: ``estimate`` (one estimate by config names: the CLI's estimate, ``POST /calculate``),
``raw`` (``POST /calculate-raw``), ``batch`` (request logs), ``validate`` (against published measurements),
``measure`` (a local run)."""


@dataclass(frozen=True)
class Method:
    """One way to a figure: its name, what it is, what its figures cover and where it is offered.

    ``times`` is the per-request time model of the methods that run on a serving
    setup (:func:`traitement.footprint`): ``times(input_tokens, output_tokens, modele)``
    gives ``(prefill_s, decode_s, duration_s, batch_size)``, over floats or numpy
    columns; ``batch_size`` is how many requests share the server's power.
    ``warnings`` are said with every estimate of the method.
    """

    name: str
    description: str
    covers: Mapping[str, str]
    interfaces: frozenset[str]
    times: Callable[[Any, Any, Any], tuple[Any, Any, Any, Any]] | None = None
    warnings: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        unknown = self.interfaces - INTERFACES
        if unknown:
            raise ValueError(f"method {self.name!r}: unknown interfaces {sorted(unknown)}; allowed: {sorted(INTERFACES)}")
