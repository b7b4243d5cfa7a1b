"""The web page at ``/`` and the method page at ``/method``: served files, and a real headless browser.

The browser tests start ``uvicorn`` on a free loopback port in a thread and drive
Debian's chromium through Playwright (never ``playwright install``). Each point of
the page is checked as a user meets it: a result on arrival with the default
names, every method rendered, scaled units and equivalences, the comparison and
its notes, uploads with the form's site settings, downloads, the URL state, the
method page, the layout at 390 px, dark mode, contrast, errors and the keyboard.
After each action the page's text must not hold ``NaN``, ``undefined`` or
``null``. Screenshots at 1280 and 390 px go to ``$GENAI_CARBON_SCREENSHOT_DIR``,
else to a folder under pytest's temporary directory. The tests are skipped, with
the reason, when chromium or playwright is missing (``.ci/setup-browser.sh``
installs chromium).
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import socket
import threading
import time
from pathlib import Path
from typing import Any

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
WIDTHS = (1280, 390)
UNITS = {  # unit shown -> how many of the API's unit it holds
    "Wh": 1e-3, "kWh": 1.0, "MWh": 1e3, "GWh": 1e6,
    "gCO2e": 1.0, "kgCO2e": 1e3, "tCO2e": 1e6,
    "mL": 1e-3, "L": 1.0, "m3": 1e3,
}  # fmt: skip
FIGURES = {"energy": "energy_kwh", "carbon": "carbon_gco2eq", "water": "water_l", "embodied": "carbon_embodied_gco2eq"}
BAD_WORDS = re.compile(r"\b(NaN|undefined|null)\b")


# --- served files (no browser needed) -----------------------------------------------------


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(api.app)


def test_index_served_at_root(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    for needed in ('id="estimate-form"', 'href="/docs"', 'href="/method"', "/static/app.js", "/static/vendor/chart.umd.min.js", 'id="compare-chart"'):
        assert needed in response.text


def test_method_page_served(client: TestClient) -> None:
    response = client.get("/method")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "/static/method.js" in response.text and 'id="validation-tables"' in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/static/app.js",
        "/static/format.js",
        "/static/method.js",
        "/static/method.html",
        "/static/style.css",
        "/static/vendor/chart.umd.min.js",
        "/static/vendor/chartjs-adapter-date-fns.bundle.min.js",
    ],
)
def test_static_files_served(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.content == (STATIC / path.removeprefix("/static/")).read_bytes()


def test_vendored_libraries_are_recorded() -> None:
    readme = (STATIC / "vendor/README.txt").read_text(encoding="utf-8")
    assert "Chart.js v4.6.1" in (STATIC / "vendor/chart.umd.min.js").read_text(encoding="utf-8")[:200]
    assert "chartjs-adapter-date-fns v3.0.0" in (STATIC / "vendor/chartjs-adapter-date-fns.bundle.min.js").read_text(encoding="utf-8")[:200]
    assert "4.6.1" in readme and "chartjs-adapter-date-fns@3.0.0" in readme
    assert (STATIC / "vendor/chart.js-LICENSE.md").is_file() and (STATIC / "vendor/chartjs-adapter-date-fns-LICENSE.md").is_file()


def test_page_loads_nothing_from_elsewhere() -> None:
    """No build step, no CDN: every script and style sheet is a local /static/ file."""
    for page in ("index.html", "method.html"):
        html = (STATIC / page).read_text(encoding="utf-8")
        for url in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert url.startswith(("/", "#", "data:")), f"{page} loads {url}"
    for script in ("app.js", "method.js"):
        assert "http" not in "".join(re.findall(r"^import .*$", (STATIC / script).read_text(encoding="utf-8"), re.M))


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


# --- the browser ------------------------------------------------------------------------------


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
def browser(tmp_path_factory):
    if not CHROMIUM:
        pytest.skip("chromium is not installed (run .ci/setup-browser.sh: apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright; never 'playwright install')")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as playwright:
        # A new empty profile folder (playwright passes it as --user-data-dir).
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS, viewport={"width": WIDTHS[0], "height": 900}, accept_downloads=True
        )
        yield context
        context.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    if SETTINGS.screenshot_dir:  # GENAI_CARBON_SCREENSHOT_DIR=out/screenshots python test.py -k web
        SETTINGS.screenshot_dir.mkdir(parents=True, exist_ok=True)
        return SETTINGS.screenshot_dir
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def open_page(browser, server_url):
    """Open a path in a fresh tab and wait until the page says it is ready; tabs close after the test."""
    pages = []

    def opener(path: str = "/", scheme: str = "light"):
        page = browser.new_page()
        pages.append(page)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.emulate_media(color_scheme=scheme)
        page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        page.goto(server_url + path)
        page.wait_for_selector("body[data-ready=true]", timeout=30000)
        page.js_errors = errors
        assert_clean(page)
        return page

    yield opener
    for page in pages:
        assert page.js_errors == [], page.js_errors
        page.close()


def assert_clean(page) -> None:
    """No NaN, undefined or null anywhere in the page's text, shown or hidden."""
    for text in (page.inner_text("body"), page.text_content("body") or ""):
        found = BAD_WORDS.search(text)
        assert found is None, f"the page shows {found.group(0)!r}: ...{text[max(0, found.start() - 80) : found.end() + 80]}..."


