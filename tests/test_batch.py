"""Request logs: hand-computed totals, scalar = vectorised, formats, streaming, Dask, bad rows, CLI, API."""

from __future__ import annotations

import csv
import json

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

import api
import interface
import traitement
from genai_carbon.webapi.app import create_app
from traitement import batch
from traitement.batch import SUMS, BadRowsError, estimate_frame, estimate_log

CONFIG = traitement.load_config()

# Three rows: two in France, one in the USA; h100 preset and industry-average datacentre by default.
THREE_ROWS = "input_tokens,output_tokens,count,region\n1000,100,1,france\n5000,40,2,FRA\n2000,200,3,usa\n"

# Hand-derived from config/config_model.yaml (h100) and config/config.yaml (france, usa, industry-average).
IT_POWER_W = 4 * 700 * 0.6 + 350 * 0.3  # 4 GPUs x 700 W x 60 % + host CPU 350 W x 30 % = 1785 W
BUSY_FRANCE_S = (1000 / 5000 + 100 / 40) * 1 + (5000 / 5000 + 40 / 40) * 2  # 2.7 s + 2 x 2 s = 6.7 s
BUSY_USA_S = (2000 / 5000 + 200 / 40) * 3  # 3 x 5.4 s = 16.2 s
IT_FRANCE_KWH = IT_POWER_W * BUSY_FRANCE_S / 32 / 3.6e6  # batch of 32 requests shares the server
IT_USA_KWH = IT_POWER_W * BUSY_USA_S / 32 / 3.6e6
EMBODIED_G_PER_S = (4 * 164 + 2850) * 1000 / 32 / (4 * 365.25 * 24 * 3600)


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


def three_rows(tmp_path):
    return write(tmp_path, "three.csv", THREE_ROWS)


def test_three_rows_by_hand(tmp_path):
    totals = estimate_log(three_rows(tmp_path), CONFIG)["totals"]
    assert totals["requests"] == 6
    assert totals["input_tokens"] == 1000 + 2 * 5000 + 3 * 2000
    assert totals["output_tokens"] == 100 + 2 * 40 + 3 * 200
    assert IT_FRANCE_KWH + IT_USA_KWH == pytest.approx(1785 * 22.9 / 32 / 3.6e6, rel=1e-12)
    assert totals["energy_gpu_kwh"] == pytest.approx(1680 * 22.9 / 32 / 3.6e6, rel=1e-9)
    assert totals["energy_it_kwh"] == pytest.approx(IT_FRANCE_KWH + IT_USA_KWH, rel=1e-9)
    assert totals["energy_kwh"] == pytest.approx((IT_FRANCE_KWH + IT_USA_KWH) * 1.57, rel=1e-9)
    assert totals["energy_kwh"] == pytest.approx(5.570842448e-4, rel=1e-9)  # 1785 W x 22.9 s / 32 / 3.6e6 x 1.57 = 0.557 Wh
    assert totals["carbon_gco2eq"] == pytest.approx(IT_FRANCE_KWH * 1.57 * 44.2 + IT_USA_KWH * 1.57 * 383.6, rel=1e-9)
    water = IT_FRANCE_KWH * (1.8 + 1.57 * 3.67) + IT_USA_KWH * (1.8 + 1.57 * 3.13)
    assert totals["water_l"] == pytest.approx(water, rel=1e-9)
    assert totals["carbon_embodied_gco2eq"] == pytest.approx(EMBODIED_G_PER_S * 22.9, rel=1e-9)


def test_three_rows_low_high_by_hand(tmp_path):
    """Low: GPU 40 %, CPU 10 %, prefill 10,000 and decode 60 tokens/s, batch 96, PUE 1.08; high the other bounds."""
    totals = estimate_log(three_rows(tmp_path), CONFIG)["totals"]
    rows = ((1000, 100, 1), (5000, 40, 2), (2000, 200, 3))
    busy_low = sum((i / 10000 + o / 60) * c for i, o, c in rows)
    busy_high = sum((i / 2000 + o / 20) * c for i, o, c in rows)
    assert totals["energy_kwh_min"] == pytest.approx((4 * 700 * 0.4 + 350 * 0.1) * busy_low / 96 / 3.6e6 * 1.08, rel=1e-9)
    assert totals["energy_kwh_max"] == pytest.approx((4 * 700 * 0.85 + 350 * 0.5) * busy_high / 16 / 3.6e6 * 2.0, rel=1e-9)


