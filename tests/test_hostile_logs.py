"""Hostile inputs to the request-log and usage-export readers and the accounting report (second sweep, branch
``hardening2``): each case a regression test of a failure found, in the CLI (``interface.main``) and the API
(``TestClient``), both engines where the engine matters. What was tried: docs/reliability.md."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

import api
import interface
import traitement
from traitement.deployment import ModelSizes, deployment_for, model_footprint
from traitement.energy_model import load_energy_model
from traitement.presets import site_from_config

client = TestClient(api.app, raise_server_exceptions=False)
CONFIG = traitement.load_config()


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = interface.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code: int, err: str) -> str:
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    return err


def anthropic(cache_5m: object) -> str:
    row = {"uncached_input_tokens": 1500, "cache_read_input_tokens": 200, "output_tokens": 500, "model": "claude-sonnet-4-20250514",
           "cache_creation": {"ephemeral_5m_input_tokens": cache_5m, "ephemeral_1h_input_tokens": 1000}}  # fmt: skip
    return json.dumps({"data": [{"starting_at": "2025-08-01T00:00:00Z", "ending_at": "2025-08-02T00:00:00Z", "results": [row]}]})


# --- Anthropic's cache parts: text that is no number was summed as 0 -------------------------------------------------


@pytest.mark.parametrize(("value", "shown"), [("abc", "'abc'"), ("1_000", "'1_000'"), ("+5", "'+5'"), ("0x10", "'0x10'")])
def test_an_anthropic_cache_part_written_as_text_that_is_no_number_is_a_bad_row(tmp_path, capsys, value, shown) -> None:
    path = tmp_path / "usage.json"
    path.write_text(anthropic(value))
    for engine in ("duckdb", "dask"):
        err = one_line_error(*run(["batch", str(path), "--engine", engine, "--quiet"], capsys)[::2])
        assert f"data[0].results[0]: uncached_input_tokens + cache_read_input_tokens + cache_creation: not a number (got {shown})" in err
    err = one_line_error(*run(["report", str(path)], capsys)[::2])
    assert "not a number" in err
    answer = client.post("/batch", files={"file": ("usage.json", path.read_bytes())})
    assert answer.status_code == 422 and answer.json()["code"] == "bad-rows"


def test_an_anthropic_cache_part_written_as_json_text_of_a_number_is_read(tmp_path, capsys) -> None:
    path = tmp_path / "usage.json"
    path.write_text(anthropic("500"))
    code, out, err = run(["batch", str(path), "--json", "--quiet"], capsys)
    assert code == 0, err
    assert json.loads(out)["totals"]["input_tokens"] == 1500 + 200 + 500 + 1000


# --- model_footprint: the central value above the range's high end ---------------------------------------------------


def test_model_footprint_range_holds_the_central_value_where_the_gpu_count_steps() -> None:
    """gpt-4o-mini on L4 boards: the central size (18 B) on 2 GPUs keeps a batch of 2 requests of 33,552 tokens, the
    largest size (28 B) needs 4 GPUs and holds 7, so the central request cost more than the 'dearest' scenario."""
    energy_model = load_energy_model(CONFIG.directory)
    _, entry = CONFIG.llm("gpt-4o-mini")
    sizes = ModelSizes.of(entry)
    board = CONFIG.gpu(CONFIG.hardware("l4")[1].gpu, "hardware")[0]
    plan = deployment_for(CONFIG, energy_model, sizes, board=board)
    site = site_from_config(CONFIG)
    result = model_footprint(sizes, site, np.array([9069.0, 2000.0]), np.array([24483.0, 400.0]), 1, np.array([5997.0, 0.0]),
                             config=CONFIG, energy_model=energy_model, deployment=plan)  # fmt: skip
    for name in traitement.deployment.RANGED:
        low, value, high = result.columns[f"{name}_min"], result.columns[name], result.columns[f"{name}_max"]
        assert np.all(low <= value) and np.all(value <= high), name


def test_batch_group_range_holds_the_central_value(tmp_path, capsys) -> None:
    path = tmp_path / "log.csv"
    path.write_text("input_tokens,output_tokens,cached_input_tokens,model,hardware\n9069,24483,5997,gpt-4o-mini,l4\n")
    for engine in ("duckdb", "dask"):
        code, out, err = run(["batch", str(path), "--json", "--quiet", "--engine", engine], capsys)
        assert code == 0, err
        totals = json.loads(out)["totals"]
        for name in ("energy_gpu_kwh", "energy_cpu_kwh", "energy_it_kwh", "energy_kwh", "carbon_gco2eq", "water_l", "carbon_embodied_gco2eq"):
            assert totals[f"{name}_min"] <= totals[name] <= totals[f"{name}_max"], name


# --- an unreadable upload named the server's temporary folder ---------------------------------------------------------


@pytest.mark.parametrize("route", ["/batch", "/report"])
def test_an_unreadable_parquet_upload_does_not_name_the_servers_folders(route) -> None:
    answer = client.post(route, files={"file": ("log.parquet", b"PAR1 not a parquet file")})
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert detail.startswith("log.parquet: not a readable Parquet file") and "/tmp" not in detail and "upload" not in detail, detail
    answer = client.post(route, files={"file": ("log.csv", b"input_tokens,output_tokens\n1,2\n")}, params={"format": "parquet"})
    assert answer.status_code == 422 and "/" not in answer.json()["detail"], answer.json()


def test_an_unreadable_parquet_file_is_named_as_the_user_gave_it(tmp_path, capsys) -> None:
    path = tmp_path / "log.parquet"
    path.write_bytes(b"PAR1" + b"\0" * 100)
    err = one_line_error(*run(["batch", str(path)], capsys)[::2])
    assert str(tmp_path) not in err and "log.parquet: not a readable Parquet file" in err


# --- POST /report: Accept's qualities ---------------------------------------------------------------------------------

SAMPLE = (Path(__file__).resolve().parent.parent / "data" / "sample_requests.csv").read_bytes()


@pytest.mark.parametrize(
    ("accept", "csv"),
    [
        ("text/csv", True),
        ("text/csv, */*;q=0.1", True),
        ("text/csv;q=0, application/json", False),
        ("application/json, text/csv;q=0.5", False),
        ("text/csv-schema", False),
        ("*/*", False),
        ("text/csv;q=abc", False),
    ],
)
def test_report_accept_header_follows_its_qualities(accept, csv) -> None:
    answer = client.post("/report", files={"file": ("log.csv", SAMPLE)}, headers={"Accept": accept})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv" if csv else "application/json"), accept


# --- messages showed numbers to 6 digits ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("5.0000000001", "count: not an integer (got 5.0000000001)"),
        ("10000000000001", "count: above 10,000,000,000,000 (got 10000000000001)"),
        ("12345678.5", "count: not an integer (got 12345678.5)"),
    ],
)
def test_a_bad_numbers_message_shows_all_its_digits(tmp_path, capsys, cell, message) -> None:
    jsonl = f'{{"input_tokens": 10, "output_tokens": 10, "count": {cell}}}\n'
    for name, text in (("log.csv", f"input_tokens,output_tokens,count\n10,10,{cell}\n"), ("log.jsonl", jsonl)):
        path = tmp_path / name
        path.write_text(text)
        for engine in ("duckdb", "dask"):
            err = one_line_error(*run(["batch", str(path), "--engine", engine], capsys)[::2])
            assert message in err, err


def test_report_market_factor_is_shown_with_all_its_digits(capsys) -> None:
    code, out, err = run(["report", "data/sample_requests.csv", "--json", "--market-factor-gco2eq-per-kwh", "57.123456789"], capsys)
    assert code == 0, err
    answer = json.loads(out)
    assert answer["market_based"].endswith(": 57.123456789 gCO2e/kWh")
    total = answer["totals"]
    for side in ("value", "min", "max"):
        assert math.isclose(total["carbon_market_based_gco2eq"][side], total["energy_kwh"][side] * 57.123456789, rel_tol=1e-12)


# --- timestamps: an offset past +-14:00 was applied, Unix seconds as text took DuckDB's number syntax -------------------


@pytest.mark.parametrize("cell", ["2025-03-01T00:00:00+25:00", "2025-03-01T00:00:00-15:00", "2025-03-01T00:00:00+9900", "1_740_787_200", "+1740787200"])
def test_a_timestamp_beyond_any_zone_or_in_another_number_syntax_is_a_bad_row(tmp_path, capsys, cell) -> None:
    jsonl = json.dumps({"input_tokens": 10, "output_tokens": 10, "timestamp": cell}) + "\n"
    for name, text in (("log.csv", f"input_tokens,output_tokens,timestamp\n10,10,{cell}\n"), ("log.jsonl", jsonl)):
        path = tmp_path / name
        path.write_text(text)
        for engine in ("duckdb", "dask"):
            err = one_line_error(*run(["batch", str(path), "--engine", engine, "--group-by", "day"], capsys)[::2])
            assert f"timestamp: not a date and time (got '{cell}')" in err, err
        answer = client.post("/report", files={"file": (name, text.encode())})
        assert answer.status_code == 422 and answer.json()["code"] == "bad-rows"


WITHIN = [
    ("2025-03-01T00:00:00+14:00", "2025-02-28"),
    ("2025-03-01T00:00:00-12:00", "2025-03-01"),
    ("2025-03-01T23:30:00-0100", "2025-03-02"),
    ("1740787200", "2025-03-01"),
]


@pytest.mark.parametrize(("cell", "day"), WITHIN)
def test_timestamps_within_the_zones_still_read(tmp_path, capsys, cell, day) -> None:
    path = tmp_path / "log.csv"
    path.write_text(f"input_tokens,output_tokens,timestamp\n10,10,{cell}\n")
    code, out, err = run(["batch", str(path), "--json", "--quiet", "--group-by", "day"], capsys)
    assert code == 0, err
    assert [group["day"] for group in json.loads(out)["groups"]] == [day]


# --- 100,000 distinct unknown model names: four minutes of closest-name suggestions no message showed ------------------


def test_many_unknown_names_compute_few_suggestions(tmp_path, capsys, monkeypatch) -> None:
    from traitement import reference
    from traitement.logs.report import MAX_SUGGESTED_NAMES

    calls = []
    closest = reference._closest
    monkeypatch.setattr(reference, "_closest", lambda *args, **kwargs: calls.append(reference._SUGGEST.get()) or closest(*args, **kwargs))
    path = tmp_path / "log.csv"
    names = MAX_SUGGESTED_NAMES + 50
    path.write_text("input_tokens,output_tokens,model,region\n" + "".join(f"10,10,unknown-model-{i},mars{i}\n" for i in range(names)))
    for engine in ("duckdb", "dask"):
        calls.clear()
        err = one_line_error(*run(["batch", str(path), "--engine", engine], capsys)[::2])
        assert f"{names} bad rows, nothing estimated" in err
        assert calls.count(True) == 2 * MAX_SUGGESTED_NAMES  # the model and the region columns
        assert "(unknown model" not in err and "(unknown region" not in err  # the hint does not repeat the message


def test_an_unknown_name_still_gets_its_closest_names(tmp_path, capsys) -> None:
    path = tmp_path / "log.csv"
    path.write_text("input_tokens,output_tokens,model\n10,10,llama-3.1-8bb\n")
    err = one_line_error(*run(["batch", str(path)], capsys)[::2])
    assert "model 'llama-3.1-8bb' unknown (closest: llama-3.1-8b" in err


# --- POST /report named an unrecognised upload 'upload.yaml' -----------------------------------------------------------


@pytest.mark.parametrize("route", ["/batch", "/report"])
def test_an_unrecognised_upload_is_named_as_sent(route) -> None:
    answer = client.post(route, files={"file": ("mine.yaml", b"a: 1\n")})
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("mine.yaml: not a known log format"), answer.json()


# --- a folder given as a log -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["batch", "report"])
@pytest.mark.parametrize("extra", [[], ["--format", "csv"], ["--engine", "dask"]])
def test_a_folder_is_named_as_a_folder(tmp_path, capsys, command, extra) -> None:
    """A folder (with or without a log's extension) is 'a folder', not 'not a known log format'."""
    if command == "report" and extra[:1] == ["--engine"]:
        extra = []
    folder = tmp_path / "logs.csv"
    folder.mkdir()
    assert interface.main([command, str(folder), *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "logs.csv: is a folder, not a file; allowed: a log file" in err