def screenshot(page, shots: Path, name: str) -> None:
    """Full-page screenshots at 1280 and 390 px; at 390 px nothing may scroll sideways."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(250)  # charts follow their box's new size
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} scrolls sideways at {width} px"
        page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})
    page.wait_for_timeout(100)


def cli_json(capsys, argv: list[str]) -> dict[str, Any]:
    capsys.readouterr()
    assert interface.main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def shown(text: str) -> float:
    """A figure as shown ("65.93 kWh", "1,234 gCO2e") back in the API's unit."""
    match = re.fullmatch(r"(-?[\d,]*\.?\d+(?:e[+-]?\d+)?) (\S+)", text.strip())
    assert match, f"not a number and a unit: {text!r}"
    assert match.group(2) in UNITS, f"unknown unit in {text!r}"
    return float(match.group(1).replace(",", "")) * UNITS[match.group(2)]


def estimate(page, **fields: str) -> None:
    """Fill the form's fields (a select by its value), press Estimate, wait for the answer."""
    for name, value in fields.items():
        if page.evaluate(f"document.getElementById('{name}').tagName") == "SELECT":
            page.select_option(f"#{name}", value)
        else:
            page.fill(f"#{name}", value)
    page.click("#estimate-button")
    settle(page)


def settle(page) -> None:
    """Wait until the page has finished what the last action started (body[data-busy=false]), then check its text."""
    page.wait_for_timeout(50)
    page.wait_for_selector("body[data-busy=false]", timeout=30000)
    assert_clean(page)


def figures_match(page, expected: dict[str, Any]) -> None:
    """Every figure row the answer has is shown, exact in data-value and within display rounding in the text."""
    for prefix, key in FIGURES.items():
        row_hidden = page.locator(f"#row-{prefix}").is_hidden()
        assert row_hidden == (key not in expected), f"row {prefix}: hidden={row_hidden} but key {key} present={key in expected}"
        if key not in expected:
            continue
        for suffix, field in (("value", key), ("min", f"{key}_min"), ("max", f"{key}_max")):
            element = page.locator(f"#{prefix}-{suffix}")
            assert float(element.get_attribute("data-value")) == pytest.approx(expected[field], rel=1e-9)
            assert shown(element.inner_text()) == pytest.approx(expected[field], rel=5e-4), f"{prefix}-{suffix}"


# 1. A result on arrival, with the actual default names ----------------------------------------


def test_result_on_arrival_with_the_default_names(open_page, shots, capsys) -> None:
    page = open_page("/")
    expected = cli_json(capsys, [])
    assert page.locator("#result").is_visible()
    defaults = expected["assumptions"]
    assert page.input_value("#method") == "hardware"
    assert page.input_value("#region") == defaults["region"] == "USA"  # the data pack's id of the default region
    assert page.input_value("#datacenter") == defaults["datacenter"] == "industry-average"
    assert page.input_value("#hardware") == defaults["hardware"] == "h100"
    assert page.input_value("#profile") == defaults["profile"] == "chatbot"
    figures_match(page, expected)
    assert page.evaluate("() => Chart.getChart('compare-chart') !== undefined"), "the comparison is drawn on arrival"
    assert page.locator("#analytics-result").is_hidden() and page.locator("#batch-result").is_hidden()  # no empty chart areas
    screenshot(page, shots, "arrival")
    dark = open_page("/", scheme="dark")
    screenshot(dark, shots, "arrival-dark")


