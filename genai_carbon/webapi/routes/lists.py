"""``GET /health``, ``/regions``, ``/hardware``, ``/profiles``, ``/models``, ``/sources``, ``/methods``: liveness, the config, the data pack, the methods."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

import traitement

from .. import state
from ..responses import HardwareOut, HealthOut, ProfilesOut, RegionsOut, SourcesOut, json_response, ok

router = APIRouter()


@router.get("/health", summary="Liveness check", response_model=None, responses=ok(HealthOut))
async def health() -> Response:
    return json_response({"status": "ok"})


Search = Annotated[str | None, Query(max_length=200, description="keep the rows whose id, name or an alias contains this text (case and accents ignored)")]


@router.get(
    "/regions", summary="Regions of the data pack (grid intensity, water, each with source and year) and datacentre presets", response_model=None,
    responses=ok(RegionsOut),
)  # fmt: skip
async def regions(
    request: Request,
    search: Search = None,
    kind: Annotated[Literal["country", "subdivision", "cloud", "world"] | None, Query(description="one kind of region only")] = None,
    provider: Annotated[str | None, Query(max_length=40, description="cloud regions of one provider: aws, gcp (google) or azure (microsoft)")] = None,
    country: Annotated[str | None, Query(max_length=200, description="the regions of one country: any of its names or codes")] = None,
) -> Response:
    return json_response(traitement.describe_regions(state.config(request), kind=kind, provider=provider, country=country, search=search))


@router.get("/hardware", summary="Serving setups and the data pack's GPU boards", response_model=None, responses=ok(HardwareOut))
async def hardware(
    request: Request,
    search: Search = None,
    vendor: Annotated[Literal["nvidia", "amd"] | None, Query(description="the data pack's boards of one vendor only")] = None,
) -> Response:
    return json_response(traitement.describe_hardware(state.config(request), vendor=vendor, search=search))


@router.get("/sources", summary="Sources of the data pack: licence, year and what each feeds", response_model=None, responses=ok(SourcesOut))
async def sources() -> Response:
    return json_response(traitement.describe_sources())


@router.get("/profiles", summary="Usage profiles (typical token counts)", response_model=None, responses=ok(ProfilesOut))
async def profiles(request: Request) -> Response:
    return json_response(traitement.describe_profiles(state.config(request)))


@router.get("/methods", summary="The estimation methods: what each is, where it is offered, what its figures cover")
async def methods() -> dict[str, Any]:
    """The registry of methods (traitement/methods/), by name: description, `covers` (what each figure includes), `interfaces` (where it can be chosen)."""
    return traitement.methods.describe()


@router.get("/models", summary="Models of the data pack (parameter counts), with their energy per token under method 'parameter'")
async def models(
    request: Request,
    search: Search = None,
    provider: Annotated[str | None, Query(max_length=40, description="one provider's models: openai, anthropic, google, mistral, meta, ...")] = None,
) -> dict[str, Any]:
    """Each model's provider, total and active parameters in billions (ranges where unpublished), precision and source;
    the method's constants and implied mix."""
    return traitement.describe_models(state.config(request), provider=provider, search=search)
