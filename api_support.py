"""What the API needs besides its routes: the web page, hardening and response schemas.

:func:`install` is called once by ``api.py``. It

* serves the web page: ``static/index.html`` at ``/`` and the ``static/`` folder
  (only that folder: Starlette's ``StaticFiles`` refuses paths that leave it);
* limits request bodies (``GENAI_CARBON_MAX_BODY_BYTES``, default 1 MiB): a body
  announced or streamed past the limit is answered 413 with a one-line detail;
* enables CORS only when ``GENAI_CARBON_CORS_ORIGINS`` names origins (comma
  separated, or ``*``); off by default;
* answers every error as ``{"detail": one line, "code": kebab-case}``: HTTP
  errors (404, 405, 413) keep their status, and an unexpected exception is a
  500 with a generic line and no trace (the tests show none occurs);
* documents those error answers in the OpenAPI schema, for every route,
  including routes added later, so a schema fuzzer can check them.

Routes answer with :func:`json_response`, which serialises with orjson when it
is installed: FastAPI's own path validates the returned dict against its
return annotation before serialising it, which costs more than the estimate.

The estimate routes read their JSON body with :func:`read_json_body` instead of
a FastAPI body parameter: the bytes go straight to pydantic's Rust JSON
validator (``model_validate_json``), and :func:`json_body` documents the body
in the OpenAPI schema exactly as FastAPI would have. A body that fails takes
FastAPI's own steps (``json.loads``, then validation), so error answers are
unchanged.
"""

from __future__ import annotations

import email.message
import json
import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.openapi.models import Schema
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message

from traitement.config import DatacenterConfig, ProfileConfig, RegionConfig, Uncertain
from traitement.fields import pydantic_model

STATIC_DIR = Path(__file__).resolve().parent / "static"
MAX_BODY_ENV = "GENAI_CARBON_MAX_BODY_BYTES"
CORS_ENV = "GENAI_CARBON_CORS_ORIGINS"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
"""Largest request body accepted by default: 1 MiB, about 1,000 times the largest estimate request."""

try:  # orjson is about 5x faster than json on the estimate's dict of floats
    import orjson

    def _dumps(data: Any) -> bytes:
        return orjson.dumps(data)

except ImportError:  # pragma: no cover - orjson is in requirements.txt

    def _dumps(data: Any) -> bytes:
        return json.dumps(data, allow_nan=False, separators=(",", ":")).encode()


def json_response(data: Any, status_code: int = 200) -> Response:
    """A JSON answer, serialised once (no FastAPI re-validation of the returned dict)."""
    return Response(_dumps(data), status_code=status_code, media_type="application/json")


def error_response(status_code: int, code: str, detail: str) -> Response:
    """The shape of every error answer: ``{"detail": one line, "code": kebab-case}``."""
    return json_response({"detail": detail, "code": code}, status_code)


# --- JSON request bodies read by hand ----------------------------------------------------

_JSON_MEDIA_TYPES: dict[str, bool] = {}
"""Content-type header values already classified (bounded: the values come from clients)."""


def is_json_media_type(content_type: str | None) -> bool:
    """FastAPI's test for a JSON body: ``application/json`` or ``application/*+json``, parameters allowed."""
    if not content_type:
        return False
    known = _JSON_MEDIA_TYPES.get(content_type)
    if known is None:
        message = email.message.Message()
        message["content-type"] = content_type
        subtype = message.get_content_subtype()
        known = message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))
        if len(_JSON_MEDIA_TYPES) < 256:
            _JSON_MEDIA_TYPES[content_type] = known
    return known


async def request_body(request: Request) -> bytes:
    """``await request.body()``, without Starlette's async generator when the body came in one message.

    A small body arrives in one ``http.request`` message (measured: 7-8 us less per
    request than ``request.body()``). Otherwise (several chunks, a disconnect) the
    first message is handed back to Starlette's own loop. The body is kept on the
    request as ``request.body()`` keeps it, for later readers.
    """
    message = await request.receive()
    if message["type"] == "http.request" and not message.get("more_body", False):
        body = message.get("body", b"")
    else:
        first = [message]

        async def replay() -> Message:
            return first.pop() if first else await request.receive()

        body = await Request(request.scope, replay).body()
    request._body = body  # Starlette's cache of the body (what Request.body() returns once read)
    return body


async def read_json_body(request: Request, model: type[BaseModel], fast: TypeAdapter[Any]) -> dict[str, Any]:
    """The request's JSON body validated by ``model``, as a dict of the fields that were set.

    The common case costs one strict validation straight into dicts by ``fast``
    (:func:`traitement.fields.json_validator` of the same record as ``model``:
    pydantic's Rust parser and validator, no model instance). A body it refuses
    goes to ``model.model_validate_json``, which takes what only the lax model
    takes (``"2000"`` for a number). Anything else (no body, another content
    type, invalid JSON or values) repeats FastAPI's own steps for a body
    parameter, so the same bodies pass and fail as before, with the same
    :class:`RequestValidationError` (or 400) for the app's handlers to answer.
    """
    raw = await request_body(request)
    content_type = request.headers.get("content-type")
    if raw and is_json_media_type(content_type):
        try:
            return fast.validate_json(raw)
        except ValidationError:
            pass  # perhaps accepted by the lax model, just below
        try:
            return model.model_validate_json(raw).model_dump(exclude_unset=True)
        except ValidationError:
            pass  # answered by the steps below, in FastAPI's words
    return _validate_as_fastapi(raw, content_type, model).model_dump(exclude_unset=True)