def test_scalar_estimates_add_up_to_the_batch(tmp_path):
    """Each row through the scalar traitement.estimate, summed, equals the vectorised batch (ranges too)."""
    _, modele = traitement.modele_from_config(CONFIG)
    expected = dict.fromkeys(SUMS, 0.0)
    for i, o, c, region in ((1000, 100, 1, "france"), (5000, 40, 2, "france"), (2000, 200, 3, "usa")):
        site = traitement.site_from_config(CONFIG, region)
        result = traitement.estimate(traitement.Requete(input_tokens=i, output_tokens=o, count=c), modele, site).to_dict()
        for name in SUMS:
            if name in result:
                expected[name] += result[name]
    totals = estimate_log(three_rows(tmp_path), CONFIG)["totals"]
    compared = [name for name in SUMS if name not in ("requests", "input_tokens", "output_tokens") and expected[name]]  # to_dict tokens: per request
    assert len(compared) >= 14
    for name in compared:
        assert totals[name] == pytest.approx(expected[name], rel=1e-9), name


def random_log(n: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "timestamp": pd.Timestamp("2025-01-30T22:00:00Z") + pd.to_timedelta(rng.integers(0, 5 * 86400, n), unit="s"),
            "input_tokens": rng.integers(1, 8000, n),
            "output_tokens": rng.integers(1, 1000, n),
            "count": rng.integers(1, 5, n),
            "hardware": rng.choice(["h100", "a100", "L4"], n),
            "region": rng.choice(["france", "usa", "DEU"], n),
            "model": rng.choice(["llama-3.1-70b", "llama-3.1-8b"], n),
        }
    )


def save(frame: pd.DataFrame, tmp_path, fmt: str):
    path = tmp_path / f"log.{fmt}"
    if fmt == "csv":
        frame.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
    elif fmt == "jsonl":
        frame.to_json(path, orient="records", lines=True, date_format="iso")
    else:
        frame.to_parquet(path, index=False)
    return path


def assert_same(a: dict, b: dict) -> None:
    assert a["group_by"] == b["group_by"]
    assert a["rows"] == b["rows"]
    for name in SUMS:
        assert a["totals"][name] == pytest.approx(b["totals"][name], rel=1e-12), name
    assert len(a["groups"]) == len(b["groups"])
    for x, y in zip(a["groups"], b["groups"], strict=True):
        assert [x[k] for k in a["group_by"]] == [y[k] for k in b["group_by"]]
        for name in SUMS:
            assert x[name] == pytest.approx(y[name], rel=1e-12), name


GROUPS = ["day", "hardware", "region", "model"]


def test_csv_jsonl_parquet_agree(tmp_path):
    frame = random_log(300)
    results = [estimate_log(save(frame, tmp_path, fmt), CONFIG, group_by=GROUPS) for fmt in ("csv", "jsonl", "parquet")]
    assert results[0]["rows"] == 300
    assert {g["day"] for g in results[0]["groups"]} == {f"2025-0{m}-{d:02d}" for m, d in ((1, 30), (1, 31), (2, 1), (2, 2), (2, 3), (2, 4))}
    assert_same(results[0], results[1])
    assert_same(results[0], results[2])


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_small_blocks_equal_one_shot(tmp_path, monkeypatch, fmt):
    frame = random_log(200)
    one_shot = estimate_frame(frame, CONFIG, group_by=GROUPS)
    monkeypatch.setattr(batch, "CSV_BLOCK_BYTES", 256)  # a few rows per block
    monkeypatch.setattr(batch, "PARQUET_BATCH_ROWS", 2)
    blocks = []
    real = batch.summarise
    monkeypatch.setattr(batch, "summarise", lambda frame, *a, **k: blocks.append(len(frame)) or real(frame, *a, **k))
    streamed = estimate_log(save(frame, tmp_path, fmt), CONFIG, group_by=GROUPS)
    assert len(blocks) >= 25 and max(blocks) <= 8
    assert_same(streamed, one_shot)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_dask_engine_equals_pandas_engine(tmp_path, monkeypatch, fmt):
    import dask

    path = save(random_log(400), tmp_path, fmt)
    pandas_result = estimate_log(path, CONFIG, group_by=GROUPS)
    monkeypatch.setattr(batch, "CSV_BLOCK_BYTES", 1024)  # several Dask partitions
    with dask.config.set(scheduler="synchronous"):
        dask_result = estimate_log(path, CONFIG, group_by=GROUPS, engine="dask")
    assert dask_result["engine"] == "dask"
    assert_same(dask_result, pandas_result)


