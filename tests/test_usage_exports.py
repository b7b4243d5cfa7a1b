"""The providers' usage exports read by ``batch`` and ``POST /batch`` (docs/usage-exports.md): exact token totals
of each sample (computed by hand from the files, below), models and the providers' keys per group, the period,
the fields not understood (reported with counts), the conversion conventions, ``--format``, and bad input
named by its position with nothing estimated. Also: the ``model`` column of a plain log drives its estimate.
(Hostile files: tests/test_usage_exports_hostile.py.)"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

import api
import interface
import traitement
from traitement import deployment as dep
from traitement.energy_model import load_energy_model
from traitement.logs import estimate_log
from traitement.logs.providers import ANTHROPIC_PARTS

CONFIG = traitement.load_config()
SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples" / "providers"
client = TestClient(api.app)

# Each sample's figures, added up by hand from the file (the comments show the sums).
EXPECTED = {
    "openai-usage-completions.json": {
        "format": "openai-usage",
        "rows": 4,  # 2 buckets of 2 results; the third bucket's results are empty
        "requests": 120 + 40 + 150 + 1000,
        "input_tokens": 182_000 + 96_000 + 210_500 + 1_200_000,  # input_tokens, cached included (OpenAI's convention)
        "cached_input_tokens": 64_000 + 0 + 98_000 + 0,
        "output_tokens": 41_000 + 18_500 + 52_300 + 300_000,
        "reasoning_tokens": 0,  # the Usage API does not give them apart
        "period": ("2025-04-01T00:00:00Z", "2025-04-02T00:00:00Z"),  # start_time 1743465600 and 1743552000
        "models": {"gpt-4o": (40, 96_000), "gpt-4o-mini": (1270, 182_000 + 210_500 + 1_200_000)},
        "key": "project_id",
        "keys": {"proj_docs_search": 96_000 + 1_200_000, "proj_support_bot": 182_000 + 210_500},
        "unmapped": {},
        "skipped": None,
    },
    "openai-usage-completions.jsonl": {
        "format": "openai-usage",
        "rows": 3,
        "requests": 25 + 10 + 12,
        "input_tokens": 50_000 + 8_000 + 30_000,
        "cached_input_tokens": 20_000 + 0 + 5_000,
        "output_tokens": 12_000 + 2_000 + 9_000,
        "reasoning_tokens": 0,
        "period": ("2025-05-01T00:00:00Z", "2025-05-02T00:00:00Z"),  # 1746057600, 1746144000
        "models": {"gpt-4.1": (10, 8_000), "o3-mini": (37, 80_000)},
        "key": "api_key_id",
        "keys": {"key_abc": 50_000 + 30_000, "key_def": 8_000},
        "unmapped": {},
        "skipped": None,
    },
    "anthropic-usage-messages.json": {
        "format": "anthropic-usage",
        "rows": 3,
        "requests": None,  # the usage report does not count requests
        # input = uncached + cache read + cache writes (5 min + 1 h), per result:
        "input_tokens": (1_500 + 200 + 500 + 1_000) + (240_000 + 410_000 + 36_000 + 0) + (52_000 + 120_000 + 6_000 + 4_000),
        "cached_input_tokens": 200 + 410_000 + 120_000,  # cache_read_input_tokens
        "output_tokens": 500 + 85_000 + 31_000,
        "reasoning_tokens": 0,
        "period": ("2025-08-01T00:00:00Z", "2025-08-02T00:00:00Z"),
        "models": {"claude-3-5-haiku": (None, 686_000), "claude-sonnet-4": (None, 3_200 + 182_000)},
        "key": "workspace_id",
        "keys": {"wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ": 3_200 + 686_000, None: 182_000},
        "unmapped": {},
        "skipped": None,
    },
    "litellm-spend-logs.csv": {
        "format": "litellm-spend-logs",
        "rows": 3,  # 5 rows: an embedding and a failed request are not estimated (counted under skipped)
        "requests": 3,
        "input_tokens": 1_400 + 4_100 + 9_000,
        "cached_input_tokens": 1_024 + 0 + 6_000,  # metadata.usage_object.prompt_tokens_details.cached_tokens
        "output_tokens": 220 + 1_350 + 810,
        "reasoning_tokens": 0 + 896,  # completion_tokens_details.reasoning_tokens
        "period": ("2025-06-02T09:14:03Z", "2025-06-03T14:30:12Z"),
        "models": {"claude-sonnet-4": (1, 9_000), "gpt-4o-mini": (1, 1_400), "o3-mini": (1, 4_100)},
        "key": "team_id",
        "keys": {"team-research": 9_000, "team-support": 1_400 + 4_100},
        "unmapped": {},
        "skipped": {"call_type aembedding (not text generation)": 1, "failed requests (no tokens generated)": 1},
    },
    "otel-genai-spans.json": {
        "format": "otel-genai",
        "rows": 3,  # 6 spans: an embedding, an agent's span (its chat spans carry the tokens) and an HTTP span are not estimated
        "requests": 3,
        "input_tokens": 1_200 + 2_000 + 5_000,
        "cached_input_tokens": 800 + 0 + 3_000,  # gen_ai.usage.cache_read.input_tokens
        "output_tokens": 300 + 1_500 + 700,
        "reasoning_tokens": 1_100,  # gen_ai.usage.reasoning.output_tokens
        "period": ("2025-06-02T10:00:00Z", "2025-06-03T08:30:00Z"),  # startTimeUnixNano 1748858400e9, 1748939400e9
        "models": {"claude-sonnet-4": (1, 5_000), "gpt-4o-mini": (1, 1_200), "o3-mini": (1, 2_000)},
        "key": "provider",  # gen_ai.provider.name, or gen_ai.system where it is absent
        "keys": {"anthropic": 5_000, "openai": 1_200 + 2_000},
        "unmapped": {"gen_ai.usage.cost": 1},
        "skipped": {
            "spans of operation embeddings": 1,
            "spans of operation invoke_agent": 1,
            "spans without GenAI token usage (no gen_ai.operation.name)": 1,
        },
    },
}
EXPECTED["litellm-spend-logs.json"] = {**EXPECTED["litellm-spend-logs.csv"]}


def check_answer(result: dict, expected: dict) -> None:
    """The totals, period, models and fields of an answer grouped by model."""
    totals = result["totals"]
    assert result["format"] == expected["format"]
    assert result["rows"] == expected["rows"]
    for name in ("requests", "input_tokens", "cached_input_tokens", "output_tokens", "reasoning_tokens"):
        assert totals[name] == expected[name], name
        assert totals[name] is None or type(totals[name]) is int, name  # exact sums, not floats
    assert (result["period"]["first"], result["period"]["last"]) == expected["period"]
    assert {group["model"]: (group["requests"], group["input_tokens"]) for group in result["groups"]} == expected["models"]
    assert result["fields"]["unmapped"] == expected["unmapped"]
    assert result.get("skipped") == expected["skipped"]
    assert list(result["methods"]) == ["model-aware"]  # every row names a model of the data pack
    assert 0 < totals["energy_kwh_min"] < totals["energy_kwh"] < totals["energy_kwh_max"]
    assert sum(group["energy_kwh"] for group in result["groups"]) == pytest.approx(totals["energy_kwh"], rel=1e-12)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_exact_totals_core(name):
    expected = EXPECTED[name]
    result = estimate_log(SAMPLES / name, CONFIG, group_by=["model"])
    check_answer(result, expected)
    by_key = estimate_log(SAMPLES / name, CONFIG, group_by=[expected["key"]])
    assert {group[expected["key"]]: group["input_tokens"] for group in by_key["groups"]} == expected["keys"]
    assert by_key["totals"]["input_tokens"] == expected["input_tokens"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_cli_and_api_same_answer(name, capsys):
    """``main(argv)`` and ``POST /batch`` (multipart upload, format recognised from the content) give the core's answer."""
    assert interface.main(["batch", str(SAMPLES / name), "--group-by", "model", "--json", "--quiet"]) == 0
    cli = json.loads(capsys.readouterr().out)
    check_answer(cli, EXPECTED[name])
    with open(SAMPLES / name, "rb") as handle:
        response = client.post("/batch", params={"group_by": "model"}, files={"file": (name, handle)})
    assert response.status_code == 200, response.text
    assert response.json() == cli


