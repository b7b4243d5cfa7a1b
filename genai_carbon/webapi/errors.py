"""The one shape of every error answer, ``{"detail": one line, "code": kebab-case}``, and the handlers that give it.

* a :class:`~traitement.errors.CalculatorError` keeps its status (422, 404, 413, 503) and code;
* an invalid body or query is worded by the core's one formatter, with the
  field's description as what is allowed: the CLI's words;
* HTTP errors (404, 405, 413) keep their status;
* an unexpected exception is a 500 with a generic line and no trace (the tests show none occurs).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from traitement.errors import CalculatorError, format_validation_error

from .responses import Out, json_response


class ErrorOut(Out):
    """Every error answer."""

    detail: str = Field(description="one line: the field (e.g. 'input_tokens') and what is wrong and allowed")
    code: str = Field(description="stable kebab-case code, e.g. invalid-input, unknown-region, body-too-large")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Bad request (malformed header)"},
    404: {"model": ErrorOut, "description": "Unknown name or path"},
    413: {"model": ErrorOut, "description": "Body larger than the limit"},
    422: {"model": ErrorOut, "description": "Invalid value: `detail` names the field and what is allowed"},
}
"""Every route's error answers, documented once for the whole app (``FastAPI(responses=...)``)."""

_HTTP_CODES = {400: "bad-request", 404: "not-found", 405: "method-not-allowed", 413: "body-too-large", 415: "unsupported-media-type"}


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


async def _calculator_error(_: Request, error: Exception) -> Response:
    assert isinstance(error, CalculatorError)
    return error_response(error.http_status, error.code, str(error))


async def _validation_error(request: Request, error: Exception) -> Response:
    """Answer in the core's words (the CLI's), with the field's description as what is allowed."""
    assert isinstance(error, RequestValidationError)
    problems = error.errors()
    where = problems[0]["loc"][0] if problems and problems[0]["loc"] else "body"
    return error_response(422, "invalid-input", format_validation_error(error, route_schema(request, where)))


async def _http_error(_: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
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


def install_error_handlers(app: FastAPI) -> None:
    """Every error of ``app`` answered in the one shape."""
    app.add_exception_handler(CalculatorError, _calculator_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
