"""HTTP API of the GenAI carbon calculator (FastAPI).

    uvicorn api:app            # then open http://127.0.0.1:8000/ (web page) or /docs

Each route validates its input with the schemas shared with the CLI (the core's
pydantic models, as ordinary FastAPI body and query parameters), makes one call
into ``traitement`` and returns its JSON. Errors: 422 for an invalid value, 404
for an unknown name, 413 for a body over its limit, all as ``{"detail": one line
naming the field, "code": kebab-case}``; never a 500 with a stack trace. The web
page, the body limits, CORS and the error answers are assembled by ``api_support``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, File, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

import api_support
import traitement
from api_batch import max_upload_bytes
from api_batch import router as batch_router
from api_support import ERROR_RESPONSES, EstimateOut, HardwareOut, HealthOut, ProfilesOut, RegionsOut, json_response, ok
from traitement.errors import CalculatorError, format_validation_error

MAX_CASES_FILE_BYTES = 1_000_000
"""Largest cases file accepted by ``POST /validate``."""
MULTIPART_OVERHEAD_BYTES = 64 * 1024
"""Room for the multipart envelope around an upload of the largest accepted size."""

app = FastAPI(
    title="GenAI carbon calculator",
    version="1.0.0",
    description="Energy (kWh), carbon (gCO2e) and water (L) of generative-AI requests. "
    "Every figure names its unit and what it covers; see the `covers` key of each answer.",
    responses=ERROR_RESPONSES,
)
api_support.install(
    app,
    upload_limits={
        "/analytics": traitement.MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD_BYTES,
        "/batch": max_upload_bytes() + MULTIPART_OVERHEAD_BYTES,
        "/validate": MAX_CASES_FILE_BYTES + MULTIPART_OVERHEAD_BYTES,
    },
)  # web page at /, body size limits, optional CORS, error answers


def _error(status: int, code: str, detail: str) -> Response:
    return api_support.error_response(status, code, detail)


@app.exception_handler(CalculatorError)
async def _calculator_error(_: Request, error: CalculatorError) -> Response:
    return _error(error.http_status, error.code, str(error))


@app.exception_handler(RequestValidationError)
async def _validation_error(request: Request, error: RequestValidationError) -> Response:
    """Answer in the core's words (the CLI's), with the field's description as what is allowed."""
    where = error.errors()[0]["loc"][0] if error.errors() else "body"
    return _error(422, "invalid-input", format_validation_error(error, api_support.route_schema(request, where)))


def _config() -> traitement.Config:
    """The configuration, read and validated on the first request, then kept (no per-request look-up)."""
    global _CONFIG
    if _CONFIG is None:
        _CONFIG = traitement.load_config()
    return _CONFIG


_CONFIG: traitement.Config | None = None


@app.get("/health", summary="Liveness check", response_model=None, responses=ok(HealthOut))
async def health() -> Response:
    return json_response({"status": "ok"})


@app.post("/calculate-raw", summary="Estimate from raw numbers (the seed README's payload)", response_model=None, responses=ok(EstimateOut))
async def calculate_raw(body: traitement.RawRequest) -> Response:
    """Power in W, speeds in tokens/s, intensity in gCO2e/kWh; same keys as the CLI's `--json`."""
    return json_response(traitement.estimate_raw(_config(), body).to_dict())


@app.post("/calculate", summary="Estimate from config names (region, hardware, profile, model)", response_model=None, responses=ok(EstimateOut))
async def calculate(body: traitement.NamedRequest) -> Response:
    """Unknown names answer 404 listing the known ones; same keys as the CLI's `--json`. With `model` and no `hardware`: method `parameter`."""
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


@app.get("/models", summary="LLM catalogue (parameter counts) used by method 'parameter'")
async def models() -> dict[str, Any]:
    """Each model's provider, total and active parameters in billions, precision and source; the method's constants and implied mix."""
    return traitement.describe_models(_config())


@app.post("/analytics", summary="Footprint of a Fluid Topics daily analytics file (YAML upload)")
async def analytics(file: UploadFile, options: Annotated[traitement.AnalyticsOptions, Query()]) -> dict[str, Any]:
    """Upload the YAML as multipart field `file`; options as query parameters. Same keys as the CLI's `analytics --json`."""
    data = await file.read(traitement.MAX_UPLOAD_BYTES + 1)
    if len(data) > traitement.MAX_UPLOAD_BYTES:
        limit = traitement.MAX_UPLOAD_BYTES
        raise traitement.UploadTooLargeError(f"file: upload larger than {limit:,} bytes; allowed: at most {limit:,} bytes")
    name = file.filename or "upload"
    result = traitement.analyse_analytics(_config(), traitement.parse_analytics(data, name), options, source=name)
    return result.to_dict()


ValidationMethod = Annotated[str, traitement.methods.offered("validate")]


@app.post("/validate", summary="Compare the methods with published measurements (a cases YAML upload)")
async def validate(
    file: Annotated[UploadFile, File(description="cases YAML, the schema of data/validation/published_cases.yaml")],
    method: Annotated[
        list[ValidationMethod] | None, Query(description=f"{traitement.methods.help_text('validate')} (default: all, the first is the headline)")
    ] = None,
) -> dict[str, Any]:
    """Per case: predicted and published Wh per request and their ratio; per method: error factor and worst case; same keys as `validate --json`."""
    from traitement.energy_model import load_energy_model
    from traitement.validation import VALIDATION_METHODS, parse_cases_text
    from traitement.validation import validate as run_validation

    methods = tuple(method or VALIDATION_METHODS)
    content = await file.read(MAX_CASES_FILE_BYTES + 1)
    if len(content) > MAX_CASES_FILE_BYTES:
        return _error(413, "file-too-large", f"file: larger than {MAX_CASES_FILE_BYTES:,} bytes")
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return _error(422, "invalid-cases-file", "file: not UTF-8 text")
    config = _config()
    cases = parse_cases_text(text, file.filename or "upload")
    return run_validation(cases, config, load_energy_model(config.directory), methods)


app.include_router(batch_router)  # POST /batch: an uploaded log of requests
