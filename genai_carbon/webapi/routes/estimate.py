"""``POST /calculate-raw`` and ``POST /calculate``: one kind of request, by numbers or by config names."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

import traitement

from .. import state
from ..guards import JSONBodyRoute
from ..responses import EstimateOut, json_response, ok

router = APIRouter(route_class=JSONBodyRoute)  # a body not sent as JSON: 415


@router.post("/calculate-raw", summary="Estimate from raw numbers (powers, speeds, grid intensity)", response_model=None, responses=ok(EstimateOut))
async def calculate_raw(body: traitement.RawRequest, request: Request) -> Response:
    """Power in W, speeds in tokens/s, intensity in gCO2e/kWh; same keys as the CLI's `--json`."""
    return json_response(traitement.estimate_raw(state.config(request), body).to_dict())


@router.post("/calculate", summary="Estimate from config names (region, hardware, profile, model)", response_model=None, responses=ok(EstimateOut))
async def calculate(body: traitement.NamedRequest, request: Request) -> Response:
    """Unknown names answer 404 listing the known ones; same keys as the CLI's `--json`. With `model` and no `hardware`: method
    `model-aware` with the deployment unknown (boards, GPU count, precision and batch as ranges; `deployment` says which, and
    `parameter_method` gives the parameter method's figures beside); `method: parameter` for the seed's parameter method."""
    return json_response(traitement.estimate_named(state.config(request), body).to_dict())
