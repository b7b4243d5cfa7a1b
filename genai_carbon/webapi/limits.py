"""Body size limits: 413 for a request body over its limit, announced or streamed.

The default limit is ``GENAI_CARBON_MAX_BODY_BYTES`` (1 MiB); upload routes have
their own (path -> bytes), set by :mod:`.app` from their route modules.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.exceptions import HTTPException

from traitement.settings import variable

MULTIPART_OVERHEAD_BYTES = 64 * 1024
"""Room for the multipart envelope around an upload of the largest accepted size."""


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"body: larger than the limit of {limit:,} bytes (set {variable('max_body_bytes')} to change it)")


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
    """An error answer sent before the app runs (the middleware has no FastAPI response at hand)."""
    body = orjson.dumps({"detail": detail, "code": code})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