def test_seed_example_matches_cli(open_page, capsys) -> None:
    page = open_page("/")
    expected = cli_json(capsys, ["--in_tok", "2000", "--out_tok", "500", "--region", "usa"])
    estimate(page, region="usa", input_tokens="2000", output_tokens="500", count="1")
    figures_match(page, expected)
    boundaries = page.text_content("#result-covers-api")
    for key in ("energy_kwh", "carbon_gco2eq", "water_l"):
        assert expected["covers"][key] in boundaries
        assert page.inner_text(f"#{next(p for p, k in FIGURES.items() if k == key)}-covers")  # plain words beside each figure
    assert page.locator("#error-input_tokens").inner_text() == ""


# 2. Every method rendered right ------------------------------------------------------------------

METHOD_CASES = [
    ("hardware-preset", {}, [], "Serving setup h100"),
    ("model-aware", {"model": "llama-3.1-70b"}, ["--model", "llama-3.1-70b"], "hardware not given: the central figure assumes 4 x h100 in bf16"),
    ("hardware-with-model", {"method": "hardware", "model": "llama-3.1-70b"}, ["--model", "llama-3.1-70b", "--hardware", "h100"], "GPUs to hold the weights"),
    ("parameter", {"method": "parameter", "model": "mistral-large-2"}, ["--model", "mistral-large-2", "--method", "parameter"], "implied mix"),
    (
        "parameter-grid",
        {"method": "parameter", "model": "mistral-large-2", "mix": "grid", "region": "france"},
        ["--model", "mistral-large-2", "--method", "parameter", "--mix", "grid", "--region", "france"],
        "grid FRA",
    ),
    ("seed-quadratic", {"method": "seed-quadratic"}, ["--method", "seed-quadratic"], "Serving setup h100"),
]


@pytest.mark.parametrize(("name", "fields", "argv", "summary"), METHOD_CASES, ids=[case[0] for case in METHOD_CASES])
def test_every_method_rendered_right(open_page, shots, capsys, name: str, fields: dict[str, str], argv: list[str], summary: str) -> None:
    page = open_page("/")
    expected = cli_json(capsys, argv)
    if fields.get("method"):
        page.select_option("#method", fields["method"])
    estimate(page, **{key: value for key, value in fields.items() if key != "method"})
    figures_match(page, expected)
    assert summary in page.inner_text("#result-assumptions")
    assert page.inner_text("#result-title").startswith("One request")
    parameter = expected["method"] == "parameter"
    unknown_hardware = parameter or expected["method"] == "model-aware"
    assert page.locator("#hardware").is_hidden() == unknown_hardware and page.locator("#datacenter").is_hidden() == parameter
    assert page.locator("#mix").is_visible() == parameter
    assert page.input_value("#method") == expected["method"]
    for warning in expected["warnings"]:
        assert warning in page.inner_text("#result-warnings")
    if name in ("model-aware", "hardware-with-model"):
        assert "model-aware" in page.inner_text("#result-title")
    if name == "model-aware":  # picking a model gives the validated method, the deployment as ranges, the parameter method beside
        words = page.inner_text("#result-assumptions")
        assert "the range spans h100, h200, b200, a100 boards" in words and "8 to 1,024 requests at once" in words
        assert "For comparison, the parameter method" in words
        assert expected["energy_kwh_min"] < expected["energy_kwh"] < expected["energy_kwh_max"]
    if name in ("parameter", "model-aware"):
        screenshot(page, shots, f"method-{name}")


