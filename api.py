"""HTTP API of the GenAI carbon calculator (FastAPI).

    uvicorn api:app            # then open http://127.0.0.1:8000/docs

Each route validates its body with the schemas shared with the CLI, makes one
call into ``traitement`` and returns its JSON. Errors: 422 for an invalid
value, 404 for an unknown name, both with a one-line ``detail`` naming the
field; never a 500 with a stack trace.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

import traitement
from api_batch import router as batch_router
from traitement.errors import CalculatorError, format_validation_error

app = FastAPI(
    title="GenAI carbon calculator",
    version="1.0.0",
    description="Energy (kWh), carbon (gCO2e) and water (L) of generative-AI requests. "
    "Every figure names its unit and what it covers; see the `covers` key of each answer.",
)


def _error(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": detail, "code": code})


@app.exception_handler(CalculatorError)
async def _calculator_error(_: Request, error: CalculatorError) -> JSONResponse:
    return _error(error.http_status, error.code, str(error))


@app.exception_handler(RequestValidationError)
async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    schema = _BODY_SCHEMAS.get(request.url.path)
    return _error(422, "invalid-input", format_validation_error(error, schema))


_BODY_SCHEMAS: dict[str, type] = {
    "/calculate": traitement.NamedRequest,
    "/calculate-raw": traitement.RawRequest,
}


@app.get("/health", summary="Liveness check")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/calculate-raw", summary="Estimate from raw numbers (the seed README's payload)")
async def calculate_raw(body: traitement.RawRequest) -> dict[str, Any]:
    """Power in W, speeds in tokens/s, intensity in gCO2e/kWh; same keys as the CLI's `--json`."""
    return traitement.estimate_raw(traitement.load_config(), body).to_dict()


@app.post("/calculate", summary="Estimate from config names (region, hardware, profile)")
async def calculate(body: traitement.NamedRequest) -> dict[str, Any]:
    """Unknown names answer 404 listing the known ones; same keys as the CLI's `--json`."""
    return traitement.estimate_named(traitement.load_config(), body).to_dict()


@app.get("/regions", summary="Regions (grid intensity, water) and datacentre presets")
async def regions() -> dict[str, Any]:
    return traitement.describe_regions(traitement.load_config())


@app.get("/hardware", summary="Hardware presets (serving setups) and GPU boards")
async def hardware() -> dict[str, Any]:
    return traitement.describe_hardware(traitement.load_config())


@app.get("/profiles", summary="Usage profiles (typical token counts)")
async def profiles() -> dict[str, Any]:
    return traitement.describe_profiles(traitement.load_config())


app.include_router(batch_router)  # POST /batch: an uploaded log of requests
