"""Hostile files on the usage-export readers: deep nesting, numbers past int64, strings and nulls where numbers go,
empty pages, a byte order mark, duplicate attributes, files that are not UTF-8, a file claiming a gigabyte, 20,000
unknown keys. Each answers a one-line error (CLI exit 2, API 4xx) or an estimate that counts what it did not use;
never a traceback, a 500 or a hang. (The readers: tests/test_usage_exports.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import api
import interface

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples" / "providers"
client = TestClient(api.app)
START = 1743465600  # 2025-04-01T00:00:00Z


def result(**fields) -> dict:
    """One OpenAI usage result of gpt-4o-mini, 1 request of 100 tokens in and 10 out, with ``fields`` changed."""
    return {"object": "organization.usage.completions.result", "input_tokens": 100, "output_tokens": 10, "input_cached_tokens": 0,
            "num_model_requests": 1, "model": "gpt-4o-mini"} | fields  # fmt: skip


def page(*results, start=START) -> str:
    return json.dumps({"object": "page", "data": [{"object": "bucket", "start_time": start, "end_time": START + 86400, "results": list(results)}]})


def anthropic(**fields) -> str:
    row = {"uncached_input_tokens": 10, "cache_read_input_tokens": 0, "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
           "output_tokens": 5, "model": "claude-sonnet-4-20250514"} | fields  # fmt: skip
    return json.dumps({"data": [{"starting_at": "2025-08-01T00:00:00Z", "ending_at": "2025-08-02T00:00:00Z", "results": [row]}]})


def otel(*attributes: tuple[str, dict], start="1748858400000000000", raw: list | None = None) -> str:
    base = {"gen_ai.operation.name": {"stringValue": "chat"}, "gen_ai.request.model": {"stringValue": "gpt-4o-mini"},
            "gen_ai.usage.input_tokens": {"intValue": "100"}, "gen_ai.usage.output_tokens": {"intValue": "10"}}  # fmt: skip
    listed = raw if raw is not None else [{"key": key, "value": value} for key, value in (base | dict(attributes)).items()]
    span = {"name": "chat", "startTimeUnixNano": start, "attributes": listed}
    return json.dumps({"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"spans": [span]}]}]})


TWICE = [
    {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "100"}},
    {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "900"}},
    {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "1"}},
]
DEEP_KV = '{"kvlistValue": {"values": [{"key": "a", "value": ' * 3000 + "{}" + "}]}}" * 3000
LITELLM = "request_id,call_type,prompt_tokens,completion_tokens,startTime,model,metadata,status\n"
DEEP = 50_000

# (file name, content, error expected (None: estimated), a fragment of the error or of the answer's warnings)
ERRORS = [
    ("deep_data.json", '{"object":"page","data":[' + "[" * DEEP + "]" * DEEP + "]}", "not a known log format"),
    ("deep_field.json", page(result(extra=json.loads("[" * 500 + "]" * 500))).replace("[" * 500, "[" * DEEP).replace("]" * 500, "]" * DEEP), "nested too deep"),
    ("deep_tokens.json", page(result()).replace('"input_tokens": 100', '"input_tokens": ' + '{"a":' * 20_000 + "1" + "}" * 20_000), "nested too deep"),
    ("huge.json", page(result(input_tokens=10**30)), "data[0].results[0]: input_tokens: above 1,000,000,000,000,000,000 (got 1e+30)"),
    ("int64.json", page(result(input_tokens=2**63 + 5)), "input_tokens: above 1,000,000,000,000,000,000"),
    ("requests.json", page(result(num_model_requests=10**25)), "num_model_requests: above 10,000,000,000,000 (got 1e+25)"),
    ("mean.json", page(result(input_tokens=10**12)), "input_tokens: 1,000,000,000,000 over 1 requests (allowed: at most 10,000,000 per request)"),
    ("strings.json", page(result(input_tokens="abc"), result(output_tokens="")), "input_tokens: not a number (got 'abc')"),
    ("types.json", page(result(input_tokens=True), result(output_tokens=[1]), result(num_model_requests={"a": 1})), "3 bad rows"),
    ("nulls.json", page(result(input_tokens=None), result(output_tokens=None)), "data[0].results[0]: input_tokens: missing"),
    ("nan.json", page(result()).replace('"input_tokens": 100', '"input_tokens": NaN'), "input_tokens: not a number (got nan)"),
    ("infinity.json", page(result()).replace('"output_tokens": 10', '"output_tokens": -Infinity'), "output_tokens: not a number (got -inf)"),
    ("truncated.json", page(result())[:-30], "not valid JSON"),
    ("trailing.json", page(result()) + " garbage", "not valid JSON"),
    ("data_object.json", json.dumps({"object": "page", "data": {"results": [result()]}}), "data holds an object, not a list"),
    ("results_object.json", page(result()).replace('"results": [', '"results": [[').replace("}]}]}", "}]]}]}"), "holds a list, not an object"),
    ("time_text.json", page(result(), start="yesterday"), "start_time: not a date and time (got 'yesterday')"),
    ("time_ms.json", page(result(), start=START * 1000), "start_time: out of range"),
    ("time_huge.json", page(result(), start=10**30), "start_time: out of range"),
    ("cached.json", page(result(input_tokens=5, input_cached_tokens=6)), "input_cached_tokens: 6 above input_tokens (5)"),
    ("zero_requests.json", page(result(num_model_requests=0)), "input_tokens: 100 tokens with 0 requests"),
    ("not_utf8.json", page(result(model="gpt-4o-mini")).encode().replace(b"gpt-4o-mini", b"gpt-4o-\xff\xfe"), "line 1: not UTF-8 text"),
    ("binary.json", bytes(range(256)) * 100, "not a known log format"),
    ("empty_object.json", "{}", "not a known log format"),
    ("mixed.jsonl", page(result()) + "\nnot json\n[1, 2]\n", "line 2: not valid JSON"),
    ("anthropic_list.json", anthropic(cache_creation=[1, 2]), "data[].results[].cache_creation holds a list, not an object"),
    ("anthropic_null.json", anthropic(uncached_input_tokens=None), "uncached_input_tokens + cache_read_input_tokens + cache_creation: missing"),
    ("anthropic_huge.json", anthropic(uncached_input_tokens=10**30), "above 1,000,000,000,000,000,000"),
    ("anthropic_string.json", anthropic(cache_read_input_tokens="x"), "cache_read_input_tokens: not a number (got 'x')"),
    ("anthropic_time.json", anthropic().replace("2025-08-01T00:00:00Z", "not a date"), "starting_at: not a date and time"),
    ("otel_huge.json", otel(("gen_ai.usage.input_tokens", {"intValue": "99999999999999999999999"})), "gen_ai.usage.input_tokens: above"),
    ("otel_double.json", otel(("gen_ai.usage.input_tokens", {"doubleValue": 100.5})), "gen_ai.usage.input_tokens: not an integer (got 100.5)"),
    ("otel_bool.json", otel(("gen_ai.usage.output_tokens", {"boolValue": True})), "gen_ai.usage.output_tokens: not a number"),
    ("otel_time.json", otel(start="soon"), "startTimeUnixNano: not a date and time (got 'soon')"),
    ("otel_twice.json", otel(raw=TWICE), "gen_ai.usage.input_tokens: not a number (got 'given 2 times')"),
    ("otel_deep.json", otel(("deep", {"kvlistValue": {}})).replace('{"kvlistValue": {}}', DEEP_KV), None),
    ("litellm_bad.csv", LITELLM + "r1,acompletion,abc,5,2025-06-02 09:00:00,gpt-4o-mini,{},success\nr2,acompletion,,5,2025-06-02,gpt-4o-mini,{},success\n",
     "line 2: prompt_tokens: not a number (got 'abc')"),  # fmt: skip
    ("litellm_header.csv", "prompt_tokens,completion_tokens,startTime,prompt_tokens\n1,2,2025-06-02,3\n", "the header names 'prompt_tokens' twice"),
    ("litellm_scalars.json", '[1, "a", null, {"prompt_tokens": 5, "completion_tokens": 1, "startTime": "2025-06-02T00:00:00Z", "request_id": "x"}]',
     "a LiteLLM spend log's records are JSON objects with fields; found: mix of types"),  # fmt: skip
]
ESTIMATED = [
    ("bom.json", "\ufeff" + (SAMPLES / "openai-usage-completions.json").read_text(), {"rows": 4, "input_tokens": 1_688_500}),
    ("bom.jsonl", "\ufeff" + (SAMPLES / "openai-usage-completions.jsonl").read_text(), {"rows": 3, "input_tokens": 88_000}),
    ("empty_data.json", json.dumps({"object": "page", "data": []}), {"rows": 0, "input_tokens": 0}),
    ("empty_results.json", page(), {"rows": 0, "input_tokens": 0}),
    ("null_results.json", json.dumps({"object": "page", "data": [{"start_time": START, "results": None}]}), {"rows": 0}),
    ("zeros.json", page(result(), result(num_model_requests=0, input_tokens=0, output_tokens=0), result(model="gpt-4o", num_model_requests=0, input_tokens=0,
        output_tokens=0)), {"rows": 3, "requests": 1, "input_tokens": 100}),  # fmt: skip
    ("anthropic_zero.json", anthropic(uncached_input_tokens=0, output_tokens=0), {"rows": 1, "input_tokens": 0, "energy_kwh": 0.0}),
    ("exponent.json", page(result(input_tokens=1e5)), {"input_tokens": 100_000}),
    ("otel_empty.json", json.dumps({"resourceSpans": []}), {"rows": 0}),
    ("otel_no_attributes.json", otel(raw=None).replace('"attributes": [', '"attributes": null, "x": [').replace("]}]}]}", "]}]}]}"),
     {"rows": 0, "warning": "not estimated: 1 span without GenAI token usage"}),  # fmt: skip
    ("litellm_metadata.csv", LITELLM + "r1,acompletion,10,5,2025-06-02 09:00:00,gpt-4o-mini,not json at all,success\n",
     {"rows": 1, "warning": "metadata: not JSON on 1 estimated row"}),  # fmt: skip
    ("litellm_empty.csv", LITELLM, {"rows": 0}),
    ("many_keys.json", page(result(**{f"k{index}": index for index in range(20_000)})),
     {"rows": 1, "warning": "and 19,900 more fields not known to this reader", "unmapped": 100}),  # fmt: skip
]


def as_bytes(content) -> bytes:
    return content if isinstance(content, bytes) else content.encode()


@pytest.mark.parametrize(("name", "content", "fragment"), ERRORS, ids=[case[0] for case in ERRORS])
def test_hostile_file_one_line_error_or_counted(tmp_path, capsys, name, content, fragment):
    path = tmp_path / name
    path.write_bytes(as_bytes(content))
    code = interface.main(["batch", str(path), "--quiet", "--json"])
    out, err = capsys.readouterr()
    response = client.post("/batch", files={"file": (name, as_bytes(content))})
    if fragment is None:  # read: the unknown attribute is not GenAI usage
        assert code == 0 and response.status_code == 200
        return
    assert code == 2, out[-500:]
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert fragment in err, err
    assert 400 <= response.status_code < 500 and fragment in response.json()["detail"]


@pytest.mark.parametrize(("name", "content", "expected"), ESTIMATED, ids=[case[0] for case in ESTIMATED])
def test_hostile_file_estimated_and_counted(tmp_path, capsys, name, content, expected):
    path = tmp_path / name
    path.write_bytes(as_bytes(content))
    assert interface.main(["batch", str(path), "--quiet", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    totals = answer["totals"]
    for key, value in expected.items():
        if key == "rows":
            assert answer["rows"] == value
        elif key == "warning":
            assert any(value in warning for warning in answer["warnings"]), answer["warnings"]
        elif key == "unmapped":
            assert len(answer["fields"]["unmapped"]) == value and answer["fields"]["unmapped_not_listed"] == 20_000 - value
        else:
            assert totals[key] == value, key
    response = client.post("/batch", files={"file": (name, as_bytes(content))})
    assert response.status_code == 200 and response.json()["totals"] == totals


def test_a_file_claiming_a_gigabyte(tmp_path, capsys):
    """A sparse 1 GiB file that starts like an OpenAI page: one JSON document over the cap, refused before it is read;
    as an upload, over the upload limit (413) before it is stored."""
    path = tmp_path / "huge.json"
    with open(path, "wb") as handle:
        handle.write(b'{"object": "page", "data": [{"start_time": 1743465600, "results": [')
        handle.truncate(1 << 30)
    assert interface.main(["batch", str(path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "huge.json: one JSON document of 1,073,741,824 bytes, over the cap of 67,108,864 (GENAI_CARBON_BATCH_MAX_DOCUMENT_BYTES)" in err
    response = client.post("/batch", headers={"content-type": "application/octet-stream", "content-length": str(1 << 30)}, content=b"{}")
    assert response.status_code == 413


def test_document_and_line_caps(tmp_path, capsys, monkeypatch):
    """The caps of the settings apply to the exports: a page over the document cap, a line of pages over it."""
    monkeypatch.setenv("GENAI_CARBON_BATCH_MAX_DOCUMENT_BYTES", "300")
    sample = SAMPLES / "openai-usage-completions.json"
    assert interface.main(["batch", str(sample), "--quiet"]) == 2
    assert "over the cap of 300 (GENAI_CARBON_BATCH_MAX_DOCUMENT_BYTES)" in capsys.readouterr().err
    lines = SAMPLES / "openai-usage-completions.jsonl"
    assert interface.main(["batch", str(lines), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
