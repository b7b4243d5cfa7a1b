"""``GET /equivalences``: everyday equivalences of a footprint (car distance, phone charges, household hours), as illustrations."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from traitement.base import NUMBER

from .. import state

router = APIRouter()


@router.get("/equivalences", summary="Everyday equivalences (car distance, phone charges, household hours), as illustrations")
async def equivalences(
    request: Request,
    energy_kwh: Annotated[float | None, Query(ge=0, le=1e15, description="energy in kWh, from 0 to 1e15: its equivalences"), NUMBER] = None,
    carbon_gco2eq: Annotated[float | None, Query(ge=0, le=1e18, description="carbon in gCO2e, from 0 to 1e18: its equivalences"), NUMBER] = None,
) -> dict[str, Any]:
    """The factors of `config/equivalences.yaml` (value, unit, basis, source, year), and the equivalences of the figures given."""
    from traitement.equivalences import describe_equivalences, load_equivalences

    return describe_equivalences(load_equivalences(state.config(request).directory), energy_kwh, carbon_gco2eq)