def test_cached_and_reasoning_tokens_in_the_advanced_box(open_page, capsys) -> None:
    page = open_page("/")
    assert page.locator("#cached_input_tokens").is_hidden()  # in the closed box
    page.click("#advanced-tokens summary")
    expected = cli_json(capsys, ["--model", "gpt-4o", "--in_tok", "2000", "--cached-input-tokens", "1500", "--out_tok", "400", "--reasoning-tokens", "200"])
    estimate(page, model="gpt-4o", input_tokens="2000", cached_input_tokens="1,500", output_tokens="400", reasoning_tokens="200")
    figures_match(page, expected)
    words = page.inner_text("#result-assumptions")
    assert "Reasoning: 200 of the 400 output tokens" in words and "1,500 of the 2,000 input tokens read from the KV cache" in words
    assert "reasoning_tokens=200" in page.evaluate("location.search")
    # a part above its whole: the error next to the field, the box opened
    page.click("#advanced-tokens summary")
    assert page.locator("#cached_input_tokens").is_hidden()
    page.eval_on_selector("#cached_input_tokens", "(node) => { node.value = '2500'; }")  # typed before the box was closed
    page.click("#estimate-button")
    settle(page)
    assert page.inner_text("#error-cached_input_tokens").startswith("cached_input_tokens: must be at most input_tokens (2,000)")
    assert page.locator("#cached_input_tokens").is_visible() and page.get_attribute("#cached_input_tokens", "aria-invalid") == "true"


def test_a_chosen_method_stays_when_a_model_is_picked(open_page) -> None:
    page = open_page("/")
    page.fill("#model", "llama-3.1-8b")
    page.dispatch_event("#model", "change")
    assert page.input_value("#method") == "model-aware" and page.locator("#hardware").is_hidden()
    page.fill("#model", "")
    page.dispatch_event("#model", "change")
    assert page.input_value("#method") == "hardware" and page.locator("#hardware").is_visible()
    page.select_option("#method", "seed-quadratic")
    page.fill("#model", "llama-3.1-8b")
    page.dispatch_event("#model", "change")
    assert page.input_value("#method") == "seed-quadratic"


# 3. Figures people understand -------------------------------------------------------------------


def test_units_scaled_and_digits_grouped_for_a_million_requests(open_page, capsys) -> None:
    page = open_page("/")
    expected = cli_json(capsys, ["--count", "1000000"])
    estimate(page, count="1,000,000")
    figures_match(page, expected)
    assert page.inner_text("#energy-value").endswith(" kWh")
    assert page.inner_text("#carbon-value").endswith(" kgCO2e")
    assert page.inner_text("#water-value").endswith(" L")
    assert page.inner_text("#result-title").startswith("1,000,000 requests")
    assert page.inner_text("#result-per-request").startswith("Per request: ")
    for text in (page.inner_text("#figures"), page.inner_text("#result-per-request")):
        assert not re.search(r"(?<![.\d,])\d{4,}", text), f"a long number without grouping or scaling: {text}"


def test_grouped_digits_typed_are_accepted(open_page, capsys) -> None:
    page = open_page("/")
    expected = cli_json(capsys, ["--in_tok", "2000", "--out_tok", "500"])
    estimate(page, input_tokens="2,000", output_tokens="500")
    assert page.inner_text("#error-input_tokens") == ""
    assert "2,000 tokens in" in page.inner_text("#result-title")
    figures_match(page, expected)


def test_equivalences_with_basis_and_source_as_illustrations(open_page, client: TestClient, capsys) -> None:
    page = open_page("/")
    expected = cli_json(capsys, [])
    box = page.inner_text("#result-equivalences")
    assert "For illustration" in box and "illustrations, not measures" in box
    factors = client.get("/equivalences").json()["factors"]
    for factor in factors.values():
        assert factor["source"] in box and str(factor["year"]) in box and factor["basis"] in box
    centimetres = expected["carbon_gco2eq"] / 217.6 * 1e5  # the car factor of config/equivalences.yaml, in cm per gCO2e
    assert f"≈ {centimetres:.4g} cm driven by an average combustion-engine car" in box
    seconds = expected["energy_kwh"] / 10_715 * 8_760 * 3600
    assert f"≈ {seconds:.3g} s of a US household's electricity use" in box


def test_what_each_figure_covers_in_plain_words(open_page) -> None:
    page = open_page("/")
    assert "Electricity drawn by the servers" in page.inner_text("#energy-covers")
    assert "scope 2" in page.inner_text("#carbon-covers") and "Manufacturing" in page.inner_text("#carbon-covers")
    assert "Not included in carbon" in page.inner_text("#embodied-covers")
    estimate(page, model="llama-3.1-70b")  # model-aware: the server's energy includes the host and the idle reserve
    if "idle reserve" in page.text_content("#result-covers-api"):
        assert "held idle in reserve" in page.inner_text("#energy-covers")
    page.select_option("#method", "parameter")
    estimate(page, model="mistral-large-2")
    assert "one GPU" in page.inner_text("#energy-covers") and "scope 3" in page.inner_text("#carbon-covers")