def test_cli_text_names_the_convention_and_the_skipped_rows(capsys):
    assert interface.main(["batch", str(SAMPLES / "otel-genai-spans.json"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "(otel-genai, method 'auto'" in out
    assert "requests   3 in 3 rows: 8,200 tokens in (3,800 cached), 2,500 out (1,100 reasoning)" in out
    assert "warning    field 'gen_ai.usage.cost': not known to this reader, not used (1 spans carry it)" in out
    assert "warning    not estimated: 1 span of operation embeddings" in out
    assert interface.main(["batch", str(SAMPLES / "anthropic-usage-messages.json"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "requests not counted by the export in 3 rows: 871,200 tokens in (530,200 cached), 116,500 out (0 reasoning)" in out
    assert "server_tool_use: 13 web search requests, not estimated" in out


def test_anthropic_assumed_requests_are_said():
    """Anthropic's report does not count requests: each row is taken as answers of 500 output tokens (config), said in a
    warning; requests stay null everywhere, per request too."""
    result = estimate_log(SAMPLES / "anthropic-usage-messages.json", CONFIG)
    assumed = 1 + 85_000 // 500 + 31_000 // 500  # ceil(500 / 500), ceil(85,000 / 500), ceil(31,000 / 500)
    assert any(f"answers of 500 output tokens ({assumed:,} requests in all" in warning for warning in result["warnings"])
    assert result["totals"]["requests"] is None and result["per_request"] is None and result["methods"] == {"model-aware": None}


def test_providers_keys_group_by_and_text_values():
    """OpenAI's batch flag is a grouping key (its JSON booleans read as text), with month."""
    result = estimate_log(SAMPLES / "openai-usage-completions.json", CONFIG, group_by=["month", "batch"])
    assert [(group["month"], group["batch"], group["requests"]) for group in result["groups"]] == [("2025-04", "false", 310), ("2025-04", "true", 1000)]
    litellm = estimate_log(SAMPLES / "litellm-spend-logs.csv", CONFIG, group_by=["provider", "user_id"])
    assert [(group["provider"], group["user_id"], group["input_tokens"]) for group in litellm["groups"]] == [
        ("anthropic", "alice", 9_000),
        ("openai", "alice", 1_400),
        ("openai", "bob", 4_100),
    ]
    otel = estimate_log(SAMPLES / "otel-genai-spans.json", CONFIG, group_by=["service"])
    assert [(group["service"], group["requests"]) for group in otel["groups"]] == [("support-assistant", 3)]


# --- conventions -----------------------------------------------------------------------------------


def test_anthropic_input_is_the_sum_of_its_parts(tmp_path):
    """Anthropic's uncached_input_tokens exclude the cache: input = uncached + cache read + both cache writes."""
    page = {
        "data": [
            {
                "starting_at": "2025-08-01T00:00:00Z",
                "ending_at": "2025-08-02T00:00:00Z",
                "results": [
                    {
                        "uncached_input_tokens": 11,
                        "cache_read_input_tokens": 300,
                        "cache_creation": {"ephemeral_5m_input_tokens": 5_000, "ephemeral_1h_input_tokens": 70_000},
                        "output_tokens": 900,
                        "model": "claude-sonnet-4-20250514",
                    }
                ],
            }
        ]
    }
    path = tmp_path / "usage.json"
    path.write_text(json.dumps(page))
    totals = estimate_log(path, CONFIG)["totals"]
    assert (totals["input_tokens"], totals["cached_input_tokens"], totals["output_tokens"]) == (11 + 300 + 5_000 + 70_000, 300, 900)
    assert len(ANTHROPIC_PARTS) == 4


def test_openai_input_includes_cached_and_reasoning_is_part_of_output(tmp_path):
    """OpenAI's input_tokens already include input_cached_tokens (taken as they are); LiteLLM and OpenTelemetry give reasoning
    tokens as part of the output tokens (taken as they are; more reasoning than output is an error, below)."""
    result = estimate_log(SAMPLES / "openai-usage-completions.json", CONFIG)
    assert result["totals"]["input_tokens"] == 1_688_500 and result["totals"]["cached_input_tokens"] == 162_000
    assert "input_tokens include the cached ones" in result["token_convention"]
    otel = estimate_log(SAMPLES / "otel-genai-spans.json", CONFIG)
    assert otel["totals"]["reasoning_tokens"] <= otel["totals"]["output_tokens"]
    assert 0 < otel["totals"]["reasoning_energy_kwh"] < otel["totals"]["energy_kwh"]


def test_every_field_of_the_samples_is_mapped_not_used_or_unmapped():
    """Nothing silently dropped: each field of a LiteLLM CSV header is mapped, listed as not used (with why), or reported."""
    header = (SAMPLES / "litellm-spend-logs.csv").read_text().splitlines()[0].split(",")
    fields = estimate_log(SAMPLES / "litellm-spend-logs.csv", CONFIG)["fields"]
    said = set(fields["mapped"].values()) | set(fields["not_used"]) | set(fields["unmapped"])
    said |= {part.split(".", 1)[0] for part in " or ".join(fields["mapped"].values()).split(" or ")}
    assert set(header) <= said, set(header) - said
    openai = estimate_log(SAMPLES / "openai-usage-completions.json", CONFIG)["fields"]
    assert {"has_more", "next_page", "data[].end_time", "data[].results[].input_audio_tokens"} <= set(openai["not_used"])


# --- fields the readers do not know ------------------------------------------------------------------


def openai_page() -> dict:
    return json.loads((SAMPLES / "openai-usage-completions.json").read_text())


def anthropic_page() -> dict:
    return json.loads((SAMPLES / "anthropic-usage-messages.json").read_text())


def test_unknown_fields_are_reported_with_counts(tmp_path, capsys):
    page = openai_page()
    page["data"][0]["results"][0]["input_video_tokens"] = 5
    page["data"][1]["results"][1]["input_video_tokens"] = 7
    page["data"][1]["priority"] = "high"
    openai = tmp_path / "openai.json"
    openai.write_text(json.dumps(page, indent=2))
    result = estimate_log(openai, CONFIG)
    assert result["fields"]["unmapped"] == {"data[].results[].input_video_tokens": 2, "data[].priority": 1}
    assert "field 'data[].results[].input_video_tokens': not known to this reader, not used (2 results or buckets carry it)" in result["warnings"]
    assert result["totals"]["input_tokens"] == 1_688_500  # still estimated: the known fields are enough

    report = anthropic_page()
    for bucket in report["data"]:
        for row in bucket["results"]:
            row["inference_geo"] = "us"
    report["data"][0]["results"][0]["cache_creation"]["ephemeral_24h_input_tokens"] = 1
    anthropic = tmp_path / "anthropic.json"
    anthropic.write_text(json.dumps(report))
    fields = estimate_log(anthropic, CONFIG)["fields"]
    assert fields["unmapped"] == {"data[].results[].inference_geo": 3, "data[].results[].cache_creation.ephemeral_24h_input_tokens": 1}

    lines = (SAMPLES / "litellm-spend-logs.csv").read_text().splitlines()
    extra = [lines[0] + ",my_label"] + [line + ("," + ("x" if index in (1, 4) else "")) for index, line in enumerate(lines[1:], start=1)]
    litellm = tmp_path / "spend.csv"
    litellm.write_text("\n".join(extra) + "\n")
    result = estimate_log(litellm, CONFIG)
    assert result["fields"]["unmapped"] == {"my_label": 2}  # rows carrying a value, skipped ones included
    assert result["totals"]["input_tokens"] == 14_500

    records = json.loads((SAMPLES / "litellm-spend-logs.json").read_text())
    records[0]["my_label"] = "x"
    spend = tmp_path / "spend.json"
    spend.write_text(json.dumps(records))
    assert estimate_log(spend, CONFIG)["fields"]["unmapped"] == {"my_label": 1}
    assert interface.main(["batch", str(spend), "--quiet"]) == 0
    assert "warning    field 'my_label': not known to this reader, not used (1 rows carry it)" in capsys.readouterr().out


# --- --format ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_format_forced_gives_the_same_answer(name, tmp_path, capsys):
    """--format NAME reads the file as that format, whatever its name (here: no extension)."""
    plain = tmp_path / "export"
    shutil.copy(SAMPLES / name, plain)
    detected = estimate_log(SAMPLES / name, CONFIG)
    fmt = EXPECTED[name]["format"]
    assert interface.main(["batch", str(plain), "--format", fmt, "--json", "--quiet"]) == 0
    forced = json.loads(capsys.readouterr().out)
    assert {**forced, "source": name} == detected


def test_format_forced_where_the_content_is_not_recognised(tmp_path, capsys):
    """A page whose "object" key comes after 64 KiB of buckets is not recognised; --format openai-usage reads it."""
    page = openai_page()
    bucket = page["data"][0]
    buckets = [copy.deepcopy(bucket) for _ in range(200)]  # ~ 150 KiB before "object"
    big = {"data": buckets, "has_more": False, "object": "page"}
    path = tmp_path / "late.txt"
    path.write_text(json.dumps(big, indent=1))
    assert interface.main(["batch", str(path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a known log format" in err
    assert interface.main(["batch", str(path), "--format", "openai-usage", "--json", "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["totals"]["requests"] == 200 * (120 + 40) and result["totals"]["input_tokens"] == 200 * (182_000 + 96_000)
    with open(path, "rb") as handle:
        response = client.post("/batch", params={"format": "openai-usage"}, files={"file": ("late.txt", handle)})
    assert response.status_code == 200 and response.json()["totals"] == result["totals"]


def test_wrong_format_forced_is_one_line(capsys):
    assert interface.main(["batch", str(SAMPLES / "anthropic-usage-messages.json"), "--format", "otel-genai", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nothing estimated" in err and "not an OTLP trace request (resourceSpans)" in err
    assert interface.main(["batch", str(SAMPLES / "openai-usage-completions.json"), "--format", "xlsx", "--quiet"]) == 2
    assert "invalid choice: 'xlsx'" in capsys.readouterr().err


# --- a file that looks like no known format -----------------------------------------------------------

FORMAT_NAMES = ("csv", "jsonl", "parquet", "openai-usage", "anthropic-usage", "litellm-spend-logs", "otel-genai")


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("export.json", '{"usage": [{"tokens": 5}]}', "JSON without an input_tokens field"),
        ("export.txt", "tokens;model\n5;gpt-4o\n", "the extension '.txt' is none of"),
        ("export", '{"object": "list", "data": []}', "the extension '' is none of"),
    ],
)
def test_unknown_format_lists_the_formats_tried(tmp_path, capsys, name, content, reason):
    path = tmp_path / name
    path.write_text(content)
    assert interface.main(["batch", str(path), "--quiet"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert f"{name}: not a known log format ({reason}" in err
    for fmt in FORMAT_NAMES:
        assert f"{fmt} (" in err, fmt  # each format tried, with what it needs
    assert 'openai-usage (JSON pages with "object": "page"' in err and "or give the format (--format, ?format=)" in err
    response = client.post("/batch", files={"file": (name, content.encode())})
    assert response.status_code == 422 and response.json()["code"] == "unknown-format"
    assert response.json()["detail"].startswith(f"{name}: not a known log format")  # the upload's own name
    raw = client.post("/batch", content=content.encode())
    assert raw.status_code == 422 and raw.json()["code"] == "unknown-format"


# --- bad tokens, by position, nothing estimated ---------------------------------------------------------


def bad_case(tmp_path, name: str, change) -> Path:
    """A copy of a sample with ``change(parsed)`` applied, written pretty-printed (one document) unless JSON Lines."""
    path = tmp_path / name
    source = SAMPLES / name
    if name.endswith(".jsonl"):
        pages = [json.loads(line) for line in source.read_text().splitlines()]
        change(pages)
        path.write_text("".join(json.dumps(page) + "\n" for page in pages))
    elif name.endswith(".csv"):
        path.write_text(change(source.read_text()))
    else:
        parsed = json.loads(source.read_text())
        change(parsed)
        path.write_text(json.dumps(parsed, indent=2))
    return path


def _set(path: str, value):
    """A change setting the item at ``path`` (keys and indices separated by /) to ``value``."""

    def change(doc):
        *parents, last = path.split("/")
        for part in parents:
            doc = doc[int(part)] if part.isdigit() else doc[part]
        doc[int(last) if last.isdigit() else last] = value

    return change


def _both(*changes):
    def change(doc):
        for one in changes:
            one(doc)

    return change


def _otel(span: int, key: str, value: dict, scope: int = 0):
    def change(doc):
        attributes = doc["resourceSpans"][0]["scopeSpans"][scope]["spans"][span]["attributes"]
        for attribute in attributes:
            if attribute["key"] == key:
                attribute["value"] = value
                return
        attributes.append({"key": key, "value": value})

    return change


BAD_CASES = [
    (
        "openai-usage-completions.json",
        _both(_set("data/0/results/1/input_tokens", -5), _set("data/1/results/0/output_tokens", 1.5)),
        "2 bad rows, nothing estimated: page 1, data[0].results[1]: input_tokens: below 0 (got -5) "
        "(allowed: an integer from 0 to 1,000,000,000,000,000,000); page 1, data[1].results[0]: output_tokens: not an integer (got 1.5)",
    ),
    (
        "openai-usage-completions.json",
        _set("data/1/results/1/input_cached_tokens", 2_000_000),
        "1 bad row, nothing estimated: page 1, data[1].results[1]: input_cached_tokens: 2,000,000 above input_tokens (1,200,000) "
        "(allowed: from 0 to input_tokens (cached input tokens are part of the input tokens))",
    ),
    (
        "openai-usage-completions.json",
        _set("data/0/results/0/num_model_requests", "many"),
        "1 bad row, nothing estimated: page 1, data[0].results[0]: num_model_requests: not a number (got 'many')",
    ),
    (
        "openai-usage-completions.jsonl",
        _set("1/data/0/results/0/input_tokens", -1),
        "1 bad row, nothing estimated: line 2, data[0].results[0]: input_tokens: below 0 (got -1)",
    ),
    (
        "anthropic-usage-messages.json",
        _both(_set("data/0/results/1/output_tokens", "many"), _set("data/1/results/0/cache_creation/ephemeral_1h_input_tokens", -3)),
        "2 bad rows, nothing estimated: page 1, data[0].results[1]: output_tokens: not a number (got 'many') "
        "(allowed: an integer from 0 to 1,000,000,000,000,000,000); page 1, data[1].results[0]: "
        "uncached_input_tokens + cache_read_input_tokens + cache_creation: below 0 (got -3)",
    ),
    (
        "litellm-spend-logs.csv",
        lambda text: text.replace(",1400,220,", ",1400,-220,").replace('cached_tokens"": 0}', 'cached_tokens"": 9999}'),
        "2 bad rows, nothing estimated: line 2: completion_tokens: below 0 (got -220) (allowed: an integer from 0 to 1,000,000,000,000,000,000); "
        "line 3: metadata.usage_object cached tokens: 9,999 above prompt_tokens (4,100)",
    ),
    (
        "litellm-spend-logs.json",
        _both(_set("1/prompt_tokens", 1.5), _set("2/metadata/usage_object/prompt_tokens_details/cached_tokens", 99_999)),
        "2 bad rows, nothing estimated: record 2: prompt_tokens: not an integer (got 1.5) (allowed: an integer from 0 to 1,000,000,000,000,000,000); "
        "record 3: metadata.usage_object cached tokens: 99,999 above prompt_tokens (9,000)",
    ),
    (
        "otel-genai-spans.json",
        _otel(1, "gen_ai.usage.reasoning.output_tokens", {"stringValue": "2000"}),
        "1 bad row, nothing estimated: document 1, resourceSpans[0].scopeSpans[0].spans[1]: gen_ai.usage.reasoning.output_tokens: 2,000 above "
        "gen_ai.usage.output_tokens (1,500) (allowed: from 0 to gen_ai.usage.output_tokens (reasoning tokens are part of the output tokens))",
    ),
    (
        "otel-genai-spans.json",
        _otel(0, "gen_ai.usage.input_tokens", {"intValue": "-12"}),
        "1 bad row, nothing estimated: document 1, resourceSpans[0].scopeSpans[0].spans[0]: gen_ai.usage.input_tokens: below 0 (got -12)",
    ),
]


@pytest.mark.parametrize(("name", "change", "message"), BAD_CASES, ids=[f"{case[0]}-{index}" for index, case in enumerate(BAD_CASES)])
def test_bad_tokens_named_by_position_nothing_estimated(tmp_path, capsys, name, change, message):
    path = bad_case(tmp_path, name, change)
    assert interface.main(["batch", str(path), "--quiet"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert f"error: {name}: {message}" in err, err
    with open(path, "rb") as handle:
        response = client.post("/batch", files={"file": (name, handle)})
    assert response.status_code == 422 and response.json()["code"] == "bad-rows"
    assert message in response.json()["detail"]
    with pytest.raises(traitement.logs.BadRowsError, match="nothing estimated"):
        estimate_log(path, CONFIG)


def test_unknown_model_names_the_row_and_suggests_the_closest(tmp_path, capsys):
    path = bad_case(tmp_path, "openai-usage-completions.json", _set("data/1/results/0/model", "gpt-4o-minii"))
    assert interface.main(["batch", str(path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "1 bad row, nothing estimated: page 1, data[1].results[0]: model 'gpt-4o-minii' unknown (closest: gpt-4o-mini" in err
    spans = bad_case(tmp_path, "otel-genai-spans.json", _otel(0, "gen_ai.response.model", {"stringValue": "claude-sonet-4"}, scope=1))
    with open(spans, "rb") as handle:
        response = client.post("/batch", files={"file": ("spans.json", handle)})
    assert response.status_code == 422
    assert "document 1, resourceSpans[0].scopeSpans[1].spans[0]: model 'claude-sonet-4' unknown (closest: claude-sonnet-4" in response.json()["detail"]


def test_unknown_model_is_a_label_with_an_explicit_method():
    """With --method hardware every row gets the hardware preset's estimate; the model only labels it."""
    result = estimate_log(SAMPLES / "openai-usage-completions.json", CONFIG, method="hardware", group_by=["model"])
    assert list(result["methods"]) == ["hardware"] and [group["model"] for group in result["groups"]] == ["gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18"]


# --- the model column of a plain log drives its estimate ----------------------------------------------------


def test_model_column_changes_the_estimate(tmp_path):
    """The same tokens on llama-3.1-8b and llama-3.1-405b give different figures, the 405b's higher (they used to be equal)."""
    path = tmp_path / "log.csv"
    path.write_text("input_tokens,output_tokens,count,model\n2000,400,3,llama-3.1-8b\n2000,400,3,llama-3.1-405b\n")
    result = estimate_log(path, CONFIG, group_by=["model"])
    small, large = ({group["model"]: group for group in result["groups"]}[name] for name in ("llama-3.1-8b", "llama-3.1-405b"))
    assert (small["requests"], small["input_tokens"], small["output_tokens"]) == (large["requests"], large["input_tokens"], large["output_tokens"])
    for quantity in ("energy_kwh", "energy_kwh_min", "energy_kwh_max", "carbon_gco2eq", "water_l"):
        assert large[quantity] > small[quantity], quantity
    assert large["energy_kwh"] > 5 * small["energy_kwh"]


def test_model_group_equals_model_footprint(tmp_path):
    """A log group of one model is that model's model_footprint for the group's token sums, called directly."""
    path = tmp_path / "log.csv"
    path.write_text(
        "input_tokens,cached_input_tokens,output_tokens,reasoning_tokens,count,model\n"
        "2000,500,400,100,1,llama-3.1-70b\n"
        "12000,0,900,0,2,llama-3.1-70b\n"
        "800,200,300,300,3,Llama-3.1-70B\n"
    )
    group = estimate_log(path, CONFIG, group_by=["model"])["groups"][0]
    sums = {
        "input_tokens": 2000 + 12000 * 2 + 800 * 3,
        "output_tokens": 400 + 900 * 2 + 300 * 3,
        "count": 1 + 2 + 3,
        "cached_input_tokens": 500 + 0 + 200 * 3,
        "reasoning_tokens": 100 + 0 + 300 * 3,
    }
    assert (group["model"], group["requests"]) == ("llama-3.1-70b", 6)
    assert (group["input_tokens"], group["output_tokens"]) == (sums["input_tokens"], sums["output_tokens"])
    entry = traitement.reference.resolve_model("llama-3.1-70b")
    direct = dep.model_footprint(entry, traitement.site_from_config(CONFIG, "usa"), **sums, config=CONFIG, energy_model=load_energy_model()).columns
    energies = ("energy_kwh", "energy_kwh_min", "energy_kwh_max", "energy_gpu_kwh", "energy_it_kwh", "reasoning_energy_kwh")
    for name in (*energies, "carbon_gco2eq", "carbon_gco2eq_min", "carbon_gco2eq_max", "water_l", "water_l_max", "carbon_embodied_gco2eq"):
        assert group[name] == pytest.approx(float(np.asarray(direct[name])[0]), rel=1e-9), name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_dask_engine_same_answer(name):
    duck = estimate_log(SAMPLES / name, CONFIG, group_by=["model", "month"])
    dask = estimate_log(SAMPLES / name, CONFIG, group_by=["model", "month"], engine="dask")
    assert dask.pop("engine") == "dask" and duck.pop("engine") == "duckdb"
    assert dask == duck