def _validate_as_fastapi(raw: bytes, content_type: str | None, model: type[BaseModel]) -> BaseModel:
    """What FastAPI does with a body parameter (``fastapi.routing.get_request_handler``), step by step."""
    if not raw:
        raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}], body=None)
    data: Any = raw  # not JSON: validated as bytes, which fails
    if is_json_media_type(content_type):
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as error:
            problem = {"type": "json_invalid", "loc": ("body", error.pos), "msg": "JSON decode error", "input": {}, "ctx": {"error": error.msg}}
            raise RequestValidationError([problem], body=error.doc) from error
        except Exception as error:
            raise HTTPException(status_code=400, detail="There was an error parsing the body") from error
    try:
        return model.model_validate(data, from_attributes=True)  # as FastAPI's ModelField.validate
    except ValidationError as error:
        problems = [{**problem, "loc": ("body", *problem["loc"])} for problem in error.errors()]
        raise RequestValidationError(problems, body=data) from None


def json_body(app: FastAPI, model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra=`` for a route that reads its body with :func:`read_json_body`: ``model`` documented as FastAPI would have."""
    if not hasattr(app.state, "json_bodies"):
        app.state.json_bodies = []
    app.state.json_bodies.append(model)
    reference = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"content": {"application/json": {"schema": reference}}, "required": True}}


# --- response schemas (documentation for clients and for the schema fuzzer) -----------


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorOut(_Out):
    """Every error answer."""

    detail: str = Field(description="one line: the field (e.g. 'input_tokens') and what is wrong and allowed")
    code: str = Field(description="stable kebab-case code, e.g. invalid-input, unknown-region, body-too-large")


class PerRequestOut(_Out):
    energy_kwh: float = Field(description="facility energy of one request in kWh")
    energy_wh: float = Field(description="facility energy of one request in Wh")
    carbon_gco2eq: float = Field(description="usage carbon of one request in gCO2e")
    water_l: float = Field(description="water of one request in litres")


class EstimateOut(_Out):
    """One estimate: the same keys as the CLI's ``--json``."""

    method: str
    region: str | None
    count: int
    input_tokens: int
    output_tokens: int
    prefill_s: float = Field(description="time to read the prompt, seconds per request")
    decode_s: float = Field(description="time to write the answer, seconds per request")
    duration_s: float = Field(description="prefill_s + decode_s, seconds per request")
    energy_gpu_kwh: float
    energy_cpu_kwh: float
    energy_it_kwh: float
    energy_kwh: float = Field(description="facility energy of all `count` requests, kWh")
    carbon_gco2eq: float = Field(description="scope 2 usage carbon of all requests, gCO2e")
    water_l: float = Field(description="water of all requests, litres")
    carbon_embodied_gco2eq: float = Field(description="scope 3 hardware share, not included in carbon_gco2eq")
    energy_kwh_min: float
    energy_kwh_max: float
    carbon_gco2eq_min: float
    carbon_gco2eq_max: float
    water_l_min: float
    water_l_max: float
    carbon_embodied_gco2eq_min: float
    carbon_embodied_gco2eq_max: float
    per_request: PerRequestOut
    covers: dict[str, str] = Field(description="what each quantity includes, by key")
    assumptions: dict[str, Any] = Field(description="every input used: site, hardware, profile")
    warnings: list[str]


RegionOut = pydantic_model(RegionConfig, "RegionOut")
DatacenterOut = pydantic_model(DatacenterConfig, "DatacenterOut")
UncertainOut = pydantic_model(Uncertain, "UncertainOut")
ProfileOut = pydantic_model(ProfileConfig, "ProfileOut")


class RegionsOut(_Out):
    regions: dict[str, RegionOut]  # type: ignore[valid-type]
    datacenters: dict[str, DatacenterOut]  # type: ignore[valid-type]


class HardwareSetupOut(_Out):
    description: str
    gpu: str
    n_gpu: int
    gpu_power_w: float
    gpu_utilisation: float
    cpu_power_w: float
    cpu_utilisation: float
    prefill_tokens_per_s: float
    decode_tokens_per_s: float
    batch_size: float
    gpu_embodied_kgco2eq: float
    server_embodied_kgco2eq: float
    lifetime_years: float
    ranges: dict[str, list[float]] = Field(description="[min, max] of the uncertain fields")
    source: str


class GpuOut(_Out):
    name: str
    power_w: float
    memory_gb: float | None = Field(description="memory in GB (null for a measured machine)")
    memory_bandwidth_tb_per_s: float | None = Field(description="memory bandwidth in TB/s (null for a measured machine)")
    bf16_tflop_per_s: float | None = Field(description="dense bf16 compute in TFLOP/s (null for a measured machine)")
    embodied_kgco2eq: UncertainOut  # type: ignore[valid-type]
    source: str


class HardwareOut(_Out):
    hardware: dict[str, HardwareSetupOut]
    gpus: dict[str, GpuOut]


class ProfilesOut(_Out):
    profiles: dict[str, ProfileOut]  # type: ignore[valid-type]


class HealthOut(_Out):
    status: str


def ok(model: type[BaseModel], description: str = "Successful Response") -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route that returns :func:`json_response` of ``model``'s shape."""
    return {200: {"model": model, "description": description}}


# --- body size limit --------------------------------------------------------------------


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"body: larger than the limit of {limit:,} bytes (set {MAX_BODY_ENV} to change it)")