# 4. Charts that tell the truth -------------------------------------------------------------------


def _chart(page, canvas: str) -> dict[str, Any]:
    return page.evaluate(
        f"""() => {{ const c = Chart.getChart('{canvas}'); return {{
            labels: c.data.labels, type: c.config.type, indexAxis: c.options.indexAxis || 'x',
            data: c.data.datasets.map((d) => d.data), whiskers: c.data.datasets.map((d) => d.whiskers || null),
            labelsOfDatasets: c.data.datasets.map((d) => d.label),
            scales: Object.fromEntries(Object.entries(c.options.scales).map(([k, s]) => [k, {{type: s.type, title: s.title && s.title.text}}])) }}; }}"""
    )


def test_region_comparison_sorted_with_whiskers_and_units(open_page, capsys) -> None:
    page = open_page("/")
    page.select_option("#compare-quantity", "carbon_gco2eq")
    page.click("#compare-button")
    settle(page)
    chart = _chart(page, "compare-chart")
    regions = cli_json(capsys, ["regions"])["compared_regions"]  # the 15 of config.yaml, not the data pack's hundreds
    assert sorted(chart["labels"]) == sorted(regions) and len(regions) == 15
    central = chart["data"][0]
    assert central == sorted(central), "bars sorted from lowest to highest"
    france = cli_json(capsys, ["--region", "france"])
    index = chart["labels"].index("FRA")
    assert central[index] == pytest.approx(france["carbon_gco2eq"], rel=1e-9)  # gCO2e: the axis' unit here
    assert chart["whiskers"][0][index] == pytest.approx([france["carbon_gco2eq_min"], france["carbon_gco2eq_max"]], rel=1e-9)
    assert chart["type"] == "bar" and len(chart["data"]) == 1, "one bar per estimate; the range is a whisker, not a second bar"
    assert chart["scales"]["x"]["title"] == "carbon per request (gCO2e)"
    table_rows = page.locator("#compare-table tbody tr")
    assert table_rows.count() == len(regions)
    colours = page.evaluate("() => Chart.getChart('compare-chart').data.datasets[0].backgroundColor")
    usa = chart["labels"].index("USA")
    assert [i for i, colour in enumerate(colours) if colour != colours[(usa + 1) % len(colours)]] == [usa], "the form's region stands out"
    assert "The form's region (USA) is the highlighted bar." in page.inner_text("#compare-note")
    assert "USA (the form's)" in page.text_content("#compare-table")
    assert page.locator("#compare-chart").get_attribute("aria-label").startswith("Bar chart of carbon per request")


def test_comparison_with_a_model_compares_what_it_can(open_page, shots, capsys) -> None:
    page = open_page("/")
    page.select_option("#method", "parameter")
    estimate(page, model="mistral-large-2")
    page.click("#compare-button")
    settle(page)
    assert "compared on their grids" in page.inner_text("#compare-note")
    chart = _chart(page, "compare-chart")
    assert len(set(chart["data"][0])) > 1, "the grid differs from region to region"
    france = cli_json(capsys, ["--model", "mistral-large-2", "--method", "parameter", "--mix", "grid", "--region", "france"])
    assert chart["data"][0][chart["labels"].index("FRA")] == pytest.approx(france["carbon_gco2eq"], rel=1e-9)
    screenshot(page, shots, "compare-parameter-regions")
    page.select_option("#compare-by", "hardware")
    page.click("#compare-button")
    assert "the parameter method knows no hardware" in page.inner_text("#error-compare")
    assert page.locator("#compare-box").is_hidden()
    # the model-aware mode: energy by region is the same everywhere, and the page says why
    page.select_option("#method", "hardware")
    estimate(page, model="llama-3.1-70b")
    page.select_option("#compare-by", "region")
    page.select_option("#compare-quantity", "energy_kwh")
    page.click("#compare-button")
    settle(page)
    assert "Every region has the same energy" in page.inner_text("#compare-note")
    assert_clean(page)


