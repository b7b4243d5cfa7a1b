"""The web page at ``/``: served files, and a real headless browser (Debian's chromium via Playwright).

The browser tests start ``uvicorn`` on a free loopback port in a thread, fill the
form with the seed example and compare the numbers shown with the CLI's
``--json``; then enter a bad value and check the error appears next to that field.
They are skipped, with the reason, when chromium or playwright is missing
(``.ci/setup-browser.sh`` installs chromium).
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import api
import interface
from traitement.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "genai_carbon" / "webapi" / "static"
SETTINGS = load_settings()
CHROMIUM = SETTINGS.chromium or shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# --- served files (no browser needed) -----------------------------------------------------


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(api.app)


def test_index_served_at_root(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    for needed in ('id="estimate-form"', 'href="/docs"', "/static/app.js", "/static/vendor/chart.umd.min.js", 'id="compare-chart"'):
        assert needed in response.text


@pytest.mark.parametrize("path", ["/static/app.js", "/static/style.css", "/static/vendor/chart.umd.min.js"])
def test_static_files_served(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.content == (STATIC / path.removeprefix("/static/")).read_bytes()


def test_vendored_chart_js_is_recorded() -> None:
    head = (STATIC / "vendor/chart.umd.min.js").read_text(encoding="utf-8")[:200]
    assert "Chart.js v4.6.1" in head
    assert "4.6.1" in (STATIC / "vendor/README.txt").read_text(encoding="utf-8")
    assert (STATIC / "vendor/chart.js-LICENSE.md").is_file()


@pytest.mark.parametrize(
    "path",
    [
        "/static/../api.py",
        "/static/%2e%2e/api.py",
        "/static/..%2fapi.py",
        "/static/%2e%2e%2fconfig/config.yaml",
        "/static//etc/passwd",
        "/static/vendor/../../api.py",
    ],
)
def test_no_path_leaves_the_static_folder(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "detail" in response.json()
    assert "import" not in response.text


# --- real browser ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server_url():
    uvicorn = pytest.importorskip("uvicorn")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(api.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start on loopback")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def page(server_url, tmp_path_factory):
    if not CHROMIUM:
        pytest.skip("chromium is not installed (run .ci/setup-browser.sh: apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright; never 'playwright install')")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as playwright:
        # A new empty profile folder (playwright passes it as --user-data-dir).
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS, viewport={"width": 1100, "height": 1300}
        )
        page = context.new_page()
        page.goto(server_url + "/")
        page.wait_for_selector("body[data-ready=true]", timeout=15000)
        yield page
        context.close()


def _cli_json(capsys, argv: list[str]) -> dict:
    capsys.readouterr()
    assert interface.main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


SHOWN = {  # element prefix: (API key, factor from the API unit to the unit shown)
    "energy": ("energy_kwh", 1000.0),
    "carbon": ("carbon_gco2eq", 1.0),
    "water": ("water_l", 1000.0),
}


def test_browser_seed_example_matches_cli(page, capsys) -> None:
    expected = _cli_json(capsys, ["--in_tok", "2000", "--out_tok", "500", "--region", "usa"])
    page.select_option("#region", "usa")
    page.fill("#input_tokens", "2000")
    page.fill("#output_tokens", "500")
    page.fill("#count", "1")
    page.click("#estimate-button")
    page.wait_for_selector("#result:not([hidden])")
    for prefix, (key, factor) in SHOWN.items():
        for suffix, field in (("value", key), ("min", f"{key}_min"), ("max", f"{key}_max")):
            element = page.locator(f"#{prefix}-{suffix}")
            assert float(element.get_attribute("data-value")) == pytest.approx(expected[field], rel=1e-9)
            shown = float(element.inner_text().replace(",", ""))
            assert shown == pytest.approx(expected[field] * factor, rel=5e-4), f"{prefix}-{suffix} shows {shown}"
        assert page.locator(f"#{prefix}-covers").inner_text() == expected["covers"][key]
    assert page.locator("#error-input_tokens").inner_text() == ""
    if SETTINGS.screenshot:  # to look at the page: GENAI_CARBON_SCREENSHOT=/tmp/page.png
        page.screenshot(path=SETTINGS.screenshot, full_page=True)


@pytest.mark.parametrize(
    ("field", "value", "start"),
    [("input_tokens", "-5", "input_tokens: must be >= 1"), ("count", "lots", "count: must be an integer")],
)
def test_browser_bad_value_shows_error_next_to_field(page, field: str, value: str, start: str) -> None:
    page.fill("#input_tokens", "2000")
    page.fill("#count", "1")
    page.fill(f"#{field}", value)
    page.click("#estimate-button")
    error = page.locator(f"#{field} + .error")  # the element right after the input
    error.wait_for(state="visible")
    assert error.get_attribute("id") == f"error-{field}"
    assert error.inner_text().startswith(start)
    assert page.get_attribute(f"#{field}", "aria-invalid") == "true"
    assert page.locator("#result").is_hidden()
    assert page.locator("#error-form").inner_text() == ""
    page.fill(f"#{field}", "1" if field == "count" else "2000")


def test_browser_comparison_chart_draws_every_region(page, capsys) -> None:
    page.fill("#input_tokens", "2000")
    page.fill("#output_tokens", "500")
    page.fill("#count", "1")
    page.select_option("#compare-by", "region")
    page.select_option("#compare-quantity", "carbon_gco2eq")
    page.click("#compare-button")
    page.wait_for_function("() => Chart.getChart('compare-chart') !== undefined")
    labels = page.evaluate("() => Chart.getChart('compare-chart').data.labels")
    central = page.evaluate("() => Chart.getChart('compare-chart').data.datasets[0].data")
    regions = _cli_json(capsys, ["regions"])["regions"]
    assert labels == list(regions)
    france = _cli_json(capsys, ["--in_tok", "2000", "--out_tok", "500", "--region", "france"])
    assert central[labels.index("france")] == pytest.approx(france["carbon_gco2eq"], rel=1e-9)
    assert page.locator("#error-compare").inner_text() == ""


def test_browser_upload_panels_follow_openapi(page, client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for name, path in (("analytics", "/analytics"), ("batch", "/batch")):
        assert page.locator(f"#{name}-panel").is_visible() == ("post" in paths.get(path, {}))
    assert page.locator("a#docs-link").get_attribute("href") == "/docs"


def _serve(app):
    """Start ``app`` with uvicorn on a free loopback port in a thread; returns (url, server, thread)."""
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start on loopback"
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


@pytest.mark.parametrize(
    ("name", "sample", "total_key"),
    [("analytics", "data/sample-daily-analytics.yaml", "carbon_gco2eq"), ("batch", "data/sample_requests.csv", "carbon_gco2eq")],
)
def test_browser_upload_draws_the_daily_chart(page, name: str, sample: str, total_key: str) -> None:
    """Upload a shipped sample through its panel: the daily chart and the totals appear, the same as the API's."""
    assert page.locator(f"#{name}-panel").is_visible()
    page.click(f"#{name}-button")
    assert page.locator(f"#error-{name}").inner_text() == "file: choose a file first"
    page.set_input_files(f"#{name}-file", str(ROOT / sample))
    page.click(f"#{name}-button")
    page.wait_for_function(f"() => Chart.getChart('{name}-chart') !== undefined", timeout=20000)
    labels, values = page.evaluate(f"() => {{ const c = Chart.getChart('{name}-chart'); return [c.data.labels, c.data.datasets[0].data]; }}")
    assert len(labels) >= 2 and labels == sorted(labels)
    assert all(value > 0 for value in values)
    assert page.locator(f"#error-{name}").inner_text() == ""
    assert total_key in page.locator(f"#{name}-totals").inner_text()