def test_dask_engine_numbers_bad_lines_across_partitions(tmp_path, monkeypatch):
    import dask

    frame = random_log(300)
    frame["input_tokens"] = frame["input_tokens"].astype(object)
    frame.loc[250, "input_tokens"] = "many"  # line 252: header + 1-based
    path = save(frame, tmp_path, "csv")
    monkeypatch.setattr(batch, "CSV_BLOCK_BYTES", 1024)
    with dask.config.set(scheduler="threads"), pytest.raises(BadRowsError) as caught:
        estimate_log(path, CONFIG, engine="dask")
    assert caught.value.lines == [(252, "input_tokens: not a number (got 'many')")]


@pytest.mark.parametrize("group_by", [[], GROUPS])
def test_sums_before_footprint_equal_footprint_per_row(monkeypatch, group_by):
    """The hardware method is linear in tokens x count: summing rows first changes nothing."""
    frame = random_log(3000)
    summed_first = estimate_frame(frame, CONFIG, group_by=group_by)
    monkeypatch.setattr(batch, "AGGREGATE_FIRST", False)
    monkeypatch.setattr(batch, "PARALLEL_ROWS", 1000)  # the threaded per-row path too
    per_row = estimate_frame(frame, CONFIG, group_by=group_by)
    assert_same(summed_first, per_row)


def test_group_sums_equal_totals(tmp_path):
    result = estimate_log(save(random_log(500), tmp_path, "parquet"), CONFIG, group_by=["month", "region", "hardware"])
    assert {g["month"] for g in result["groups"]} == {"2025-01", "2025-02"}
    assert {g["region"] for g in result["groups"]} == {"FRA", "USA", "DEU"}  # france -> FRA
    assert {g["hardware"] for g in result["groups"]} == {"h100", "a100", "l4"}
    for name in SUMS:
        assert sum(g[name] for g in result["groups"]) == pytest.approx(result["totals"][name], rel=1e-12), name


def test_defaults_fill_missing_columns_and_cells(tmp_path):
    no_region = estimate_log(write(tmp_path, "a.csv", "input_tokens,output_tokens\n1000,100\n"), CONFIG, region="france")
    empty_cell = estimate_log(write(tmp_path, "b.csv", "input_tokens,output_tokens,region\n1000,100,\n"), CONFIG, region="france")
    named = estimate_log(write(tmp_path, "c.csv", "input_tokens,output_tokens,region\n1000,100,France\n"), CONFIG)
    assert no_region["totals"] == empty_cell["totals"] == named["totals"]
    assert no_region["defaults_used"] == {"datacenter": 1, "hardware": 1, "region": 1}
    assert empty_cell["defaults_used"]["region"] == 1 and "region" not in named["defaults_used"]


BAD = (
    "timestamp,input_tokens,output_tokens,count,region\n"  # line 1
    "2025-03-01T10:00:00Z,100,10,1,france\n"  # 2 ok
    "2025-03-01T10:00:00Z,abc,10,1,france\n"  # 3 not a number
    "\n"  # 4 blank: skipped, counted
    "2025-03-01T10:00:00Z,0,10,1,france\n"  # 5 zero
    "2025-03-01T10:00:00Z,100,-3,1,france\n"  # 6 negative
    "2025-03-01T10:00:00Z,1.5,10,1,france\n"  # 7 not an integer
    "2025-03-01T10:00:00Z,20000000,10,1,france\n"  # 8 absurd
    "2025-03-01T10:00:00Z,,10,1,france\n"  # 9 missing
    "2025-03-01T10:00:00Z,100,10,0,france\n"  # 10 count zero
    "2025-03-01T10:00:00Z,100,10,1,mars\n"  # 11 unknown region
    "noon,100,10,1,france\n"  # 12 unparsable timestamp
    "2025-03-01T10:00:00Z,100,10,,\n"  # 13 ok: count 1, default region
)


