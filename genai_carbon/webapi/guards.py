"""HTTP manners the routes share: HEAD on every GET route, one value per query parameter, JSON bodies only where JSON is read.

* :class:`HeadAsGet`: ``HEAD`` answers what ``GET`` answers, without the body
  (FastAPI's routes answer 405 to it otherwise);
* :class:`OneValuePerParameter`: a query parameter given twice is an error
  (``?region=usa&region=france`` silently took the last), except the
  parameters that are lists (``/validate?method=``, ``/batch?group_by=``);
* :class:`JSONBodyRoute`: the estimate routes answer 415 to a body that is
  not declared as JSON, instead of reading it as text and echoing it.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable, Coroutine, Iterable
from typing import Any
from urllib.parse import parse_qsl

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel

from traitement.errors import InvalidInputError
from traitement.files import unique_keys

from .errors import send_error


class HeadAsGet:
    """Pure ASGI middleware: a ``HEAD`` request runs as ``GET`` and its answer is sent without the body (headers kept)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: dict) -> None:
            if message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b""})
                return
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


def _is_list(annotation: Any) -> bool:
    """Whether a parameter's annotation takes several values (``list[...]``, possibly ``| None`` or ``Annotated``)."""
    if typing.get_origin(annotation) in (list, tuple, set, frozenset):
        return True
    return any(_is_list(argument) for argument in typing.get_args(annotation) if argument is not type(None))


def _query_names(route: APIRoute, lists_only: bool) -> set[str]:
    """The query parameters of ``route`` (only those that take several values, with ``lists_only``)."""
    names: set[str] = set()
    for param in route.dependant.query_params:
        annotation = param.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):  # the query parameters are one model's fields
            names.update(info.alias or name for name, info in annotation.model_fields.items() if not lists_only or _is_list(info.annotation))
        elif not lists_only or _is_list(annotation):
            names.add(param.alias)
    return names


def list_parameters(routes: Iterable[Any]) -> dict[str, frozenset[str]]:
    """Path -> the query parameters of its routes that take several values (the others may be given once)."""
    out: dict[str, set[str]] = {}
    for route in routes:
        if isinstance(route, APIRoute):
            out.setdefault(route.path, set()).update(_query_names(route, lists_only=True))
    return {path: frozenset(names) for path, names in out.items()}


def known_parameters(routes: Iterable[Any]) -> dict[str, frozenset[str]]:
    """Path -> every query parameter its documented routes take; pages and the docs (out of the schema) take any."""
    out: dict[str, set[str]] = {}
    for route in routes:
        if isinstance(route, APIRoute) and route.include_in_schema:
            out.setdefault(route.path, set()).update(_query_names(route, lists_only=False))
    return {path: frozenset(names) for path, names in out.items()}


class OneValuePerParameter:
    """Pure ASGI middleware: 422 naming a query parameter given more than once, unless its route takes a list there,
    or one its route does not take (``/equivalences?energy_kwhh=5`` silently answered as if none were given)."""

    def __init__(self, app: Any, lists: dict[str, frozenset[str]], known: dict[str, frozenset[str]] | None = None) -> None:
        self.app = app
        self.lists = lists
        self.known = known or {}

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        query = scope.get("query_string", b"") if scope["type"] == "http" else b""
        if query:
            path = scope.get("path", "")
            allowed = self.lists.get(path, frozenset())
            known = self.known.get(path)
            seen: set[str] = set()
            for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
                if known is not None and name not in known:  # worded as the schemas word an unknown field
                    shown = name if name.isprintable() and 0 < len(name) <= 40 else repr(name[:40] + ("..." if len(name) > 40 else ""))
                    got = repr(value if len(value) <= 40 else value[:40] + "...")
                    listed = "one of " + ", ".join(sorted(known)) if known else "no query parameter on this path"
                    detail = f"{shown}: unknown field (got {got}); allowed: {listed}"
                    await send_error(send, 422, "unknown-parameter", detail)
                    return
                if name in seen and name not in allowed:
                    detail = f"{name}: given more than once in the query; allowed: one value"
                    await send_error(send, 422, "repeated-parameter", detail)
                    return
                seen.add(name)
        await self.app(scope, receive, send)


async def one_file_field(request: Request) -> None:
    """A dependency of the upload routes: the form holds one field, ``file``, once. A second file was silently dropped
    (the last one kept), and another field silently ignored (``region=france`` sent in the form, not the query)."""
    check_form_fields(await request.form())  # FastAPI has read it already: this is its cached copy


def check_form_fields(form: Any) -> None:
    """A form (Starlette's ``FormData``) holds one field, ``file``, once: else a one-line error naming the field."""
    names = [name for name, _ in form.multi_items()]
    other = next((name for name in names if name != "file"), None)
    if other is not None:
        shown = other if other.isprintable() and 0 < len(other) <= 40 else repr(other[:40])
        raise InvalidInputError(
            f"{shown}: unknown form field; allowed: one field, file (the options go in the query: ?region=...)", code="unknown-form-field"
        )
    if names.count("file") > 1:
        raise InvalidInputError(f"file: given {names.count('file')} times in the form; allowed: one file per request", code="repeated-form-field")


def upload_name(filename: str | None) -> str:
    """An uploaded file's name as the messages show it: its last part, printable, at most 100 characters (default ``upload``)."""
    name = "".join(char for char in (filename or "").replace("\\", "/").rsplit("/", 1)[-1] if char.isprintable())[:100]
    return name.strip() or "upload"


JSON_TYPES = ("application/json",)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))


class _UniqueKeysRequest(Request):
    """A request whose JSON body refuses a key given twice (``{"count": 1, "count": 5}`` silently kept 5)."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = json.loads(await self.body(), object_pairs_hook=unique_keys)
        return self._json


class JSONBodyRoute(APIRoute):
    """A route whose body is JSON: a body of another declared type, or of none, is answered 415 without being read back;
    a key given twice in an object is answered 422 naming it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def json_only(request: Request) -> Response:
            content_type = request.headers.get("content-type", "")
            if not _is_json(content_type):
                got = repr(content_type[:60]) if content_type else "none"
                raise HTTPException(415, f"content-type: must be application/json (got {got}); allowed: a JSON object sent as application/json")
            return await handler(_UniqueKeysRequest(request.scope, request.receive))

        return json_only
