"""``batch`` and ``POST /batch`` on the DuckDB engine: the same answer in both, one-line errors, caps from the
settings, CSV exports safe in a spreadsheet, and a server that keeps answering while a log is estimated.
(The engine itself: tests/test_logs.py; the other outputs' safety: tests/test_reliability.py.)"""

from __future__ import annotations

import asyncio
import csv
import json
import threading

import httpx
import pytest
from fastapi.testclient import TestClient

import api
import interface
import traitement
from traitement import logs
from traitement.logs import SUMS, estimate_log

CONFIG = traitement.load_config()
THREE_ROWS = "input_tokens,output_tokens,count,region\n1000,100,1,france\n5000,40,2,FRA\n2000,200,3,usa\n"
IT_USA_KWH = (4 * 700 * 0.6 + 350 * 0.3) * (2000 / 5000 + 200 / 40) * 3 / 32 / 3.6e6  # hand-derived: tests/test_logs.py
BAD = "input_tokens,output_tokens,region\n100,10,france\nabc,10,france\n0,10,mars\n"


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


# --- CLI ----------------------------------------------------------------------------------------


def test_cli_text_json_and_csv(tmp_path, capsys):
    path = write(tmp_path, "three.csv", THREE_ROWS)
    assert interface.main(["batch", str(path), "--group-by", "region", "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert "requests   6 in 3 rows" in out and "engine duckdb" in out and "FRA" in out and err == ""
    out_csv = tmp_path / "groups.csv"
    assert interface.main(["batch", str(path), "--group-by", "region", "--json", "--quiet", "--csv", str(out_csv)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result == estimate_log(path, CONFIG, group_by=["region"])
    with open(out_csv, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["region"] for row in rows] == ["FRA", "USA"]
    assert list(rows[0]) == ["region", *SUMS]
    assert float(rows[1]["energy_it_kwh"]) == pytest.approx(IT_USA_KWH, rel=1e-9)


@pytest.mark.parametrize(
    "flags",
    [
        ["--group-by", "month", "--group-by", "model"],
        ["--group-by", "month", "model"],
        ["--group-by", "month,model"],
        ["--group-by", "month,", "--group-by", " model"],
    ],
)
def test_cli_group_by_flags_accumulate(flags, capsys):
    """Repeated --group-by flags add up (the last one used to win), as do a list and a comma-separated value; the API alike."""
    sample = "data/samples/providers/openai-usage-completions.json"
    assert interface.main(["batch", sample, "--json", "--quiet", *flags]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["group_by"] == ["month", "model"]
    assert [(group["month"], group["model"]) for group in result["groups"]] == [("2025-04", "gpt-4o"), ("2025-04", "gpt-4o-mini")]
    with open(sample, "rb") as handle:
        repeated = TestClient(api.app).post("/batch?group_by=month&group_by=model", files={"file": ("openai-usage-completions.json", handle)})
    assert repeated.status_code == 200 and repeated.json() == result


def test_cli_bad_rows_one_line_exit_2(tmp_path, capsys):
    assert interface.main(["batch", str(write(tmp_path, "bad.csv", BAD)), "--quiet"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith("interface.py: error: bad.csv: 2 bad rows, nothing estimated: line 3: input_tokens: not a number (got 'abc')")
    assert "line 4: input_tokens: below 1 (got 0); line 4: region 'mars' unknown (closest: " in err


def test_cli_csv_export_is_safe_in_a_spreadsheet(tmp_path, capsys):
    text = 'input_tokens,output_tokens,project_id\n1,2,"=HYPERLINK(""http://x"",""y"")"\n3,4,"@SUM(A1)\nsecond line"\n5,6,plain\n'
    out_csv = tmp_path / "models.csv"
    assert interface.main(["batch", str(write(tmp_path, "m.csv", text)), "--group-by", "project_id", "--csv", str(out_csv), "--quiet"]) == 0
    capsys.readouterr()
    with open(out_csv, newline="", encoding="utf-8") as handle:
        assert [row["project_id"] for row in csv.DictReader(handle)] == ["'=HYPERLINK(\"http://x\",\"y\")", "'@SUM(A1)\\nsecond line", "plain"]


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["--csv", ""], 2, "--csv: must not be empty; allowed: a file name to write"),
        (["--csv", "/dev/full"], 1, "--csv: cannot write /dev/full: No space left on device"),
        (["--csv", "/nonexistent-dir/out.csv"], 1, "--csv: cannot write /nonexistent-dir/out.csv: No such file or directory"),
        (["--scheduler", "tcp://nowhere:8786"], 2, "--scheduler: needs --engine dask"),
        (["--engine", "dask", "--scheduler", "garbage://"], 2, "--scheduler garbage://: cannot connect (unknown address scheme 'garbage'"),
        (["--engine", "pandas"], 2, "argument --engine: invalid choice: 'pandas'"),
        (["--method", "parameter"], 2, "method: unknown method 'parameter'; allowed: auto, hardware, seed-quadratic"),
        (["--group-by", "planet"], 2, "group_by: unknown column 'planet'"),
        (["--format", "xls"], 2, "argument --format: invalid choice: 'xls'"),
    ],
)
def test_cli_wrong_calls_are_one_line(capsys, argv, code, message):
    assert interface.main(["batch", "data/sample_requests.csv", "--quiet", *argv]) == code
    out, err = capsys.readouterr()
    assert message in err and err.count("\n") == 1 and out == "", err


def test_cli_caps_come_from_the_settings(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GENAI_CARBON_BATCH_MAX_GROUPS", "2")
    assert interface.main(["batch", "data/sample_requests.csv", "--group-by", "region", "--quiet"]) == 2
    assert "6 groups, over the cap of 2 groups in an answer (GENAI_CARBON_BATCH_MAX_GROUPS)" in capsys.readouterr().err
    monkeypatch.setenv("GENAI_CARBON_BATCH_MAX_GROUPS", "two")
    assert interface.main(["batch", "data/sample_requests.csv", "--quiet"]) == 1
    assert "GENAI_CARBON_BATCH_MAX_GROUPS: must be a whole number" in capsys.readouterr().err


def test_cli_sample_with_dask_and_a_local_cluster(capsys):
    assert interface.main(["batch", "data/sample_requests.csv", "--json", "--quiet"]) == 0
    expected = json.loads(capsys.readouterr().out)
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        assert interface.main(["batch", "data/sample_requests.csv", "--json", "--engine", "dask", "--scheduler", cluster.scheduler_address]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result.pop("engine") == "dask" and expected.pop("engine") == "duckdb"
    assert result == expected


# --- API ----------------------------------------------------------------------------------------

client = TestClient(api.app)


def test_api_same_answer_as_cli(tmp_path, capsys):
    path = write(tmp_path, "three.csv", THREE_ROWS)
    with open(path, "rb") as handle:
        response = client.post("/batch", params={"group_by": "region,hardware"}, files={"file": ("three.csv", handle)})
    assert response.status_code == 200
    assert interface.main(["batch", str(path), "--group-by", "region", "hardware", "--json", "--quiet"]) == 0
    assert response.json() == json.loads(capsys.readouterr().out)
    raw = client.post("/batch?format=csv&group_by=region&group_by=hardware", content=THREE_ROWS.encode())
    assert raw.status_code == 200 and raw.json()["totals"] == response.json()["totals"]


def client_with(**settings) -> TestClient:
    """A client of an app whose settings differ from the environment's by ``settings``."""
    from genai_carbon.webapi.app import create_app
    from traitement.settings import load_settings

    return TestClient(create_app(settings=load_settings().model_copy(update=settings)))


def test_api_upload_limit_is_413():
    small = client_with(batch_max_bytes=400)
    big = ("input_tokens,output_tokens\n" + "1000,100\n" * 60).encode()
    response = small.post("/batch", files={"file": ("big.csv", big)})
    assert response.status_code == 413
    assert response.json()["code"] == "upload-too-large"

    def chunks():  # no Content-Length: counted as it arrives
        yield big

    assert small.post("/batch?format=csv", content=chunks()).status_code == 413
    assert small.post("/batch", files={"file": ("small.csv", big[:60])}).status_code == 200


def test_api_caps_are_413(tmp_path):
    import pandas as pd

    path = tmp_path / "log.parquet"
    pd.DataFrame({"input_tokens": [1, 2, 3], "output_tokens": [1, 2, 3]}).to_parquet(path)
    response = client_with(batch_max_rows=2).post("/batch", files={"file": ("log.parquet", path.read_bytes())})
    assert response.status_code == 413
    assert response.json() == {"detail": "log.parquet: 3 rows, over the cap of 2 rows (GENAI_CARBON_BATCH_MAX_ROWS)", "code": "over-cap"}


def test_api_bad_rows_and_hostile_files_are_one_line_4xx(tmp_path):
    response = client.post("/batch", files={"file": ("bad.csv", BAD.encode())})
    assert response.status_code == 422
    assert response.json()["code"] == "bad-rows"
    assert "line 3: input_tokens: not a number" in response.json()["detail"]
    deep = '{"input_tokens": ' + "[" * 30_000 + "]" * 30_000 + ', "output_tokens": 5}\n'
    for name, body in (("deep.jsonl", deep), ("log.jsonl", "[1]\n"), ("x.parquet", "not parquet"), ("x.csv", "a;b\n1;2\n")):
        response = client.post("/batch", files={"file": (name, body.encode())})
        assert response.status_code == 422, (name, response.text)
        assert "\n" not in response.json()["detail"]
    for params, files in (({"format": "xls"}, None), ({"group_by": "planet"}, {"file": ("a.csv", b"input_tokens,output_tokens\n1,2\n")}), ({}, None)):
        response = client.post("/batch", params=params, files=files, content=None if files else b"x")
        assert response.status_code == 422, params
        assert "\n" not in response.json()["detail"]


def test_health_answers_while_a_log_is_estimated(monkeypatch):
    """The estimate runs in a worker thread: while it is held, /health still answers (on the event loop it could not)."""
    health_answered = threading.Event()
    estimate_running = threading.Event()
    real = logs.estimate_log

    def held(*args, **kwargs):
        estimate_running.set()
        assert health_answered.wait(timeout=30), "/health did not answer while the log was estimated"
        return real(*args, **kwargs)

    from genai_carbon.webapi.routes import batch as route

    monkeypatch.setattr(route, "estimate_log", held)

    async def scenario() -> tuple[int, int]:
        transport = httpx.ASGITransport(app=api.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            upload = asyncio.create_task(http.post("/batch", files={"file": ("three.csv", THREE_ROWS.encode())}))
            for _ in range(3000):  # until the worker thread holds the estimate (or the upload failed)
                if estimate_running.is_set() or upload.done():
                    break
                await asyncio.sleep(0.01)
            health = await http.get("/health")
            health_answered.set()
            return health.status_code, (await upload).status_code

    assert asyncio.run(scenario()) == (200, 200)