def test_hardware_presets_described_by_what_they_serve(open_page, shots) -> None:
    page = open_page("/")
    page.select_option("#compare-by", "hardware")
    page.click("#compare-button")
    settle(page)
    labels = _chart(page, "compare-chart")["labels"]
    assert ["l4", "1 GPU · 8B-class"] in labels and ["h100", "4 GPUs · 70B-class"] in labels
    assert "serve different model sizes" in page.inner_text("#compare-note")
    screenshot(page, shots, "compare-hardware")
    estimate(page, model="llama-3.1-8b")
    page.click("#compare-button")
    settle(page)
    labels = _chart(page, "compare-chart")["labels"]
    assert all(label[1].endswith("llama-3.1-8b") for label in labels), labels
    assert "different model sizes" not in page.inner_text("#compare-note")
    assert_clean(page)


# 5. Uploads: the form's site settings, totals with units, downloads -----------------------------


def _download(page, selector: str) -> str:
    with page.expect_download() as info:
        page.click(selector)
    return Path(info.value.path()).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "sample", "path"),
    [("analytics", "data/sample-daily-analytics.yaml", "/analytics"), ("batch", "data/sample_requests.csv", "/batch")],
)
def test_upload_uses_the_form_settings_and_shows_totals(open_page, shots, client: TestClient, name: str, sample: str, path: str) -> None:
    page = open_page("/")
    estimate(page, region="france", datacenter="google")
    page.click(f"#{name}-button")
    assert page.inner_text(f"#error-{name}") == "file: choose a file first"
    page.set_input_files(f"#{name}-file", str(ROOT / sample))
    page.click(f"#{name}-button")
    page.wait_for_function(f"() => Chart.getChart('{name}-chart') !== undefined", timeout=30000)
    assert_clean(page)
    query = {"region": "france", "datacenter": "google", "hardware": "h100", **({"group_by": "day"} if name == "batch" else {})}
    with open(ROOT / sample, "rb") as handle:
        expected = client.post(path, params=query, files={"file": (Path(sample).name, handle)}).json()
    totals = expected.get("totals") or expected["total"]
    text = page.inner_text(f"#{name}-totals")
    assert "energy_gpu_kwh" not in text and "carbon_gco2eq" not in text, "totals as words and units, not raw keys"
    row = page.locator(f"#{name}-totals tr", has_text="carbon").first.inner_text().split("\t")
    assert shown(row[1]) == pytest.approx(totals["carbon_gco2eq"], rel=5e-4)
    assert "region france" in page.inner_text(f"#{name}-result") and "datacenter google" in page.inner_text(f"#{name}-result")
    chart = _chart(page, f"{name}-chart")
    assert chart["scales"]["x"]["type"] == "time", "dates on a time axis"
    assert re.fullmatch(r"carbon per day \((m?g|kg|t)CO2e\)", chart["scales"]["y"]["title"])
    dates = [point["x"] for point in chart["data"][-1]]
    assert dates == sorted(dates) and len(dates) >= 2
    table_rows = page.locator(f"#{name}-daily-table tbody tr")
    assert table_rows.count() == len(dates)
    assert json.loads(_download(page, f"#{name}-json")) == expected
    daily = list(csv.DictReader(io.StringIO(_download(page, f"#{name}-csv"))))
    assert [row["date"] for row in daily] == dates and "carbon_gco2eq" in daily[0]
    page.select_option(f"#{name}-quantity", "energy_kwh")
    assert "energy per day" in _chart(page, f"{name}-chart")["scales"]["y"]["title"]
    assert_clean(page)
    screenshot(page, shots, f"upload-{name}")


def test_upload_of_a_provider_export(open_page, client: TestClient) -> None:
    """The log upload takes a provider's usage export (here Anthropic's report, which does not count requests): the page
    shows the answer POST /batch gives, its warnings, and a daily chart."""
    sample = ROOT / "data" / "samples" / "providers" / "anthropic-usage-messages.json"
    page = open_page("/")
    accept = page.get_attribute("#batch-file", "accept").split(",")
    assert {".json", ".jsonl", ".csv", ".parquet"} <= set(accept)
    page.set_input_files("#batch-file", str(sample))
    page.click("#batch-button")
    page.wait_for_function("() => Chart.getChart('batch-chart') !== undefined", timeout=30000)
    assert_clean(page)
    site = {name: page.input_value(f"#{name}").strip() for name in ("region", "datacenter", "hardware")}  # what the page sends
    with open(sample, "rb") as handle:
        query = {"group_by": "day", **{name: value for name, value in site.items() if value}}
        expected = client.post("/batch", params=query, files={"file": (sample.name, handle)}).json()
    assert expected["format"] == "anthropic-usage" and expected["totals"]["requests"] is None
    row = page.locator("#batch-totals tr", has_text="carbon").first.inner_text().split("\t")
    assert shown(row[1]) == pytest.approx(expected["totals"]["carbon_gco2eq"], rel=5e-4)
    result = page.inner_text("#batch-result")
    assert "requests: not counted by this export" in result and "web search requests, not estimated" in result
    assert json.loads(_download(page, "#batch-json")) == expected
    assert [point["x"] for point in _chart(page, "batch-chart")["data"][-1]] == sorted(point["x"] for point in _chart(page, "batch-chart")["data"][-1])


