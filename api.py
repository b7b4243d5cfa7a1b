"""HTTP API of the GenAI carbon calculator (FastAPI).

    uvicorn api:app            # then open http://127.0.0.1:8000/docs

Each route validates its body with the schemas shared with the CLI, makes one
call into ``traitement`` and returns its JSON. Errors: 422 for an invalid
value, 404 for an unknown name, both with a one-line ``detail`` naming the
field; never a 500 with a stack trace.
"""

from __future__ import annotations

import os

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

import api_support
import traitement
from api_support import EstimateOut, HardwareOut, HealthOut, ProfilesOut, RegionsOut, json_response, ok
from traitement.errors import CalculatorError, format_validation_error

app = FastAPI(
    title="GenAI carbon calculator",
    version="1.0.0",
    description="Energy (kWh), carbon (gCO2e) and water (L) of generative-AI requests. "
    "Every figure names its unit and what it covers; see the `covers` key of each answer.",
)


api_support.install(app)  # web page at /, body size limit, optional CORS, error answers


def _error(status: int, code: str, detail: str) -> Response:
    return api_support.error_response(status, code, detail)


@app.exception_handler(CalculatorError)
async def _calculator_error(_: Request, error: CalculatorError) -> Response:
    return _error(error.http_status, error.code, str(error))


@app.exception_handler(RequestValidationError)
async def _validation_error(request: Request, error: RequestValidationError) -> Response:
    schema = _BODY_SCHEMAS.get(request.url.path)
    return _error(422, "invalid-input", format_validation_error(error, schema))


def _config() -> traitement.Config:
    """The configuration, read and validated on the first request, then kept (no per-request look-up)."""
    global _CONFIG
    if _CONFIG is None:
        _CONFIG = traitement.load_config()
    return _CONFIG


_CONFIG: traitement.Config | None = None

_BODY_SCHEMAS: dict[str, type] = {
    "/calculate": traitement.NamedRequest,
    "/calculate-raw": traitement.RawRequest,
}


@app.get("/health", summary="Liveness check", response_model=None, responses=ok(HealthOut))
async def health() -> Response:
    return json_response({"status": "ok"})


@app.post("/calculate-raw", summary="Estimate from raw numbers (the seed README's payload)", response_model=None, responses=ok(EstimateOut))
async def calculate_raw(body: traitement.RawRequest) -> Response:
    """Power in W, speeds in tokens/s, intensity in gCO2e/kWh; same keys as the CLI's `--json`."""
    return json_response(traitement.estimate_raw(_config(), body).to_dict())


@app.post("/calculate", summary="Estimate from config names (region, hardware, profile)", response_model=None, responses=ok(EstimateOut))
async def calculate(body: traitement.NamedRequest) -> Response:
    """Unknown names answer 404 listing the known ones; same keys as the CLI's `--json`."""
    return json_response(traitement.estimate_named(_config(), body).to_dict())


@app.get("/regions", summary="Regions (grid intensity, water) and datacentre presets", response_model=None, responses=ok(RegionsOut))
async def regions() -> Response:
    return json_response(traitement.describe_regions(_config()))


@app.get("/hardware", summary="Hardware presets (serving setups) and GPU boards", response_model=None, responses=ok(HardwareOut))
async def hardware() -> Response:
    return json_response(traitement.describe_hardware(_config()))


@app.get("/profiles", summary="Usage profiles (typical token counts)", response_model=None, responses=ok(ProfilesOut))
async def profiles() -> Response:
    return json_response(traitement.describe_profiles(_config()))


if os.environ.get("GENAI_CARBON_BENCHMARK_ROUTES") == "1":
    # A baseline for benchmarks/load_test.py, mounted only when asked: it parses the
    # same body into the same pydantic models as /calculate-raw and returns it, so
    # the load test can show what the calculator adds over validation.

    @app.post("/echo-raw", summary="Benchmark baseline: validate a /calculate-raw body and return it", response_model=None, responses=ok(traitement.RawRequest))
    async def echo_raw(body: traitement.RawRequest) -> Response:
        return json_response(body.model_dump())

    _BODY_SCHEMAS["/echo-raw"] = traitement.RawRequest
