"""The one shape of every error answer, ``{"detail": one line, "code": kebab-case}``, and the handlers that give it.

* a :class:`~traitement.errors.CalculatorError` keeps its status (422, 404, 413, 503) and code; a 5xx answer
  names no folder of the server (a config file is named by its file name only);
* an invalid body or query is worded by the core's one formatter, with the
  field's description as what is allowed: the CLI's words; invalid JSON is
  located by line and column, never echoed back;
* HTTP errors (400, 404, 405, 408, 413, 415) keep their status;
* a client that leaves before its request is read gets no traceback in the log;
* an unexpected exception is a 500 with a generic line and no trace (the tests show none occurs).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect

from traitement.errors import CalculatorError, format_validation_error
from traitement.files import DuplicateKeyError

from .responses import Out, json_response


class ErrorOut(Out):
    """Every error answer."""

    detail: str = Field(description="one line: the field (e.g. 'input_tokens') and what is wrong and allowed")
    code: str = Field(description="stable kebab-case code, e.g. invalid-input, unknown-region, body-too-large")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Bad request (malformed header)"},
    404: {"model": ErrorOut, "description": "Unknown name or path"},
    408: {"model": ErrorOut, "description": "The body did not arrive in time"},
    413: {"model": ErrorOut, "description": "Body larger than the limit"},
    415: {"model": ErrorOut, "description": "Body not sent as application/json"},
    422: {"model": ErrorOut, "description": "Invalid value: `detail` names the field and what is allowed"},
}
"""Every route's error answers, documented once for the whole app (``FastAPI(responses=...)``)."""

_HTTP_CODES = {
    400: "bad-request",
    404: "not-found",
    405: "method-not-allowed",
    408: "body-timeout",
    413: "body-too-large",
    415: "unsupported-media-type",
}
_ABSOLUTE_PATH = re.compile(r"(?<![\w.])(?:~|/)[^\s:;,'\"()]*/([^\s/:;,'\"()]+)")
"""An absolute (or home) path in a message: only its last part, the file name, is shown to a client."""
log = logging.getLogger("genai_carbon.webapi")


def error_response(status_code: int, code: str, detail: str) -> Response:
    """The shape of every error answer: ``{"detail": one line, "code": kebab-case}``."""
    return json_response({"detail": detail, "code": code}, status_code)


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


def without_folders(message: str) -> str:
    """``message`` with each absolute path cut to its file name: a client learns which file, not where the server keeps it."""
    return _ABSOLUTE_PATH.sub(r"\1", message)


async def _calculator_error(_: Request, error: Exception) -> Response:
    assert isinstance(error, CalculatorError)
    detail = str(error)
    if error.http_status >= 500:  # the server's fault (its config, or a bug): logged, and told without its folders
        log.error("%s: %s", error.code, detail)
        detail = without_folders(detail)
    return error_response(error.http_status, error.code, detail)


def _located(document: Any, position: int) -> str:
    """``line L column C`` of a character offset in a JSON document (text or bytes)."""
    if isinstance(document, (bytes, bytearray)):
        document = bytes(document).decode("utf-8", "replace")
    if not isinstance(document, str):
        return f"character {position + 1}"
    line = document.count("\n", 0, position) + 1
    return f"line {line} column {position - (document.rfind(chr(10), 0, position) + 1) + 1}"


async def _validation_error(request: Request, error: Exception) -> Response:
    """Answer in the core's words (the CLI's), with the field's description as what is allowed."""
    assert isinstance(error, RequestValidationError)
    problems = error.errors()
    first: dict[str, Any] = dict(problems[0]) if problems else {"type": "", "loc": (), "msg": ""}
    if first["type"] == "json_invalid":  # located, never echoed: the body may be 1 MB
        position = first["loc"][-1] if first["loc"] and isinstance(first["loc"][-1], int) else 0
        reason = (first.get("ctx") or {}).get("error", "not valid JSON")
        return error_response(422, "invalid-input", f"body: invalid JSON at {_located(error.body, position)}: {reason}")
    if "UploadFile" in str(first.get("msg", "")):  # a text field where a file belongs: no Python type names
        field = first["loc"][-1] if first["loc"] else "file"
        return error_response(422, "invalid-input", f"{field}: must be a file (a multipart file field), not a text field; allowed: a file upload")
    where = first["loc"][0] if first["loc"] else "body"
    return error_response(422, "invalid-input", format_validation_error(error, route_schema(request, where)))


def _unreadable_body(cause: BaseException | None) -> str | None:
    """The one line for a body FastAPI could not parse (its own words are 'There was an error parsing the body')."""
    if isinstance(cause, RecursionError):
        return "body: invalid JSON: nested too deeply"
    if isinstance(cause, MultiPartException):
        return f"body: invalid multipart form: {cause.message}"
    if isinstance(cause, DuplicateKeyError):  # {"count": 1, "count": 5}
        return f"body: invalid JSON: {cause}"
    if isinstance(cause, ValueError):  # an integer of more than 4,300 digits, bytes that are not text
        return f"body: invalid JSON: {str(cause).split(':', 1)[0]}"
    return None


async def _http_error(_: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    detail = error.detail if isinstance(error.detail, str) else json.dumps(error.detail)
    if error.status_code == 404 and detail == "Not Found":
        detail = "path: no such page or endpoint; see /docs"
    elif error.status_code == 405 and detail == "Method Not Allowed":
        detail = "method: not allowed on this path; see /docs for the allowed ones"
    elif error.status_code == 400 and detail == "There was an error parsing the body":
        worded = _unreadable_body(error.__cause__)
        if worded is not None and worded.startswith("body: invalid JSON"):  # like any other invalid JSON: 422
            return error_response(422, "invalid-input", worded)
        detail = worded or "body: cannot be read"
    response = error_response(error.status_code, _HTTP_CODES.get(error.status_code, f"http-{error.status_code}"), detail.splitlines()[0])
    if error.headers:
        response.headers.update(error.headers)
    return response


async def _unexpected_error(_: Request, error: Exception) -> Response:
    # A bug: answer a generic line; the trace goes to the server log only.
    return error_response(500, "internal-error", "internal error: the server could not compute this answer; please report it")


async def _client_left(request: Request, _: Exception) -> Response:
    # The client closed the connection before its request was read: nobody to answer, nothing to trace.
    log.info("%s %s: the client left before its request was read", request.method, request.url.path)
    return error_response(400, "client-disconnected", "body: the client closed the connection before the body was read")


async def send_error(send: Any, status: int, code: str, detail: str) -> None:
    """An error answer sent by a middleware, before the app runs (no FastAPI response at hand); the connection is closed."""
    body = orjson.dumps({"detail": detail, "code": code})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def install_error_handlers(app: FastAPI) -> None:
    """Every error of ``app`` answered in the one shape."""
    app.add_exception_handler(ClientDisconnect, _client_left)
    app.add_exception_handler(CalculatorError, _calculator_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