def test_estimate_downloads(open_page, capsys) -> None:
    page = open_page("/")
    expected = cli_json(capsys, [])
    answer = json.loads(_download(page, "#estimate-json"))
    assert answer["energy_kwh"] == pytest.approx(expected["energy_kwh"], rel=1e-12)
    rows = {row["key"]: row["value"] for row in csv.DictReader(io.StringIO(_download(page, "#estimate-csv")))}
    assert float(rows["carbon_gco2eq"]) == pytest.approx(expected["carbon_gco2eq"], rel=1e-12)
    assert rows["assumptions.region"] == "USA" and "per_request.energy_wh" in rows


# 6. Shareable state ------------------------------------------------------------------------------


def test_form_values_live_in_the_url(open_page, capsys) -> None:
    page = open_page("/?region=france&input_tokens=2000")
    expected = cli_json(capsys, ["--region", "france", "--in_tok", "2000"])
    assert page.input_value("#region") == "france" and page.input_value("#input_tokens") == "2000"
    figures_match(page, expected)
    estimate(page, count="5", profile="translation")
    query = page.evaluate("location.search")
    assert "region=france" in query and "count=5" in query and "profile=translation" in query and "input_tokens=2000" in query
    assert "datacenter=" not in query, "default values stay out of the link"
    page.select_option("#compare-by", "hardware")
    page.click("#compare-button")
    settle(page)
    query = page.evaluate("location.search")
    assert "compare=hardware" in query and "quantity=" not in query
    page.click("#share-button")
    again = open_page(f"/{query}")
    assert again.input_value("#compare-by") == "hardware"
    assert again.input_value("#count") == "5" and again.input_value("#profile") == "translation"
    assert again.inner_text("#result-title").startswith("5 requests")
    model = open_page("/?method=parameter&model=mistral-large-2")
    assert model.input_value("#method") == "parameter" and model.locator("#row-water").is_hidden()


# 7. The method page ------------------------------------------------------------------------------


def test_method_page(open_page, shots, client: TestClient) -> None:
    index = open_page("/")
    assert index.get_attribute("#method-link", "href") == "/method"
    page = open_page("/method")
    headline = client.get("/validation", params={"cross_validate": "true"}).json()
    published = client.get("/validation", params={"cases": "published"}).json()
    summary = page.inner_text("#validation-tables")
    three = lambda factor: f"{float(f'{factor:.3g}'):,g}"  # noqa: E731 - 3 significant digits, grouped: 1.21, 30.2, 10,100
    assert f"model-aware, each model left out of the fit\t{headline['n_cases']}\t{three(headline['leave_one_model_out']['error_factor'])}" in summary
    for data in (headline, published):
        for method, result in data["methods"].items():
            assert method in summary and three(result["error_factor"]) in summary
    page.click("#validation-tables summary")
    assert page.locator("#validation-tables details tbody tr").count() == len(published["cases"])
    assert "prefill_s" in page.inner_text("#methods") and "alpha" in page.inner_text("#methods")
    covers = page.inner_text("#covers-tables")
    for name, method in client.get("/methods").json().items():
        assert name in covers and method["description"] in covers
    assert "facility: server IT energy x PUE" in covers
    assert "ADEME" in page.inner_text("#equivalence-factors")
    paths = client.get("/openapi.json").json()["paths"]
    sources = page.inner_text("#sources")
    if "/sources" not in paths:
        assert "The list of sources: not available from this server (no GET /sources route)." in sources
    assert re.search(r"Data version: (not available from this server|\S+)\.", sources)
    screenshot(page, shots, "method")


