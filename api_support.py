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
* documents those error answers for every route (:data:`ERROR_RESPONSES`).

Routes answer with :func:`json_response`, which serialises with orjson when it
is installed: FastAPI's own path validates the returned dict against its
return annotation before serialising it, which costs more than the estimate.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import HTTPException
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from traitement.config import DatacenterConfig, ProfileConfig, RegionConfig, Uncertain

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


class RegionsOut(_Out):
    regions: dict[str, RegionConfig]
    datacenters: dict[str, DatacenterConfig]


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
    embodied_kgco2eq: Uncertain
    source: str


class HardwareOut(_Out):
    hardware: dict[str, HardwareSetupOut]
    gpus: dict[str, GpuOut]


class ProfilesOut(_Out):
    profiles: dict[str, ProfileConfig]


class HealthOut(_Out):
    status: str


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Bad request (malformed header)"},
    404: {"model": ErrorOut, "description": "Unknown name or path"},
    413: {"model": ErrorOut, "description": "Body larger than the limit"},
    422: {"model": ErrorOut, "description": "Invalid value: `detail` names the field and what is allowed"},
}
"""Every route's error answers, documented once for the whole app (``FastAPI(responses=...)``)."""


def route_schema(request: Request, where: Any) -> Any:
    """What describes the fields of an invalid request: the route's body model, or its query parameters (name -> ``FieldInfo``)."""
    route = request.scope.get("route")
    if where == "body":
        field = getattr(route, "body_field", None)
        return None if field is None else field.field_info.annotation
    params: dict[str, Any] = {}
    for param in getattr(getattr(route, "dependant", None), "query_params", ()):
        annotation = param.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return annotation  # the query parameters are one model's fields
        params[param.alias] = param.field_info
    return params


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

