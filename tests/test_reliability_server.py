"""Issue 15 against a real uvicorn on a loopback port: a slow upload does not hold /health; slow and idle clients are timed out.

Each server runs in a thread of the test process (port 0: the system picks a
free one). Nothing here measures speed: a blocked route is released by the
test itself once /health has answered, and every wait has a bound only so that
a regression fails instead of hanging.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn

import traitement
from genai_carbon.webapi.app import create_app
from genai_carbon.webapi.server import LimitedHttpToolsProtocol
from traitement.paths import DATA_DIR
from traitement.settings import Settings

BOUND_S = 20.0
"""The longest any step may wait before the test fails (a bound against a hang, not a speed target)."""


@contextmanager
def serving(app, **options) -> Iterator[str]:
    """``app`` served by uvicorn on 127.0.0.1 in a thread; yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + BOUND_S
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(BOUND_S)


def _blocking(monkeypatch, module, name: str) -> tuple[threading.Event, threading.Event]:
    """Replace ``module.name`` by a function that says it was entered, then waits for the test's release before running."""
    entered, release = threading.Event(), threading.Event()
    original = getattr(module, name)

    def blocked(*args, **kwargs):
        entered.set()
        release.wait(BOUND_S)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, blocked)
    return entered, release


@pytest.mark.parametrize(
    ("route", "module", "name", "upload"),
    [
        ("/analytics", traitement, "analyse_analytics", DATA_DIR / "sample-daily-analytics.yaml"),
        ("/validate", None, "validate", DATA_DIR / "validation" / "published_cases.yaml"),
    ],
)
def test_item2_item3_health_answers_while_an_upload_is_being_estimated(monkeypatch, route, module, name, upload):
    if module is None:
        import traitement.validation as module
    entered, release = _blocking(monkeypatch, module, name)
    answers: dict[str, httpx.Response] = {}
    with serving(create_app()) as url:

        def post() -> None:
            answers["upload"] = httpx.post(url + route, files={"file": (upload.name, upload.read_bytes())}, timeout=BOUND_S * 2)

        worker = threading.Thread(target=post)
        worker.start()
        try:
            assert entered.wait(BOUND_S), "the upload never reached the estimate"
            health = httpx.get(url + "/health", timeout=BOUND_S)  # with the estimate on the event loop, this waited for it
            assert health.status_code == 200 and health.json() == {"status": "ok"}
            assert worker.is_alive() and "upload" not in answers  # the estimate was still running meanwhile
        finally:
            release.set()
            worker.join(BOUND_S * 2)
    assert answers["upload"].status_code == 200


class QuickHead(LimitedHttpToolsProtocol):
    head_timeout_s = 0.5
    max_head_bytes = 4096


def _exchange(url: str, data: bytes) -> bytes:
    """Send ``data`` on a raw connection; read one whole answer (its head and ``content-length`` bytes) or until the server closes."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=BOUND_S) as connection:
        if data:
            connection.sendall(data)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
            head, _, body = answer.partition(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")), None)
            if length is not None and len(body) >= length:
                break
        return answer


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"", b"408"),  # opens and sends nothing
        (b"GET /health HTTP/1.1\r\nHost: x\r\n", b"408"),  # headers never finished
        (b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 10_000 + b"\r\n\r\n", b"431"),  # headers over the limit
    ],
)
def test_item25_a_slow_idle_or_oversized_request_head_is_refused_and_closed(data, status):
    with serving(create_app(), http=QuickHead) as url:
        answer = _exchange(url, data)
        assert answer.startswith(b"HTTP/1.1 " + status), answer[:200]
        assert b'"code":"head' in answer or b'"code":"headers' in answer
        assert httpx.get(url + "/health", timeout=BOUND_S).status_code == 200  # a normal client is served as before


def test_item25_a_stalled_body_is_408():
    app = create_app(Settings(body_timeout_s=0.5))
    with serving(app, http=QuickHead) as url:
        head = b"POST /calculate HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n"
        answer = _exchange(url, head + b'{"count": ')
        assert answer.startswith(b"HTTP/1.1 408") and b'"code":"body-timeout"' in answer


def test_item25_a_kept_alive_connection_serves_several_requests():
    with serving(create_app(), http=QuickHead) as url, httpx.Client(base_url=url, timeout=BOUND_S) as session:
        for _ in range(3):
            assert session.get("/health").status_code == 200
        time.sleep(0.8)  # longer than the head timeout, while idle between requests: the keep-alive timeout applies, not the head's
        assert session.get("/health").status_code == 200
