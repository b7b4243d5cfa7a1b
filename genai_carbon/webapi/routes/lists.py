"""``GET /health``, ``/regions``, ``/hardware``, ``/profiles``, ``/models``, ``/methods``: liveness, what the config holds, the methods."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

import traitement

from .. import state
from ..responses import HardwareOut, HealthOut, ProfilesOut, RegionsOut, json_response, ok

router = APIRouter()


@router.get("/health", summary="Liveness check", response_model=None, responses=ok(HealthOut))
async def health() -> Response:
    return json_response({"status": "ok"})


@router.get("/regions", summary="Regions (grid intensity, water) and datacentre presets", response_model=None, responses=ok(RegionsOut))
async def regions(request: Request) -> Response:
    return json_response(traitement.describe_regions(state.config(request)))


@router.get("/hardware", summary="Hardware presets (serving setups) and GPU boards", response_model=None, responses=ok(HardwareOut))
async def hardware(request: Request) -> Response:
    return json_response(traitement.describe_hardware(state.config(request)))


@router.get("/profiles", summary="Usage profiles (typical token counts)", response_model=None, responses=ok(ProfilesOut))
async def profiles(request: Request) -> Response:
    return json_response(traitement.describe_profiles(state.config(request)))


@router.get("/methods", summary="The estimation methods: what each is, where it is offered, what its figures cover")
async def methods() -> dict[str, Any]:
    """The registry of methods (traitement/methods/), by name: description, `covers` (what each figure includes), `interfaces` (where it can be chosen)."""
    return traitement.methods.describe()


@router.get("/models", summary="LLM catalogue (parameter counts) used by method 'parameter'")
async def models(request: Request) -> dict[str, Any]:
    """Each model's provider, total and active parameters in billions, precision and source; the method's constants and implied mix."""
    return traitement.describe_models(state.config(request))
