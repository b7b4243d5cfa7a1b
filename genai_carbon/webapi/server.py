"""Serving the API with limits on slow and idle clients (docs/reliability.md).

uvicorn closes an idle keep-alive connection after ``--timeout-keep-alive``
seconds, but it never times out a connection that opens and sends nothing, or
that sends its request line and headers a byte at a time, and its httptools
parser takes headers of any length. :class:`LimitedHttpToolsProtocol` is
uvicorn's own httptools protocol plus two limits on the request head (the
request line and the headers, before any body):

* it must arrive within :attr:`~LimitedHttpToolsProtocol.head_timeout_s`
  seconds of the connection's opening (or of the first byte of the next
  request on a kept-alive connection), else 408 and the connection is closed;
* it may not exceed :attr:`~LimitedHttpToolsProtocol.max_head_bytes`, else
  431 and the connection is closed.

The body is timed by the app itself (``GENAI_CARBON_BODY_TIMEOUT_S``, 408) and
its size limited (413). Run with every limit::

    uvicorn api:app --http genai_carbon.webapi.server:LimitedHttpToolsProtocol \\
        --timeout-keep-alive 5 --limit-concurrency 100 --backlog 128 --timeout-graceful-shutdown 10

or from Python, :func:`run`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

UVICORN_LIMITS: dict[str, Any] = {
    "timeout_keep_alive": 5,
    "limit_concurrency": 100,
    "backlog": 128,
    "timeout_graceful_shutdown": 10,
}
"""uvicorn's own limits, as :func:`run` sets them: idle keep-alive 5 s, 100 connections and tasks at once (beyond: 503),
128 connections waiting to be accepted, 10 s for requests in flight at shutdown."""


def _answer(status: int, reason: str, code: str, detail: str) -> bytes:
    """A whole HTTP/1.1 error answer in the API's error shape, closing the connection."""
    body = orjson.dumps({"detail": detail, "code": code})
    head = f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\nconnection: close\r\n\r\n"
    return head.encode("ascii") + body


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline and a size limit on each request's head (line and headers)."""

    head_timeout_s: float = 10.0
    """Seconds a client has to send a request's line and headers."""
    max_head_bytes: int = 64 * 1024
    """Largest request line and headers, in bytes."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._head_timer: asyncio.TimerHandle | None = None
        self._in_head = True
        self._head_bytes = 0
        self._head_tail = b""
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_head:  # count the head's bytes before the parser keeps them: up to the blank line that ends it
            seen = self._head_tail + data
            end = seen.find(b"\r\n\r\n")
            self._head_bytes += len(data) if end < 0 else max(end + 4 - len(self._head_tail), 0)
            self._head_tail = seen[-3:]
            if self._head_bytes > self.max_head_bytes:
                detail = f"headers: the request line and headers are larger than {self.max_head_bytes:,} bytes"
                self._refuse(_answer(431, "Request Header Fields Too Large", "headers-too-large", detail))
                return
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head_timer is None:
            self._arm_head_timer()

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._cancel_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head, self._head_bytes, self._head_tail = True, 0, b""  # the next bytes begin the next request's head

    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.head_timeout_s, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        detail = f"headers: the request line and headers did not arrive within {self.head_timeout_s:g} s"
        self._refuse(_answer(408, "Request Timeout", "head-timeout", detail))

    def _refuse(self, answer: bytes) -> None:
        self._cancel_head_timer()
        if not self.transport.is_closing():
            self.transport.write(answer)
            self.transport.close()


def run(host: str = "127.0.0.1", port: int = 8000, **options: Any) -> None:
    """Serve ``api:app`` with :class:`LimitedHttpToolsProtocol` and :data:`UVICORN_LIMITS` (``options`` override them)."""
    import uvicorn

    uvicorn.run("api:app", host=host, port=port, http=LimitedHttpToolsProtocol, **{**UVICORN_LIMITS, **options})
