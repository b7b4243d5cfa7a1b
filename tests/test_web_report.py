"""The web page's "Report" download after a log upload (``POST /report`` as CSV), in a real headless browser.

The browser, the server and the helpers are those of tests/test_web.py (skipped, with the reason, without chromium)."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from test_web import ROOT, _download, assert_clean, browser, estimate, open_page, server_url  # noqa: F401 - fixtures

import api


def test_report_download_after_a_log_upload(open_page) -> None:  # noqa: F811 - the fixture imported above
    page = open_page("/")
    estimate(page, region="france", datacenter="google")
    sample = ROOT / "data" / "sample_requests.csv"
    page.set_input_files("#batch-file", str(sample))
    page.click("#batch-button")
    page.wait_for_selector("#batch-report:not([hidden])", timeout=30000)
    assert page.inner_text("#batch-report-status") == ""
    assert_clean(page)
    text = _download(page, "#batch-report")
    query = {"region": "france", "datacenter": "google", "hardware": "h100", "output": "csv"}
    expected = TestClient(api.app).post("/report", params=query, files={"file": (sample.name, sample.read_bytes())})
    assert expected.status_code == 200 and text == expected.text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["dimension"] for row in rows][:2] == ["total", "month"] and "carbon_location_based_gco2eq" in rows[0]