class BodySizeLimit:
    """Pure ASGI middleware: 413 when ``Content-Length`` or the streamed body exceeds ``max_bytes``.

    The announced length is checked before the route runs; the streamed size is
    counted as the route reads it (a chunked body has no announced length), and
    the route's read raises :class:`BodyTooLarge`, which FastAPI answers 413.
    """

    def __init__(self, app: Any, max_bytes: int, upload_limits: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_limits = upload_limits or {}

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_limits.get(scope.get("path", ""), self.max_bytes)
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit():
                    await _send_error(send, 400, "invalid-header", "content-length: must be a whole number of bytes")
                    return
                if int(value) > limit:
                    code = "upload-too-large" if scope.get("path", "") in self.upload_limits else "body-too-large"
                    await _send_error(send, 413, code, BodyTooLarge(limit).detail)
                    return
                break
        received = 0

        async def limited_receive() -> dict:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited_receive, send)


async def _send_error(send: Any, status: int, code: str, detail: str) -> None:
    body = _dumps({"detail": detail, "code": code})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def max_body_bytes() -> int:
    """The body limit from ``$GENAI_CARBON_MAX_BODY_BYTES`` (a whole number of bytes) or 1 MiB."""
    raw = os.environ.get(MAX_BODY_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_BODY_BYTES
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{MAX_BODY_ENV}: need a whole number of bytes >= 1, got {raw!r}")
    return int(raw)


def cors_origins() -> list[str]:
    """Origins allowed by CORS, from ``$GENAI_CARBON_CORS_ORIGINS`` (comma separated); empty: CORS off."""
    return [origin.strip() for origin in os.environ.get(CORS_ENV, "").split(",") if origin.strip()]


# --- error answers ----------------------------------------------------------------------

_HTTP_CODES = {400: "bad-request", 404: "not-found", 405: "method-not-allowed", 413: "body-too-large", 415: "unsupported-media-type"}


async def _http_error(_: Request, error: StarletteHTTPException) -> Response:
    detail = error.detail if isinstance(error.detail, str) else json.dumps(error.detail)
    if error.status_code == 404 and detail == "Not Found":
        detail = "path: no such page or endpoint; see /docs"
    elif error.status_code == 405 and detail == "Method Not Allowed":
        detail = "method: not allowed on this path; see /docs for the allowed ones"
    response = error_response(error.status_code, _HTTP_CODES.get(error.status_code, f"http-{error.status_code}"), detail.splitlines()[0])
    if error.headers:
        response.headers.update(error.headers)
    return response


async def _unexpected_error(_: Request, error: Exception) -> Response:
    # A bug: answer a generic line; the trace goes to the server log only.
    return error_response(500, "internal-error", "internal error: the server could not compute this answer; please report it")


# --- OpenAPI: document the error answers of every route ---------------------------------


def _documented_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorOut"] = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    for model in getattr(app.state, "json_bodies", ()):  # bodies read by hand (read_json_body), encoded as FastAPI does
        body = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in {**body.pop("$defs", {}), model.__name__: body}.items():
            components[name] = jsonable_encoder(Schema(**definition), by_alias=True, exclude_none=True)
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}
    for methods in schema.get("paths", {}).values():
        for operation in methods.values():
            responses = operation.setdefault("responses", {})
            for status, description in (
                ("400", "Bad request (malformed header)"),
                ("404", "Unknown name or path"),
                ("413", "Body larger than the limit"),
                ("422", "Invalid value: `detail` names the field and what is allowed"),
            ):
                if status == "422" or status not in responses:
                    responses[status] = {"description": description, **error}
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    app.openapi_schema = schema
    return schema


# --- assembly ---------------------------------------------------------------------------


def install(app: FastAPI, upload_limits: dict[str, int] | None = None) -> None:
    """Add the web page, the body limits, optional CORS, error handlers and documented errors to ``app``.

    ``upload_limits`` gives the upload routes their own body limit (path -> bytes).
    """
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes(), upload_limits=upload_limits)
    origins = cors_origins()
    if origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"], allow_headers=["content-type"])
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    app.openapi = lambda: _documented_openapi(app)  # type: ignore[method-assign]