def test_bad_rows_are_named_by_line(tmp_path):
    with pytest.raises(BadRowsError) as caught:
        estimate_log(write(tmp_path, "bad.csv", BAD), CONFIG)
    error = caught.value
    assert error.total == 9
    assert error.lines == [
        (3, "input_tokens: not a number (got 'abc')"),
        (5, "input_tokens: below 1 (got 0)"),
        (6, "output_tokens: below 1 (got -3)"),
        (7, "input_tokens: not an integer (got 1.5)"),
        (8, "input_tokens: above 10,000,000 (got 2e+07)"),
        (9, "input_tokens: missing"),
        (10, "count: below 1 (got 0)"),
        (11, "region 'mars' unknown"),
        (12, "timestamp: not a date and time (got 'noon')"),
    ]
    message = str(error)
    assert "\n" not in message
    assert message.startswith("bad.csv: 9 bad rows, nothing estimated: line 3: input_tokens: not a number (got 'abc')")
    assert "(allowed: an integer from 1 to 10,000,000)" in message
    assert "line 11: region 'mars' unknown (closest: Marshall Islands (MHL), Morocco (MAR), Serbia (SRB))" in message


def test_many_bad_rows_show_the_first_and_count_the_rest(tmp_path):
    text = "input_tokens,output_tokens\n" + "5,5\n" * 3 + "0,5\n" * 25
    with pytest.raises(BadRowsError) as caught:
        estimate_log(write(tmp_path, "many.csv", text), CONFIG)
    assert caught.value.total == 25
    assert [line for line, _ in caught.value.lines] == list(range(5, 15))
    assert str(caught.value).endswith("; and 15 more bad rows")


def test_wrong_field_count_and_json_lines_are_numbered_exactly(tmp_path):
    with pytest.raises(BadRowsError) as caught:
        estimate_log(write(tmp_path, "short.csv", "input_tokens,output_tokens,region\n1,2,usa\n\n3,4\n5,x,usa\n"), CONFIG)
    assert caught.value.lines == [(4, "2 fields, the header has 3"), (5, "output_tokens: not a number (got 'x')")]
    jsonl = '{"input_tokens": 1, "output_tokens": 2}\n\n{"input_tokens": 3, "output_tokens": "x"}\n{"input_tokens": 4}\n[1]\n'
    with pytest.raises(BadRowsError) as caught:
        estimate_log(write(tmp_path, "log.jsonl", jsonl), CONFIG)
    assert caught.value.lines == [
        (3, "output_tokens: not a number (got 'x')"),
        (4, "output_tokens: missing"),
        (5, "not a JSON object (got list)"),
    ]


