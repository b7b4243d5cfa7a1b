"""Body limits: 413 for a request body over its size limit (announced or streamed), 408 for a body that stops arriving.

The default size limit is ``GENAI_CARBON_MAX_BODY_BYTES`` (1 MiB); upload routes
have their own (path -> bytes), set by :mod:`.app` from their route modules:
the file's limit plus :data:`MULTIPART_OVERHEAD_BYTES` for the multipart
envelope around it, so a file just under its limit is accepted and the route
itself refuses a file over it. A client that pauses longer than
``GENAI_CARBON_BODY_TIMEOUT_S`` while sending a body is answered 408, so a slow
upload cannot hold a connection and a worker for ever.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi.exceptions import HTTPException

from traitement.settings import variable

from .errors import send_error

MULTIPART_OVERHEAD_BYTES = 64 * 1024
"""Room for the multipart envelope (boundaries, part headers, other small fields) around an upload of the largest accepted size."""


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"body: larger than the limit of {limit:,} bytes (set {variable('max_body_bytes')} to change it)")


class BodyTimeout(HTTPException):
    def __init__(self, timeout_s: float) -> None:
        super().__init__(
            408, f"body: no part of the body arrived for {timeout_s:g} s; allowed: send it without pauses (set {variable('body_timeout_s')} to change it)"
        )


class BodySizeLimit:
    """Pure ASGI middleware: 413 when ``Content-Length`` or the streamed body exceeds its limit; 408 when the body stalls.

    The announced length is checked before the route runs; the streamed size is
    counted as the route reads it (a chunked body has no announced length), and
    the route's read raises :class:`BodyTooLarge`, which FastAPI answers 413.
    Each wait for the next part of the body lasts at most ``timeout_s``
    (:class:`BodyTimeout`, 408); once the body is complete, nothing is timed.
    """

    def __init__(self, app: Any, max_bytes: int, upload_limits: dict[str, int] | None = None, timeout_s: float | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_limits = upload_limits or {}
        self.timeout_s = timeout_s

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_limits.get(scope.get("path", ""), self.max_bytes)
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit():
                    await send_error(send, 400, "invalid-header", "content-length: must be a whole number of bytes")
                    return
                if int(value) > limit:
                    code = "upload-too-large" if scope.get("path", "") in self.upload_limits else "body-too-large"
                    await send_error(send, 413, code, BodyTooLarge(limit).detail)
                    return
                break
        received = 0
        complete = False
        timeout_s = self.timeout_s

        async def limited_receive() -> dict:
            nonlocal received, complete
            if complete or timeout_s is None:
                message = await receive()
            else:
                try:
                    async with asyncio.timeout(timeout_s):  # a timer, no task: cheap on the small bodies of the estimates
                        message = await receive()
                except TimeoutError:
                    raise BodyTimeout(timeout_s) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited_receive, send)
