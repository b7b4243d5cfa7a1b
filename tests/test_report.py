"""The accounting report (``traitement.accounting``, ``report``, ``POST /report``): figures pinned by hand, lines that
sum to the totals, the GHG Protocol framing, every provider sample through the CLI and the API, CSV, bad input."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import api
import interface
import traitement
from traitement.accounting import FIGURES, INTEGERS, Report, account_log, csv_columns, report_csv, report_options
from traitement.logs import estimate_log

CONFIG = traitement.load_config()
ROOT = Path(__file__).resolve().parent.parent
PROVIDERS = ROOT / "data" / "samples" / "providers"
SAMPLES = sorted(PROVIDERS.iterdir())
REQUESTS = ROOT / "data" / "sample_requests.csv"
OPENAI = PROVIDERS / "openai-usage-completions.json"
client = TestClient(api.app)

# One request-log row, estimated by the hardware preset h100 (hand-derived in tests/test_batch.py and tests/test_logs.py):
# 4 GPUs x 700 W x 0.6 + 350 W host x 0.3, busy (2000/5000 + 200/40) s per request, 3 requests sharing a batch of 32.
IT_USA_KWH = (4 * 700 * 0.6 + 350 * 0.3) * (2000 / 5000 + 200 / 40) * 3 / 32 / 3.6e6
PUE = 1.57  # config/config.yaml, datacenter industry-average (Uptime Institute)
USA_GCO2EQ_PER_KWH = 383.6  # data pack 2026.12, USA (Ember 2024)


def report_of(path: Path, factor: float | None = None, **options) -> Report:
    by = options.pop("by", None)
    served = options.pop("served", None)
    return account_log(path, CONFIG, options=report_options(factor, by, served), **options)


def lines_of(report: Report, dimension: str) -> list:
    return [line for line in report.lines if line.dimension == dimension]


# --- figures pinned by hand --------------------------------------------------------------------------


def test_one_row_by_hand(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("input_tokens,output_tokens,count,region\n2000,200,3,usa\n")
    report = report_of(path, 100.0, method="hardware")
    t = report.totals
    energy_kwh = IT_USA_KWH * PUE
    assert t.energy_kwh.value == pytest.approx(energy_kwh, rel=1e-9)
    assert t.carbon_location_based_gco2eq.value == pytest.approx(energy_kwh * USA_GCO2EQ_PER_KWH, rel=1e-9)
    assert t.carbon_market_based_gco2eq is not None
    assert t.carbon_market_based_gco2eq.value == pytest.approx(energy_kwh * 100.0, rel=1e-9)
    assert (t.requests, t.input_tokens, t.output_tokens) == (3, 6000, 600)
    assert t.served == "self-hosted" and t.scope_operational == "scope 2 (purchased electricity)"
    assert report.lines == lines_of(report, "served")  # no timestamp, no model: only the line per class
    assert any("no lines per month or per model: the file has no timestamp and no model" in note for note in report.notes)


@pytest.mark.parametrize("factor", [0.0, 56.7, 2000.0])
def test_market_based_is_energy_times_the_factor_on_every_line(factor):
    report = report_of(OPENAI, factor)
    assert report.market_factor_gco2eq_per_kwh == factor
    for line in (report.totals, *report.lines):
        market = line.carbon_market_based_gco2eq
        assert market is not None
        assert market.value == line.energy_kwh.value * factor
        assert market.min == line.energy_kwh.min * factor
        assert market.max == line.energy_kwh.max * factor
    assert report.figures["carbon_market_based_gco2eq"].label == "market-based, contractual factor supplied by the user"
    assert f"energy_kwh x {factor:g} gCO2e/kWh" in report.figures["carbon_market_based_gco2eq"].basis


def test_factor_zero_gives_zero_market_based():
    t = report_of(OPENAI, 0).totals
    assert t.carbon_market_based_gco2eq is not None
    assert (t.carbon_market_based_gco2eq.value, t.carbon_market_based_gco2eq.min, t.carbon_market_based_gco2eq.max) == (0.0, 0.0, 0.0)
    assert t.carbon_location_based_gco2eq.value > 100  # the location-based figure is untouched (111 gCO2e)


def test_no_factor_omits_market_based_and_says_why():
    report = report_of(OPENAI)
    assert report.market_factor_gco2eq_per_kwh is None
    assert all(line.carbon_market_based_gco2eq is None for line in (report.totals, *report.lines))
    assert report.market_based.startswith("market-based: omitted: no contractual emission factor was given")
    assert report.market_based in report.notes


@pytest.mark.parametrize("path", [*SAMPLES, REQUESTS], ids=lambda path: path.name)
def test_location_based_and_embodied_are_the_batch_figures(path):
    report = report_of(path, 0)
    batch = estimate_log(path, CONFIG, group_by=report.by)["totals"]
    t = report.totals
    for side, name in (("value", ""), ("min", "_min"), ("max", "_max")):
        assert getattr(t.carbon_location_based_gco2eq, side) == pytest.approx(batch[f"carbon_gco2eq{name}"], rel=1e-9)
        assert getattr(t.energy_kwh, side) == pytest.approx(batch[f"energy_kwh{name}"], rel=1e-9)
        assert getattr(t.carbon_embodied_gco2eq, side) == pytest.approx(batch[f"carbon_embodied_gco2eq{name}"], rel=1e-9)
    assert report.embodied_in_totals is False
    assert (t.requests, t.input_tokens, t.cached_input_tokens, t.output_tokens, t.reasoning_tokens) == tuple(batch[name] for name in INTEGERS)


def test_openai_sample_token_totals_by_hand():
    t = report_of(OPENAI, 0).totals
    # data/samples/providers/openai-usage-completions.json: the results' input_tokens, input_cached_tokens, output_tokens, num_model_requests
    assert (t.requests, t.input_tokens, t.cached_input_tokens, t.output_tokens) == (1310, 1_688_500, 162_000, 411_800)


# --- invariants: lines sum to the totals, ranges hold the central figure -------------------------------


@pytest.mark.parametrize("path", [*SAMPLES, REQUESTS], ids=lambda path: path.name)
def test_every_dimension_sums_to_the_totals(path):
    report = report_of(path, 42.0)
    assert "month" in report.by and "model" in report.by
    for dimension in (*report.by, "served"):
        lines = lines_of(report, dimension)
        assert lines, dimension
        for name in INTEGERS:
            values = [getattr(line, name) for line in lines]
            assert (None if None in values else sum(values)) == getattr(report.totals, name), (dimension, name)
        for name in FIGURES:
            for side in ("value", "min", "max"):
                total = getattr(getattr(report.totals, name), side)
                assert sum(getattr(getattr(line, name), side) for line in lines) == pytest.approx(total, rel=1e-9, abs=1e-15), (dimension, name, side)


@pytest.mark.parametrize("path", [*SAMPLES, REQUESTS], ids=lambda path: path.name)
def test_ranges_hold_the_central_figure(path):
    report = report_of(path, 300.0)
    for line in (report.totals, *report.lines):
        for name in FIGURES:
            figure = getattr(line, name)
            assert figure.min <= figure.value <= figure.max, (line.dimension, line.key, name)
            assert figure.min < figure.max or figure.value == 0  # a real range, never a degenerate one
    for item in report.illustrations:
        assert item.amount_min <= item.amount <= item.amount_max


def test_months_of_a_request_log():
    report = report_of(REQUESTS, 0)
    assert report.months == ["2025-03", "2025-04"]
    assert [line.key for line in lines_of(report, "month")] == ["2025-03", "2025-04"]
    assert [line.key for line in lines_of(report, "model")] == ["llama-3.1-70b", "llama-3.1-8b", None]


# --- the GHG Protocol framing --------------------------------------------------------------------------


@pytest.mark.parametrize("path", SAMPLES, ids=lambda path: path.name)
def test_provider_exports_are_scope_3_category_1(path):
    report = report_of(path, 0)
    assert report.totals.served == "api"
    assert report.totals.scope_operational.startswith("scope 3, category 1 (purchased goods and services)")
    assert report.totals.scope_embodied.startswith("scope 3, category 1")
    assert [line.key for line in lines_of(report, "served")] == ["api"]


def test_own_log_is_scope_2_with_embodied_under_category_2():
    t = report_of(REQUESTS, 0).totals
    assert t.served == "self-hosted"
    assert t.scope_operational == "scope 2 (purchased electricity)"
    assert t.scope_embodied.startswith("scope 3, category 2 (capital goods)")


def test_classes_from_provider_and_model(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text(
        "timestamp,input_tokens,output_tokens,model,provider\n"
        "2025-01-05T10:00:00Z,1000,100,llama-3.1-8b,vllm\n"  # a server one runs: self-hosted
        "2025-01-05T11:00:00Z,1000,100,llama-3.1-8b,together_ai\n"  # another provider: api
        "2025-02-05T11:00:00Z,1000,100,gpt-4o,\n"  # weights not published: api
        "2025-02-05T12:00:00Z,1000,100,llama-3.1-70b,\n"  # open weights, no provider: self-hosted
    )
    report = report_of(path, 0)
    served = {line.key: line for line in lines_of(report, "served")}
    assert sorted(served) == ["api", "self-hosted"]
    assert (served["api"].requests, served["self-hosted"].requests) == (2, 2)
    assert report.totals.served == "mixed" and report.totals.scope_operational.startswith("mixed")
    models = {line.key: line.served for line in lines_of(report, "model")}
    assert models == {"gpt-4o": "api", "llama-3.1-70b": "self-hosted", "llama-3.1-8b": "mixed"}
    providers = {line.key: line.served for line in lines_of(report, "provider")}
    assert providers == {"together_ai": "api", "vllm": "self-hosted", None: "mixed"}
    forced = report_of(path, 0, served="api")
    assert forced.totals.served == "api" and [line.key for line in lines_of(forced, "served")] == ["api"]


def test_figures_say_method_version_and_coverage():
    report = report_of(REQUESTS, 0)
    for name in FIGURES:
        info = report.figures[name]
        assert info.data_pack_version == report.data_pack_version == traitement.reference.pack_version()
        assert info.method.startswith("model-aware, hardware")
        assert info.covers and info.basis
    assert "NOT included" in report.figures["carbon_embodied_gco2eq"].covers
    assert "grid" in report.figures["carbon_location_based_gco2eq"].basis


def test_illustrations_with_basis_and_source():
    report = report_of(OPENAI, 0)
    by_name = {item.name: item for item in report.illustrations}
    t = report.totals
    assert by_name["car_distance"].amount == pytest.approx(t.carbon_location_based_gco2eq.value / 217.6, rel=1e-12)  # ADEME 217.6 gCO2e/km
    assert by_name["smartphone_charges"].amount == pytest.approx(t.energy_kwh.value / 0.019, rel=1e-12)  # US EPA 0.019 kWh/charge
    assert by_name["household_hours"].amount == pytest.approx(t.energy_kwh.value / 10715 * 8760, rel=1e-12)  # US EIA 10,715 kWh/year
    assert by_name["car_distance"].source.startswith("ADEME") and by_name["smartphone_charges"].source.startswith("US EPA")
    assert report.illustrations_note.startswith("illustrations, not measures")


def test_default_lines_leave_out_keys_without_values():
    report = report_of(OPENAI, 0)
    assert report.by == ["month", "model", "project_id", "batch"]
    assert "no lines per user_id: no row of the file gives one" in report.notes
    assert any(note.startswith("region: 4 rows give none and took USA") for note in report.notes)


# --- the command line ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SAMPLES, ids=lambda path: path.name)
def test_cli_each_sample(path, capsys, tmp_path):
    out_csv = tmp_path / "report.csv"
    assert interface.main(["report", str(path), "--market-factor-gco2eq-per-kwh", "0", "--json", "--csv", str(out_csv)]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer == report_of(path, 0).model_dump()
    with open(out_csv, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == csv_columns()
    assert len(rows) == 1 + len(answer["lines"])
    assert rows[0]["dimension"] == "total" and float(rows[0]["carbon_market_based_gco2eq"]) == 0.0
    assert float(rows[0]["energy_kwh"]) == answer["totals"]["energy_kwh"]["value"]


def test_cli_text(capsys):
    assert interface.main(["report", str(OPENAI), "--market-factor-gco2eq-per-kwh", "0"]) == 0
    out = capsys.readouterr().out
    assert "location-based emissions  111 gCO2e (9.36 gCO2e to 1.09 kgCO2e)" in out
    assert "market-based emissions    0 gCO2e (0 gCO2e to 0 gCO2e)  [market-based, contractual factor supplied by the user: 0 gCO2e/kWh]" in out
    assert "embodied (apart)" in out and "Per model" in out and "Per project_id" in out and "Illustrations (illustrations, not measures" in out


def test_csv_columns():
    assert csv_columns()[:10] == ["dimension", "key", "served", "scope_operational", "scope_embodied", *INTEGERS]
    assert "carbon_market_based_gco2eq_min" in csv_columns() and "data_pack_version" in csv_columns()
    text = report_csv(report_of(REQUESTS))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["carbon_market_based_gco2eq"] == ""  # no factor: an empty cell, and the report's note says why


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--market-factor-gco2eq-per-kwh", "-1"], "--market-factor-gco2eq-per-kwh (market_factor_gco2eq_per_kwh): must be >= 0 (got -1)"),
        (["--market-factor-gco2eq-per-kwh", "nan"], "--market-factor-gco2eq-per-kwh (market_factor_gco2eq_per_kwh): must be a number (got 'nan')"),
        (["--market-factor-gco2eq-per-kwh", "2001"], "--market-factor-gco2eq-per-kwh (market_factor_gco2eq_per_kwh): must be <= 2,000 (got 2001)"),
        (["--by", "month,colour"], "--by (by): unknown key 'colour'; allowed: "),
        (["--by", ","], "--by (by): empty; allowed: "),
        (["--by", "workspace_id"], "--by (by): workspace_id: the file openai-usage-completions.json has no 'workspace_id' field"),
        (["--served", "cloud"], "argument --served: invalid choice: 'cloud'"),
        (["--csv", ""], "--csv: must not be empty"),
    ],
)
def test_cli_bad_input_one_line_exit_2(args, message, capsys):
    assert interface.main(["report", str(OPENAI), *args]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith(f"interface.py: error: {message}")


def test_cli_missing_file(capsys, tmp_path):
    assert interface.main(["report", str(tmp_path / "absent.csv")]) == 2
    assert "absent.csv: file not found" in capsys.readouterr().err


# --- the API ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SAMPLES, ids=lambda path: path.name)
def test_api_each_sample_matches_the_cli(path):
    response = client.post("/report", files={"file": (path.name, path.read_bytes())}, params={"market_factor_gco2eq_per_kwh": 0})
    assert response.status_code == 200, response.text
    assert response.json() == report_of(path, 0).model_dump()


def test_api_csv_by_query_and_accept():
    body = {"file": (OPENAI.name, OPENAI.read_bytes())}
    by_query = client.post("/report", files=body, params={"output": "csv", "market_factor_gco2eq_per_kwh": 0, "by": "month,model"})
    by_accept = client.post("/report", files=body, params={"market_factor_gco2eq_per_kwh": 0, "by": ["month", "model"]}, headers={"accept": "text/csv"})
    assert by_query.status_code == by_accept.status_code == 200
    assert by_query.headers["content-type"].startswith("text/csv")
    assert by_query.text == by_accept.text == report_csv(report_of(OPENAI, 0, by=["month", "model"]))
    assert [row["dimension"] for row in csv.DictReader(io.StringIO(by_query.text))] == ["total", "month", "model", "model", "served"]


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"market_factor_gco2eq_per_kwh": -1}, "market_factor_gco2eq_per_kwh: must be >= 0 (got -1)"),
        ({"market_factor_gco2eq_per_kwh": "nan"}, "market_factor_gco2eq_per_kwh: must be a number (got 'nan')"),
        ({"by": "month,colour"}, "by[1]: must be one of "),
        ({"by": "workspace_id"}, "by: workspace_id: the file openai-usage-completions.json has no 'workspace_id' field"),
        ({"served": "cloud"}, "served: must be one of 'api' or 'self-hosted' (got 'cloud')"),
        ({"output": "xml"}, "output: must be one of 'json' or 'csv' (got 'xml')"),
    ],
)
def test_api_bad_input_is_422_naming_the_field(params, detail):
    response = client.post("/report", files={"file": (OPENAI.name, OPENAI.read_bytes())}, params=params)
    assert response.status_code == 422 and response.json()["detail"].startswith(detail), response.text


def test_api_unknown_format_and_missing_file():
    response = client.post("/report", files={"file": ("x.json", b"{}")})
    assert response.status_code == 422 and response.json()["code"] == "unknown-format"
    response = client.post("/report", files={"other": ("x.json", b"{}")})
    assert response.status_code == 422 and response.json()["detail"].startswith("other: unknown form field; allowed: one field, file")


def test_a_file_duckdb_cannot_read_is_one_line():
    body = {"file": ("file.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")}
    response = client.post("/report", files=body, params={"format": "anthropic-usage"})
    assert response.status_code == 422 and response.json()["code"] == "unreadable-log"
    assert response.json()["detail"].startswith("file.png: not a readable ") and "UTF-8" in response.json()["detail"]
