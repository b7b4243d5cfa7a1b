"""``/docs`` and ``/redoc`` work offline: the app serves Swagger UI's and ReDoc's assets itself, and the HTML names no other host.

The browser test opens ``/docs`` in headless Chromium with every request to a
host other than the app's loopback address blocked, and waits for the list of
operations to render. It is skipped, with the reason, without chromium or
playwright (``.ci/setup-browser.sh`` installs chromium).
"""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import api
from genai_carbon.webapi.routes import docs
from traitement.settings import load_settings

ASSETS = Path(docs.__file__).resolve().parent.parent / "apidocs"
REFERENCES = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*["']([^"']+)["']|spec-url=["']([^"']+)["']""")


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(api.app)


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_html_references_only_local_urls(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "http://" not in response.text and "https://" not in response.text and "//cdn" not in response.text
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    references = [next(group for group in match if group) for match in REFERENCES.findall(response.text)]
    assert references, "no script or style found in the page"
    for reference in references:
        assert reference.startswith("/"), reference
        assert client.get(reference).status_code == 200, reference


@pytest.mark.parametrize(
    ("name", "marker"),
    [("swagger-ui-bundle.js", b"SwaggerUIBundle"), ("swagger-ui.css", b".swagger-ui"), ("redoc.standalone.js", b"Redoc"), ("favicon-32x32.png", b"PNG")],
)
def test_assets_are_served_as_vendored(client: TestClient, name: str, marker: bytes) -> None:
    response = client.get(f"{docs.ASSETS_URL}/{name}")
    assert response.status_code == 200
    assert response.content == (ASSETS / name).read_bytes() and marker in response.content[:4000] + response.content[-4000:]


def test_vendored_versions_and_licences_are_recorded() -> None:
    readme = (ASSETS / "README.txt").read_text(encoding="utf-8")
    assert "swagger-ui-dist 5.35.0" in readme and "redoc 2.5.4" in readme
    for licence in ("swagger-ui-LICENSE", "swagger-ui-NOTICE", "redoc-LICENSE"):
        assert (ASSETS / licence).is_file(), licence
    assert "Apache License" in (ASSETS / "swagger-ui-LICENSE").read_text() and "MIT" in (ASSETS / "redoc-LICENSE").read_text()
    import hashlib

    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "redoc.standalone.js"):
        assert f"{hashlib.sha256((ASSETS / name).read_bytes()).hexdigest()}  {name}" in readme, name


def test_no_path_leaves_the_assets_folder(client: TestClient) -> None:
    for path in ("/apidocs/../api.py", "/apidocs/%2e%2e/routes/docs.py", "/apidocs/..%2f..%2fapi.py"):
        assert client.get(path).status_code == 404, path


# --- in a browser, offline ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def offline_browser():
    chromium = load_settings().chromium or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.skip("chromium is not installed (run .ci/setup-browser.sh: apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright; never 'playwright install')")
    uvicorn = pytest.importorskip("uvicorn")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(api.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start on loopback"
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    blocked: list[str] = []

    def only_the_app(route) -> None:
        if route.request.url.startswith(base + "/") or route.request.url.startswith("data:"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update"]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=flags)
        context = browser.new_context()
        context.route("**/*", only_the_app)
        yield context, base, blocked
        context.close()
        browser.close()
    server.should_exit = True
    thread.join(timeout=10)


def test_swagger_ui_renders_the_operations_offline(offline_browser) -> None:
    context, base, blocked = offline_browser
    page = context.new_page()
    page.goto(base + "/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=30000)
    shown = {text.strip().replace("\u200b", "") for text in page.locator(".opblock-summary-path").all_inner_texts()}
    assert {"/calculate", "/calculate-raw", "/regions", "/health"} <= shown
    assert blocked == []
    page.close()


def test_redoc_renders_offline(offline_browser) -> None:
    """ReDoc's script names Redocly's CDN for a logo: the page's Content-Security-Policy stops that request in the browser."""
    context, base, blocked = offline_browser
    page = context.new_page()
    page.goto(base + "/redoc")
    page.wait_for_selector("text=GenAI carbon calculator", timeout=30000)
    page.wait_for_selector("text=/calculate-raw", timeout=30000)
    assert blocked == []
    page.close()
