"""Everyday equivalences of a footprint, as illustrations: distance by car, phone charges, household hours.

The factors live in ``config/equivalences.yaml`` (value, unit, source and year
of each), read once at the edge by :func:`load_equivalences`. The arithmetic is
one division per factor (:func:`amount`), on floats or numpy columns;
:func:`equivalences` applies every factor whose figure is given and says how.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from .base import INTEGER, NUMBER, Frozen
from .config import config_dir, read_yaml, validate_file

EQUIVALENCES_FILE = "equivalences.yaml"
QUANTITY_UNITS = {"carbon_gco2eq": "gCO2e", "energy_kwh": "kWh"}
"""The figures an equivalence can divide, with the unit each is in."""
NOTE = "illustrations, not measures: everyday amounts with the same carbon or electricity, each with its basis and source"

Positive = Annotated[float, Field(gt=0), NUMBER]


class Equivalence(Frozen):
    """One everyday amount: ``value`` of ``quantity`` (in ``unit``) for ``per`` units of ``result_unit``."""

    label: str = Field(description="the words after the amount and its unit, e.g. 'of a smartphone' in '3.5 charges of a smartphone'")
    quantity: Literal["carbon_gco2eq", "energy_kwh"] = Field(description="the figure of an estimate it divides")
    value: Positive = Field(description="amount of the quantity, in `unit`, for `per` result units")
    unit: str = Field(description="unit of `value`: the quantity's unit (gCO2e or kWh) over a unit of its own, e.g. gCO2e/km")
    per: Positive = Field(1.0, description="result units that `value` stands for (8,760 hours for a year)")
    result_unit: str = Field(description="unit of the equivalent amount, e.g. km")
    basis: str = Field(description="the factor in plain words")
    source: str = Field(description="who publishes the factor")
    url: str = Field(description="where to read it")
    year: Annotated[int, Field(ge=1990, le=2100), INTEGER] = Field(description="year of the figure, from 1990 to 2100")

    @model_validator(mode="after")
    def _unit_matches_quantity(self) -> Equivalence:
        expected = QUANTITY_UNITS[self.quantity] + "/"
        if not self.unit.startswith(expected):
            raise ValueError(f"unit: must start with {expected!r} for quantity {self.quantity} (got {self.unit!r})")
        return self


class EquivalencesFile(Frozen):
    """``config/equivalences.yaml``."""

    equivalences: dict[str, Equivalence]


@lru_cache(maxsize=8)
def _load(path: Path) -> EquivalencesFile:
    return validate_file(EquivalencesFile, read_yaml(path), path)


def load_equivalences(directory: Path | str | None = None) -> EquivalencesFile:
    """Read and validate ``equivalences.yaml`` from the config folder (cached per path)."""
    return _load(Path(directory or config_dir()) / EQUIVALENCES_FILE)


def amount(quantity_value: Any, factor: Equivalence) -> Any:
    """The everyday amount, in ``factor.result_unit``, of ``quantity_value`` (in the factor's quantity unit).

    amount = quantity_value / factor.value x factor.per; floats or numpy columns.
    """
    return quantity_value / factor.value * factor.per


def equivalences(table: EquivalencesFile, energy_kwh: Any = None, carbon_gco2eq: Any = None) -> list[dict[str, Any]]:
    """Every equivalence whose figure is given, in the file's order, each with its factor, basis and source.

    ``energy_kwh`` in kWh and ``carbon_gco2eq`` in gCO2e (floats, or numpy
    columns for several footprints at once); a figure left ``None`` skips the
    equivalences that divide it.
    """
    given = {"energy_kwh": energy_kwh, "carbon_gco2eq": carbon_gco2eq}
    rows = []
    for name, factor in table.equivalences.items():
        figure = given[factor.quantity]
        if figure is None:
            continue
        rows.append({"name": name, "amount": amount(figure, factor), "quantity_value": figure, **factor.model_dump()})
    return rows


def describe_equivalences(table: EquivalencesFile, energy_kwh: Any = None, carbon_gco2eq: Any = None) -> dict[str, Any]:
    """JSON-ready: the note, every factor, and the equivalences of the figures given (``GET /equivalences``)."""
    return {
        "note": NOTE,
        "quantity_units": QUANTITY_UNITS,
        "factors": {name: factor.model_dump() for name, factor in table.equivalences.items()},
        "equivalences": equivalences(table, energy_kwh, carbon_gco2eq),
    }