@pytest.mark.parametrize("zone", [None, "Europe/Paris"])
def test_parquet_period_from_statistics_equals_the_rows(tmp_path, zone):
    """Not grouping by time, a native timestamp's period comes from the row-group statistics, unread: same as from the rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    stamps = pd.to_datetime(["2025-03-01T23:30:00", "2025-01-15T08:00:00", "2025-02-02T12:00:00", "2025-02-28T00:15:00"])
    stamps = stamps.tz_localize(zone) if zone else stamps
    table = pa.table({"timestamp": pa.array(stamps), "input_tokens": [10, 20, 30, 40], "output_tokens": [1, 2, 3, 4]})
    path = tmp_path / "log.parquet"
    pq.write_table(table, path, row_group_size=2)  # two row groups, each with its own statistics
    config = traitement.load_config()
    unread = estimate_log(path, config)
    read = estimate_log(path, config, group_by=["day"])  # grouping by time reads the column
    assert unread["period"] == read["period"]
    first = stamps.min().tz_convert("UTC").tz_localize(None) if zone else stamps.min()
    assert unread["period"]["first"] == first.strftime("%Y-%m-%dT%H:%M:%S") + "Z"
    assert unread["totals"]["energy_kwh"] == pytest.approx(read["totals"]["energy_kwh"], rel=1e-12)


def test_parquet_rows_are_numbered(tmp_path):
    frame = pd.DataFrame({"input_tokens": [10, 20, 0], "output_tokens": [1, 2, 3]})
    with pytest.raises(BadRowsError, match=r"row 3: input_tokens: below 1 \(got 0\)"):
        estimate_log(save(frame, tmp_path, "parquet"), CONFIG)


def test_wrong_calls(tmp_path):
    path = three_rows(tmp_path)
    with pytest.raises(BadRowsError, match="group_by model: the log has no 'model' column"):
        estimate_log(path, CONFIG, group_by=["model"])
    with pytest.raises(traitement.InvalidInputError, match="unknown column 'planet'"):
        estimate_log(path, CONFIG, group_by=["planet"])
    with pytest.raises(traitement.UnknownNameError, match="unknown region 'mars'"):
        estimate_log(path, CONFIG, region="mars")
    with pytest.raises(traitement.InvalidInputError, match="file not found"):
        estimate_log(tmp_path / "nothing.csv", CONFIG)


def test_seed_quadratic_method_runs_per_row(tmp_path):
    path = write(tmp_path, "q.csv", "input_tokens,output_tokens\n300,50\n")
    totals = estimate_log(path, CONFIG, method="seed-quadratic")["totals"]
    assert totals["energy_gpu_kwh"] == pytest.approx(1680 * (300 * 300 / 40 + 50 / 40) / 3.6e6, rel=1e-9)  # no batch sharing


# --- CLI ----------------------------------------------------------------------------------------


def test_cli_text_json_and_csv(tmp_path, capsys):
    path = three_rows(tmp_path)
    assert interface.main(["batch", str(path), "--group-by", "region", "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert "requests   6 in 3 rows" in out and "FRA" in out and err == ""
    out_csv = tmp_path / "groups.csv"
    assert interface.main(["batch", str(path), "--group-by", "region", "--json", "--quiet", "--csv", str(out_csv)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result == estimate_log(path, CONFIG, group_by=["region"])
    with open(out_csv, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["region"] for row in rows] == ["FRA", "USA"]
    assert list(rows[0]) == ["region", *SUMS]
    assert float(rows[1]["energy_it_kwh"]) == pytest.approx(IT_USA_KWH, rel=1e-9)


def test_cli_bad_rows_one_line_exit_2(tmp_path, capsys):
    assert interface.main(["batch", str(write(tmp_path, "bad.csv", BAD)), "--quiet"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith("interface.py: error: bad.csv: 9 bad rows, nothing estimated: line 3:")


def test_cli_sample_with_dask_and_a_local_cluster(capsys):
    assert interface.main(["batch", "data/sample_requests.csv", "--json", "--quiet"]) == 0
    expected = json.loads(capsys.readouterr().out)
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        assert interface.main(["batch", "data/sample_requests.csv", "--json", "--engine", "dask", "--scheduler", cluster.scheduler_address]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["engine"] == "dask"
    for name in SUMS:
        assert result["totals"][name] == pytest.approx(expected["totals"][name], rel=1e-12)


def test_cli_scheduler_needs_dask_engine(capsys):
    assert interface.main(["batch", "data/sample_requests.csv", "--scheduler", "tcp://nowhere:8786"]) == 2
    assert "--scheduler: needs --engine dask" in capsys.readouterr().err


# --- API ----------------------------------------------------------------------------------------

client = TestClient(api.app)


def test_api_same_answer_as_cli(tmp_path, capsys):
    path = three_rows(tmp_path)
    with open(path, "rb") as handle:
        response = client.post("/batch", params={"group_by": "region,hardware"}, files={"file": ("three.csv", handle)})
    assert response.status_code == 200
    assert interface.main(["batch", str(path), "--group-by", "region", "hardware", "--json", "--quiet"]) == 0
    assert response.json() == json.loads(capsys.readouterr().out)
    raw = client.post("/batch?format=csv&group_by=region&group_by=hardware", content=THREE_ROWS.encode())
    assert raw.status_code == 200 and raw.json()["totals"] == response.json()["totals"]


def test_api_upload_limit_is_413(monkeypatch):
    monkeypatch.setenv("GENAI_CARBON_BATCH_MAX_BYTES", "400")
    limited = TestClient(create_app())  # settings are read when the app is made
    big = ("input_tokens,output_tokens\n" + "1000,100\n" * 60).encode()
    response = limited.post("/batch", files={"file": ("big.csv", big)})
    assert response.status_code == 413
    assert response.json() == {
        "detail": "upload larger than the limit of 400 bytes (set GENAI_CARBON_BATCH_MAX_BYTES to change it)",
        "code": "upload-too-large",
    }

    def chunks():  # no Content-Length: counted as it arrives
        yield big

    assert limited.post("/batch?format=csv", content=chunks()).status_code == 413
    assert limited.post("/batch", files={"file": ("small.csv", big[:60])}).status_code == 200


def test_api_bad_rows_422():
    response = client.post("/batch", files={"file": ("bad.csv", BAD.encode())})
    assert response.status_code == 422
    assert response.json()["code"] == "bad-rows"
    assert "line 3: input_tokens: not a number" in response.json()["detail"]
    for params, files in (({"format": "xls"}, None), ({"group_by": "planet"}, {"file": ("a.csv", b"input_tokens,output_tokens\n1,2\n")}), ({}, None)):
        response = client.post("/batch", params=params, files=files, content=None if files else b"x")
        assert response.status_code == 422, params
        assert "\n" not in response.json()["detail"]
