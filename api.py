"""HTTP API of the GenAI carbon calculator (FastAPI).

    uvicorn api:app            # then open http://127.0.0.1:8000/docs

Each route validates its body with the schemas shared with the CLI, makes one
call into ``traitement`` and returns its JSON. Errors: 422 for an invalid
value, 404 for an unknown name, both with a one-line ``detail`` naming the
field; never a 500 with a stack trace.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, File, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

import traitement
from api_batch import router as batch_router
from traitement.errors import CalculatorError, InvalidInputError, format_validation_error
from traitement.fields import pydantic_model

# Request bodies: pydantic models generated from the core's records (same fields,
# bounds and descriptions), so FastAPI validates and documents them.
NamedRequestBody = pydantic_model(traitement.NamedRequest, "NamedRequest")
RawRequestBody = pydantic_model(traitement.RawRequest, "RawRequest")
AnalyticsOptionsQuery = pydantic_model(traitement.AnalyticsOptions, "AnalyticsOptions", strict=False)

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
    """Answer with the core's own message for the body or the query, so the words are the CLI's."""
    record = _BODY_RECORDS.get(request.url.path)
    data = error.body
    if record is None:
        record, data = _QUERY_RECORDS.get(request.url.path), dict(request.query_params)
    if record is not None and data is not None:
        try:
            record.from_dict(data)
        except InvalidInputError as core_error:
            return _error(422, core_error.code, str(core_error))
    return _error(422, "invalid-input", format_validation_error(error, record))


_BODY_RECORDS: dict[str, type[traitement.fields.Record]] = {
    "/calculate": traitement.NamedRequest,
    "/calculate-raw": traitement.RawRequest,
}
_QUERY_RECORDS: dict[str, type[traitement.fields.Record]] = {
    "/analytics": traitement.AnalyticsOptions,
}

_MULTIPART_OVERHEAD_BYTES = 64 * 1024
"""Room for the multipart envelope around an upload of the largest accepted size."""


@app.middleware("http")
async def _limit_upload(request: Request, call_next: Any) -> Any:
    """Answer 413 before reading an analytics upload whose declared length is too large."""
    if request.url.path == "/analytics":
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > traitement.MAX_UPLOAD_BYTES + _MULTIPART_OVERHEAD_BYTES:
            return _error(413, "upload-too-large", f"file: upload of {int(length):,} bytes; allowed: at most {traitement.MAX_UPLOAD_BYTES:,} bytes")
    return await call_next(request)


@app.get("/health", summary="Liveness check")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/calculate-raw", summary="Estimate from raw numbers (the seed README's payload)")
async def calculate_raw(body: RawRequestBody) -> dict[str, Any]:  # type: ignore[valid-type]
    """Power in W, speeds in tokens/s, intensity in gCO2e/kWh; same keys as the CLI's `--json`."""
    request = traitement.RawRequest.from_dict(body.model_dump(exclude_unset=True))  # type: ignore[attr-defined]
    return traitement.estimate_raw(traitement.load_config(), request).to_dict()


@app.post("/calculate", summary="Estimate from config names (region, hardware, profile, model)")
async def calculate(body: NamedRequestBody) -> dict[str, Any]:  # type: ignore[valid-type]
    """Unknown names answer 404 listing the known ones; same keys as the CLI's `--json`. With `model` and no `hardware`: method `parameter`."""
    request = traitement.NamedRequest.from_dict(body.model_dump(exclude_unset=True))  # type: ignore[attr-defined]
    return traitement.estimate_named(traitement.load_config(), request).to_dict()


MAX_CASES_FILE_BYTES = 1_000_000


@app.post("/validate", summary="Compare the methods with published measurements (a cases YAML upload)")
async def validate(
    file: Annotated[UploadFile, File(description="cases YAML, the schema of data/validation/published_cases.yaml")],
    method: Annotated[list[str] | None, Query(description="model-aware, parameter, seed-quadratic (default: all three, model-aware first)")] = None,
) -> dict[str, Any]:
    """Per case: predicted and published Wh per request and their ratio; per method: error factor and worst case; same keys as `validate --json`."""
    from traitement.energy_model import load_energy_model
    from traitement.validation import VALIDATION_METHODS, parse_cases_text
    from traitement.validation import validate as run_validation

    methods = tuple(method or VALIDATION_METHODS)
    for name in methods:
        if name not in VALIDATION_METHODS:
            return _error(422, "unknown-method", f"method: unknown validation method {name!r}; allowed: {', '.join(VALIDATION_METHODS)}")
    content = await file.read(MAX_CASES_FILE_BYTES + 1)
    if len(content) > MAX_CASES_FILE_BYTES:
        return _error(413, "file-too-large", f"file: larger than {MAX_CASES_FILE_BYTES:,} bytes")
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return _error(422, "invalid-cases-file", "file: not UTF-8 text")
    config = traitement.load_config()
    cases = parse_cases_text(text, file.filename or "upload")
    return run_validation(cases, config, load_energy_model(config.directory), methods)


@app.get("/regions", summary="Regions (grid intensity, water) and datacentre presets")
async def regions() -> dict[str, Any]:
    return traitement.describe_regions(traitement.load_config())


@app.get("/hardware", summary="Hardware presets (serving setups) and GPU boards")
async def hardware() -> dict[str, Any]:
    return traitement.describe_hardware(traitement.load_config())


@app.get("/profiles", summary="Usage profiles (typical token counts)")
async def profiles() -> dict[str, Any]:
    return traitement.describe_profiles(traitement.load_config())


@app.get("/models", summary="LLM catalogue (parameter counts) used by method 'parameter'")
async def models() -> dict[str, Any]:
    """Each model's provider, total and active parameters in billions, precision and source; the method's constants and implied mix."""
    return traitement.describe_models(traitement.load_config())


@app.post("/analytics", summary="Footprint of a Fluid Topics daily analytics file (YAML upload)")
async def analytics(file: UploadFile, options: Annotated[AnalyticsOptionsQuery, Query()]) -> dict[str, Any]:  # type: ignore[valid-type]
    """Upload the YAML as multipart field `file`; options as query parameters. Same keys as the CLI's `analytics --json`."""
    data = await file.read(traitement.MAX_UPLOAD_BYTES + 1)
    if len(data) > traitement.MAX_UPLOAD_BYTES:
        limit = traitement.MAX_UPLOAD_BYTES
        raise traitement.UploadTooLargeError(f"file: upload larger than {limit:,} bytes; allowed: at most {limit:,} bytes")
    name = file.filename or "upload"
    request = traitement.AnalyticsOptions.from_dict(options.model_dump(exclude_none=True))  # type: ignore[attr-defined]
    result = traitement.analyse_analytics(traitement.load_config(), traitement.parse_analytics(data, name), request, source=name)
    return result.to_dict()


app.include_router(batch_router)  # POST /batch: an uploaded log of requests