# 8. Accessible and responsive -----------------------------------------------------------------------


def _luminance(rgb: str) -> float:
    channels = [int(value) / 255 for value in re.findall(r"\d+", rgb)[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_input_borders_contrast_and_dark_mode(open_page, scheme: str) -> None:
    page = open_page("/", scheme=scheme)
    colours = page.evaluate(
        """() => [...document.querySelectorAll('#estimate-form input, #estimate-form select, #compare-panel select, #compare-panel input:not([type=checkbox])')]
              .filter((e) => e.offsetParent !== null)
              .map((e) => [e.id, getComputedStyle(e).borderTopColor, getComputedStyle(e).backgroundColor,
                           getComputedStyle(e.closest('.panel')).backgroundColor])"""
    )
    assert len(colours) >= 8
    for name, border, field, panel in colours:
        assert _contrast(border, field) >= 3 and _contrast(border, panel) >= 3, f"{name}: border {border} on {field} / {panel}"
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert (_luminance(background) < 0.05) == (scheme == "dark")


def test_every_invalid_field_reported_at_once(open_page, shots) -> None:
    page = open_page("/")
    bad = {"region": "atlantis", "input_tokens": "-5", "output_tokens": "0", "count": "lots"}
    for name, value in bad.items():
        page.fill(f"#{name}", value)
    page.click("#estimate-button")
    page.wait_for_function("() => document.getElementById('error-count').textContent !== ''")
    for name in bad:
        error = page.locator(f"#error-{name}")
        assert error.is_visible(), name
        assert error.inner_text().startswith(f"{name}: " if name != "region" else "unknown region 'atlantis'") or name in error.inner_text()
        assert page.get_attribute(f"#{name}", "aria-invalid") == "true"
        assert f"error-{name}" in page.get_attribute(f"#{name}", "aria-describedby")
        assert page.evaluate(f"document.getElementById('error-{name}').closest('.field') === document.getElementById('{name}').closest('.field')")
    assert page.locator("#result").is_hidden()
    assert page.inner_text("#error-form") == ""
    assert_clean(page)
    screenshot(page, shots, "errors")


@pytest.mark.parametrize(
    ("field", "value", "start"),
    [("input_tokens", "-5", "input_tokens: must be >= 1"), ("count", "lots", "count: must be an integer")],
)
def test_bad_value_shows_error_next_to_field(open_page, field: str, value: str, start: str) -> None:
    page = open_page("/")
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
    page.keyboard.press("Enter")  # the keyboard submits the form
    page.locator("#result").wait_for(state="visible")
    assert page.inner_text(f"#error-{field}") == ""
    assert_clean(page)


def test_keyboard_use(open_page) -> None:
    page = open_page("/")
    page.focus("#method")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "model"
    page.focus("#count")
    page.keyboard.press("Control+A")
    page.keyboard.type("3")
    with page.expect_response(lambda response: "/calculate" in response.url):
        page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('result-title').textContent.startsWith('3 requests')")
    page.focus("#compare-by")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "compare-quantity"
    page.focus("#compare-button")
    page.keyboard.press("Enter")
    settle(page)
    assert page.locator("#compare-table-box summary").is_visible()
    page.focus("#compare-table-box summary")
    page.keyboard.press("Enter")
    assert page.locator("#compare-table table").is_visible(), "the chart's table opens from the keyboard"
    assert_clean(page)


def test_no_sideways_scroll_at_390_px_with_everything_open(open_page) -> None:
    page = open_page("/")
    page.set_input_files("#analytics-file", str(ROOT / "data/sample-daily-analytics.yaml"))
    page.click("#analytics-button")
    page.wait_for_function("() => Chart.getChart('analytics-chart') !== undefined", timeout=30000)
    for details in page.locator("details").all():
        details.evaluate("(node) => { node.open = true; }")
    page.set_viewport_size({"width": 390, "height": 900})
    page.wait_for_timeout(300)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for box in page.locator(".table-wrap").all():
        if box.is_visible():
            assert box.evaluate("(node) => getComputedStyle(node).overflowX") == "auto"
            assert box.bounding_box()["width"] <= 390
    assert page.evaluate("getComputedStyle(document.querySelector('#figures tr')).display") == "grid", "the figures stack at 390 px"
