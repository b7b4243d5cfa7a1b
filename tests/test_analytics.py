"""Fluid Topics analytics: hand-computed days, invariants, malformed files, CLI, API, the real file when present."""

from __future__ import annotations

import importlib.util
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

import api
import interface
import traitement
from traitement import analytics
from traitement.config import CONFIG_DIR, PROJECT_DIR
from traitement.errors import ConfigError

SAMPLE = PROJECT_DIR / "data" / "sample-daily-analytics.yaml"
REAL_NAME = "2025-FluidTopics-daily-analytics.yaml"
REAL = next((path for path in (PROJECT_DIR / "data" / REAL_NAME, PROJECT_DIR.parent / "shared" / "data" / REAL_NAME) if path.is_file()), None)
needs_real = pytest.mark.skipif(REAL is None, reason="the partner's real analytics file is not present")

CONFIG = traitement.load_config()

# The default setup (config_model.yaml / config.yaml): h100 preset, usa grid, industry-average datacentre.
IT_W = {"central": 4 * 700 * 0.6 + 350 * 0.3, "low": 4 * 700 * 0.4 + 350 * 0.1, "high": 4 * 700 * 0.85 + 350 * 0.5}
PREFILL = {"central": 5000, "low": 10000, "high": 2000}
DECODE = {"central": 40, "low": 60, "high": 20}
BATCH = {"central": 32, "low": 96, "high": 16}
PUE = {"central": 1.57, "low": 1.08, "high": 2.0}
USA_G_PER_KWH = 383.6
# Tokens per request from the owner's sizes: central sizes at 4 chars/token; low = small sizes at 4; high = large sizes at 3.5.
CHATBOT_TOKENS = {"central": ((6.5 * 2500 + 450) / 4, 300 / 4), "low": ((3 * 2000 + 400) / 4, 200 / 4), "high": ((10 * 3000 + 500) / 3.5, 400 / 3.5)}
COMPLETION_TOKENS = {"central": ((2500 + 450) / 4, 300 / 4), "low": ((2000 + 400) / 4, 200 / 4), "high": ((3000 + 500) / 3.5, 400 / 3.5)}
TRANSLATION_TOKENS = {"central": (2500 / 4, 2500 / 3.5), "low": (2000 / 4, 2000 / 3.5), "high": (3000 / 3.5, 3000 / 3.5)}


def energy_kwh_by_hand(count: float, tokens: tuple[float, float], side: str) -> float:
    input_tokens, output_tokens = tokens
    duration_s = input_tokens / PREFILL[side] + output_tokens / DECODE[side]
    return count * IT_W[side] * duration_s / BATCH[side] / 3.6e6 * PUE[side]


def one_day(chatbots: int = 0, completions: int = 0, translations: int = 0, day: str = "2025-01-06") -> analytics.AnalyticsFile:
    series = {"chatbots": chatbots, "completions": completions, "translations": translations}
    genai = {name: [{"date": day, "count": count}] for name, count in series.items()}
    return analytics.AnalyticsFile.model_validate({"genai": {"description": "test", **genai}})


# --- hand-computed numbers ----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "counts", "tokens"),
    [
        ("10 chatbots", {"chatbots": 10}, CHATBOT_TOKENS),
        ("7 completions", {"completions": 7}, COMPLETION_TOKENS),
        ("3 translations", {"translations": 3}, TRANSLATION_TOKENS),
    ],
)
def test_one_day_by_hand(name, counts, tokens):
    result = traitement.analyse_analytics(CONFIG, one_day(**counts))
    total = result.total()
    count = next(iter(counts.values()))
    for side, suffix in (("central", ""), ("low", "_min"), ("high", "_max")):
        assert total[f"input_tokens{suffix}"] == pytest.approx(count * tokens[side][0], rel=1e-9), side
        assert total[f"output_tokens{suffix}"] == pytest.approx(count * tokens[side][1], rel=1e-9), side
        energy = energy_kwh_by_hand(count, tokens[side], side)
        assert total[f"energy_kwh{suffix}"] == pytest.approx(energy, rel=1e-9), side
        assert total[f"carbon_gco2eq{suffix}"] == pytest.approx(energy * USA_G_PER_KWH, rel=1e-9), side
    assert total["requests"] == count


def test_ten_chatbots_pinned_values():
    """The worked example of docs/analytics.md, to the last digit."""
    total = traitement.analyse_analytics(CONFIG, one_day(chatbots=10)).total()
    # 10 x 1785 W x (4175/5000 + 75/40) s / 32 / 3.6e6 x 1.57 = 6.592569010416667e-4 kWh
    assert total["energy_kwh"] == pytest.approx(6.592569010416667e-4, rel=1e-9)
    assert total["carbon_gco2eq"] == pytest.approx(6.592569010416667e-4 * 383.6, rel=1e-9)
    assert total["input_tokens"] == pytest.approx(41750, rel=1e-9)
    assert total["output_tokens"] == pytest.approx(750, rel=1e-9)


def test_per_request_matches_one_request_day():
    result = traitement.analyse_analytics(CONFIG, one_day(chatbots=1, completions=1, translations=1))
    by_profile = result.by_profile()
    for profile, row in result.per_request.items():
        assert row["energy_wh"] == pytest.approx(by_profile[profile]["energy_kwh"] * 1000, rel=1e-9)
        assert row["energy_wh_min"] == pytest.approx(by_profile[profile]["energy_kwh_min"] * 1000, rel=1e-9)
        assert row["carbon_gco2eq_max"] == pytest.approx(by_profile[profile]["carbon_gco2eq_max"], rel=1e-9)


def test_overrides_are_exact_and_change_tokens():
    options = traitement.parse_options({"topic_chars": 1000, "translation_output_chars_per_token": 4, "chars_per_token": 4})
    total = traitement.analyse_analytics(CONFIG, one_day(translations=2), options).total()
    # translation: in = out = 1000 chars at 4 chars/token, no range left on the token counts
    for suffix in ("", "_min", "_max"):
        assert total[f"input_tokens{suffix}"] == pytest.approx(2 * 250, rel=1e-9)
        assert total[f"output_tokens{suffix}"] == pytest.approx(2 * 250, rel=1e-9)
    options = traitement.parse_options({"region": "france", "hardware": "a100", "pue": 1.2, "batch_size": 8})
    result = traitement.analyse_analytics(CONFIG, one_day(chatbots=10), options)
    assert result.assumptions["region"] == "FRA" and result.assumptions["hardware"] == "a100"
    assert result.total()["carbon_gco2eq"] == pytest.approx(result.total()["energy_kwh"] * 44.2, rel=1e-9)
    assert result.total()["energy_kwh_min"] < result.total()["energy_kwh"] < result.total()["energy_kwh_max"]  # other inputs keep their range
    a100 = 4 * 400 * 0.6 + 225 * 0.3
    expected = 10 * a100 * (CHATBOT_TOKENS["central"][0] / 1580 + CHATBOT_TOKENS["central"][1] / 24) / 8 / 3.6e6 * 1.2
    assert result.total()["energy_kwh"] == pytest.approx(expected, rel=1e-9)


# --- invariants ---------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_result():
    path, data = traitement.read_analytics(SAMPLE)
    return traitement.analyse_analytics(CONFIG, data, source=str(path))


def test_sample_period_and_missing_days(sample_result):
    assert sample_result.days == 91
    assert dict(sample_result.missing_days) == {"chatbot": 0, "completion": 0, "translation": 6}
    assert len(sample_result.daily) == 91 * 3
    assert int((~sample_result.daily["reported"]).sum()) == 6
    absent = sample_result.daily[~sample_result.daily["reported"]]
    assert set(absent["profile"]) == {"translation"} and (absent["requests"] == 0).all()
    assert any("6 of 91 days" in warning for warning in sample_result.warnings)


def test_total_is_sum_of_days_months_and_profiles(sample_result):
    total = sample_result.total()
    days = sample_result.daily_totals()
    months = sample_result.monthly_totals()
    monthly = sample_result.monthly
    profiles = sample_result.by_profile()
    assert months["days"].sum() == sample_result.days
    for name in analytics.SUMMED:
        assert days[name].sum() == pytest.approx(total[name], rel=1e-9), name
        assert months[name].sum() == pytest.approx(total[name], rel=1e-9), name
        assert monthly[name].sum() == pytest.approx(total[name], rel=1e-9), name
        assert sum(row[name] for row in profiles.values()) == pytest.approx(total[name], rel=1e-9), name
    shares = monthly.groupby("month")["carbon_share"].sum()
    assert np.allclose(shares.to_numpy(), 1.0, rtol=1e-12)
    year = sample_result.per_year()
    assert year["carbon_gco2eq"] == pytest.approx(total["carbon_gco2eq"] * 365 / 91, rel=1e-9)


def test_low_central_high_ordered_on_every_row(sample_result):
    daily = sample_result.daily
    for name in analytics.RANGED:
        assert (daily[f"{name}_min"] <= daily[name] * (1 + 1e-12)).all(), name
        assert (daily[name] <= daily[f"{name}_max"] * (1 + 1e-12)).all(), name
    total = sample_result.total()
    assert 0 < total["carbon_gco2eq_min"] < total["carbon_gco2eq"] < total["carbon_gco2eq_max"]


def test_linear_in_counts():
    _, data = traitement.read_analytics(SAMPLE)
    raw = data.model_dump(mode="json")
    for name in ("chatbots", "completions", "translations"):
        for entry in raw["genai"][name]:
            entry["count"] *= 3
    tripled = traitement.analyse_analytics(CONFIG, analytics.AnalyticsFile.model_validate(raw)).total()
    single = traitement.analyse_analytics(CONFIG, data).total()
    for name in analytics.SUMMED:
        assert tripled[name] == pytest.approx(3 * single[name], rel=1e-9), name


def test_more_topics_more_carbon():
    totals = [
        traitement.analyse_analytics(CONFIG, one_day(chatbots=5), traitement.parse_options({"chatbot_topics": n})).total()["carbon_gco2eq"]
        for n in (1, 3, 10, 50)
    ]
    assert totals == sorted(totals) and len(set(totals)) == 4


def test_context_sessions_and_content(sample_result):
    context = sample_result.context
    assert context["portals_total"] is None and context["portals_genai"] is None  # the sample says nothing of portals, nor does config
    assert "portals" in context["note"] and "213" not in context["note"]
    carbon = sample_result.total()["carbon_gco2eq"]
    assert context["carbon_gco2eq_per_1000_sessions"] == pytest.approx(carbon / context["sessions"] * 1000, rel=1e-9)
    assert context["carbon_gco2eq_per_1000_sessions_min"] < context["carbon_gco2eq_per_1000_sessions"] < context["carbon_gco2eq_per_1000_sessions_max"]
    assert set(context["content_stock_at_end"]) == set(analytics.CONTENT_SERIES)
    _, data = traitement.read_analytics(SAMPLE)
    topics = {entry.date.isoformat(): entry.count for entry in data.content.topics}
    assert context["content_stock_at_end"]["topics"] == topics["2025-05-04"]


def test_portal_counts_come_from_the_file_or_the_options():
    """The context's portal counts are the file's (a ``portals`` section) or the options', never a constant of config."""
    data = one_day(chatbots=5)
    assert traitement.analyse_analytics(CONFIG, data).context["portals_total"] is None
    with_file = data.model_copy(update={"portals": analytics.PortalsSection(total=40, genai=12)})
    context = traitement.analyse_analytics(CONFIG, with_file).context
    assert (context["portals_total"], context["portals_genai"]) == (40, 12)
    assert "cover 40 portals; 12 of them have the GenAI features" in context["note"]
    options = traitement.parse_options({"portals_total": "213", "portals_genai": "70"})
    context = traitement.analyse_analytics(CONFIG, with_file, options).context
    assert (context["portals_total"], context["portals_genai"]) == (213, 70)
    with pytest.raises(traitement.InvalidInputError, match=r"portals_genai: cannot exceed portals_total \(70 > 40\)"):
        traitement.analyse_analytics(CONFIG, with_file, traitement.parse_options({"portals_genai": "70"}))


def test_sensitivity_brackets_the_central_total(sample_result):
    _, data = traitement.read_analytics(SAMPLE)
    table = traitement.analytics_sensitivity(CONFIG, data)
    central = sample_result.total()["carbon_gco2eq"]
    assert table["total_central"].to_numpy() == pytest.approx(central, rel=1e-9)
    assert (table["total_low"] <= central * (1 + 1e-12)).all() and (table["total_high"] >= central * (1 - 1e-12)).all()
    widths = (table["total_high"] - table["total_low"]).to_list()
    assert widths == sorted(widths, reverse=True)
    assert {"topic_chars", "chatbot_topics", "output_chars", "batch_size", "pue"} <= set(table["assumption"])
    row = table.set_index("assumption").loc["topic_chars"]
    assert (row["low_value"], row["high_value"]) == (2000, 3000)
    # the combined range is wider than any single assumption's
    assert table["total_low"].min() >= sample_result.total()["carbon_gco2eq_min"]
    assert table["total_high"].max() <= sample_result.total()["carbon_gco2eq_max"]


def test_compare_regions_scales_with_intensity():
    _, data = traitement.read_analytics(SAMPLE)
    table = traitement.compare_regions(CONFIG, data, regions=["france", "usa", "poland"])
    assert list(table["region"]) == ["FRA", "USA", "POL"]
    energy = table["energy_kwh"].to_numpy()
    assert energy == pytest.approx(energy[0], rel=1e-12)
    assert table["carbon_gco2eq"].to_numpy() == pytest.approx(energy * table["carbon_intensity_gco2eq_per_kwh"].to_numpy(), rel=1e-9)


# --- the file: sample, generator, malformed files -----------------------------


def test_generator_reproduces_the_committed_sample(tmp_path):
    spec = importlib.util.spec_from_file_location("make_sample_analytics", PROJECT_DIR / "scripts" / "make_sample_analytics.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = module.write(tmp_path / "sample.yaml")
    assert out.read_bytes() == SAMPLE.read_bytes()


def test_default_file_is_the_sample_without_the_real_file(monkeypatch, tmp_path):
    monkeypatch.setattr(analytics, "REAL_FILE", tmp_path / "absent.yaml")
    assert traitement.default_analytics_path() == analytics.SAMPLE_FILE
    present = tmp_path / REAL_NAME
    present.write_text("x")
    monkeypatch.setattr(analytics, "REAL_FILE", present)
    assert traitement.default_analytics_path() == present


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return path


GOOD = """genai:
  description: test
  chatbots:
  - {date: '2025-01-06', count: 10}
  - {date: '2025-01-07', count: 12}
  completions: []
  translations:
  - {date: '2025-01-06', count: 1}
"""


@pytest.mark.parametrize(
    ("name", "old", "new", "expected"),
    [
        (
            "string count",
            "count: 12}",
            "count: '12'}",
            "genai.chatbots[1].count: must be an integer (got '12'); allowed: the day's count, an integer",
        ),
        ("float count", "count: 12}", "count: 12.5}", "genai.chatbots[1].count: must be an integer (got 12.5)"),
        ("boolean count", "count: 12}", "count: true}", "genai.chatbots[1].count: must be an integer (got True)"),
        ("negative count", "count: 12}", "count: -3}", "genai.chatbots[1].count: must be >= 0 (got -3)"),
        ("impossible date", "'2025-01-07'", "'2025-02-30'", "genai.chatbots[1].date: not a calendar date"),
        (
            "wrong date format",
            "'2025-01-07'",
            "'07/01/2025'",
            "genai.chatbots[1].date: a date written 'YYYY-MM-DD' is required (got '07/01/2025')",
        ),
        ("timestamp", "'2025-01-07'", "2025-01-07 10:00:00", "genai.chatbots[1].date: a date written 'YYYY-MM-DD' is required"),
        ("missing count", "{date: '2025-01-07', count: 12}", "{date: '2025-01-07'}", "genai.chatbots[1].count: a value is required"),
        ("unknown entry key", "count: 12}", "count: 12, views: 3}", "genai.chatbots[1].views: unknown field (got 3); allowed: one of date, count"),
        (
            "unknown series",
            "  completions: []",
            "  images: []\n  completions: []",
            "genai.images: unknown field; allowed: one of description, chatbots, completions, translations",
        ),
        ("unknown section", "genai:\n", "logs: []\ngenai:\n", "logs: unknown field; allowed: one of genai, session, content"),
        ("missing series", "  completions: []\n", "", "genai.completions: a value is required"),
        ("series not a list", "completions: []", "completions: 12", "genai.completions: must be a list (got 12)"),
        ("duplicated date", "'2025-01-07'", "'2025-01-06'", "genai.chatbots[1].date: duplicated date 2025-01-06 (also at [0])"),
        ("invalid YAML", "  completions: []", "  completions: [", "invalid YAML at line"),
    ],
)
def test_malformed_file_names_the_entry(tmp_path, name, old, new, expected):
    assert old in GOOD, name
    path = _file(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(traitement.AnalyticsFileError) as caught:
        traitement.read_analytics(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: "), message
    assert expected in message, message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "file: must be a mapping of field names to values (got None); allowed: the fields genai, session, content"),
        ("- 1\n- 2\n", "file: must be a mapping of field names to values; allowed: the fields genai, session, content"),
        ("session: {sessions: []}\n", "genai: a value is required"),
        ("genai: {chatbots: [], completions: [], translations: []}\n", "genai: no entries in chatbots, completions or translations"),
        (GOOD + "session:\n  sessions:\n  - {date: '2025-01-06', count: 5}\n  - {date: '2025-01-06', count: 6}\n", "session.sessions[1].date: duplicated date"),
    ],
)
def test_malformed_file_shapes(text, expected):
    with pytest.raises(traitement.AnalyticsFileError) as caught:
        traitement.parse_analytics(text, "f.yaml")
    assert str(caught.value).startswith("f.yaml: ") and expected in str(caught.value)


def test_good_file_parses_and_unquoted_dates_are_accepted():
    data = traitement.parse_analytics(GOOD.replace("'2025-01-07'", "2025-01-07"), "f.yaml")
    result = traitement.analyse_analytics(CONFIG, data)
    assert result.days == 2 and dict(result.missing_days) == {"chatbot": 0, "completion": 2, "translation": 1}
    assert result.context.get("sessions") is None


def test_config_analytics_section_is_validated(tmp_path):
    for name in ("config.yaml", "config_model.yaml"):
        shutil.copy(CONFIG_DIR / name, tmp_path / name)
    text = (tmp_path / "config_model.yaml").read_text()
    (tmp_path / "config_model.yaml").write_text(
        text.replace("topic_chars: {value: 2500, min: 2000, max: 3000}", "topic_chars: {value: 2500, min: -1, max: 3000}")
    )
    with pytest.raises(ConfigError, match=r"analytics.topic_chars: min must be > 0 \(got -1\)"):
        traitement.load_config(tmp_path)
    last = "  translation_output_chars_per_token: 3.5\n"
    (tmp_path / "config_model.yaml").write_text(text.replace(last, last + "  colour: blue\n"))
    with pytest.raises(ConfigError, match="analytics.colour: unknown field"):
        traitement.load_config(tmp_path)


# --- CLI ----------------------------------------------------------------------


def test_cli_json_matches_the_core(capsys, sample_result):
    assert interface.main(["analytics", str(SAMPLE), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["total"]["carbon_gco2eq"] == pytest.approx(sample_result.total()["carbon_gco2eq"], rel=1e-12)
    assert answer["missing_days"] == {"chatbot": 0, "completion": 0, "translation": 6}
    assert answer["period"] == {"start": "2025-02-03", "end": "2025-05-04", "days": 91}
    assert len(answer["daily"]) == 273 and answer["daily"][0]["date"] == "2025-02-03"
    assert [row["month"] for row in answer["monthly_totals"]] == ["2025-02", "2025-03", "2025-04", "2025-05"]


def test_cli_text_csv_and_plot(capsys, tmp_path):
    csv, png = tmp_path / "daily.csv", tmp_path / "chart.png"
    assert interface.main(["analytics", str(SAMPLE), "--region", "FRA", "--topic-chars", "3000", "--csv", str(csv), "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "region France (FRA, 44.2 gCO2e/kWh)" in out and "translation 6" in out and "topic_chars 3,000," in out
    assert "Per year (total x 365 / 91 days)" in out and "per 1,000 sessions" in out
    import pandas as pd

    table = pd.read_csv(csv)
    assert len(table) == 273 and {"date", "profile", "requests", "reported", "energy_kwh_min", "carbon_gco2eq_max"} <= set(table.columns)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000


@pytest.mark.parametrize(
    ("argv", "code", "expected"),
    [
        (["--topic-chars", "abc"], 2, "--topic-chars (topic_chars): must be a number (got 'abc')"),
        (["--chatbot-topics", "0"], 2, "--chatbot-topics (chatbot_topics): must be >= 1"),
        (["--chars-per-token", "-1"], 2, "--chars-per-token (chars_per_token)"),
        (["--region", "mars"], 2, "unknown region 'mars'"),
        (["--hardware", "abacus"], 2, "unknown hardware 'abacus'"),
        (["--frobnicate"], 2, "unrecognized arguments: --frobnicate"),
        (["--plot", "/nonexistent-dir/x.png"], 1, "--plot: cannot write /nonexistent-dir/x.png"),  # a failure, not a wrong call
    ],
)
def test_cli_bad_calls(capsys, argv, code, expected):
    assert interface.main(["analytics", str(SAMPLE), *argv]) == code
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1, err


def test_cli_bad_files(capsys, tmp_path):
    assert interface.main(["analytics", str(tmp_path / "absent.yaml")]) == 2
    assert "absent.yaml: file not found" in capsys.readouterr().err
    path = _file(tmp_path, GOOD.replace("count: 12}", "count: -1}"))
    assert interface.main(["analytics", str(path)]) == 2
    err = capsys.readouterr().err
    assert "genai.chatbots[1].count: must be >= 0" in err and err.count("\n") == 1


# --- API ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def client():
    return TestClient(api.app)


def test_api_same_answer_as_cli(client, capsys):
    response = client.post("/analytics", files={"file": ("sample.yaml", SAMPLE.read_bytes())}, params={"region": "germany", "chatbot_topics": 4})
    assert response.status_code == 200
    answer = response.json()
    assert interface.main(["analytics", str(SAMPLE), "--json", "--region", "germany", "--chatbot-topics", "4"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert answer["source"] == "sample.yaml"
    for key in ("total", "by_profile", "per_year", "monthly_totals", "daily", "missing_days", "per_request"):
        assert answer[key] == cli[key], key


def test_api_upload_too_large(client, monkeypatch):
    response = client.post("/analytics", files={"file": ("big.yaml", b"#" * (traitement.MAX_UPLOAD_BYTES + 100_000))})
    assert response.status_code == 413 and response.json()["code"] == "upload-too-large"
    # a file just over the limit passes the header check and is refused by the route
    response = client.post("/analytics", files={"file": ("big.yaml", b"#" * (traitement.MAX_UPLOAD_BYTES + 1))})
    assert response.status_code == 413 and "at most 5,242,880 bytes" in response.json()["detail"]


@pytest.mark.parametrize(
    ("files", "params", "status", "expected"),
    [
        (
            {"file": ("bad.yaml", GOOD.replace("count: 12}", "count: x}").encode())},
            {},
            422,
            "bad.yaml: genai.chatbots[1].count: must be an integer",
        ),
        ({"file": ("bad.yaml", b"genai: [")}, {}, 422, "bad.yaml: invalid YAML"),
        ({"file": ("bad.yaml", b"\xff\xfe\x00garbage")}, {}, 422, "bad.yaml: "),
        ({"file": ("ok.yaml", GOOD.encode())}, {"topic_chars": "-5"}, 422, "topic_chars: must be >= 1 (got -5); allowed: characters"),
        ({"file": ("ok.yaml", GOOD.encode())}, {"colour": "blue"}, 422, "colour: unknown field"),
        ({"file": ("ok.yaml", GOOD.encode())}, {"region": "mars"}, 404, "unknown region 'mars'"),
        (None, {}, 422, "file: a value is required"),
    ],
)
def test_api_bad_requests(client, files, params, status, expected):
    response = client.post("/analytics", files=files, params=params)
    assert response.status_code == status, response.text
    assert expected in response.json()["detail"]


# --- the real file, when present (never committed) ----------------------------


@needs_real
def test_real_file_days_and_totals():
    path, data = traitement.read_analytics(REAL)
    assert [len(getattr(data.genai, key)) for key in ("chatbots", "completions", "translations")] == [112, 112, 77]
    result = traitement.analyse_analytics(CONFIG, data, source=str(path))
    assert result.days == 112 and str(result.start) == "2025-08-12" and str(result.end) == "2025-12-01"
    assert dict(result.missing_days) == {"chatbot": 0, "completion": 0, "translation": 35}
    total = result.total()
    for name in analytics.SUMMED:
        assert math.isfinite(total[name]) and total[name] > 0, name
    assert total["carbon_gco2eq_min"] < total["carbon_gco2eq"] < total["carbon_gco2eq_max"]
    assert result.context["session_days_missing"] == 0 and result.context["sessions"] > 0


@needs_real
def test_real_file_through_cli_and_api(capsys, client):
    assert interface.main(["analytics", str(REAL), "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    response = client.post("/analytics", files={"file": (REAL_NAME, REAL.read_bytes())})
    assert response.status_code == 200 and response.json()["total"] == cli["total"]


def test_sample_has_the_real_schema():
    """The sample's keys are those DESIGN.md section 7 gives for the real file."""
    raw = yaml.safe_load(SAMPLE.read_text())
    assert list(raw) == ["genai", "session", "content"]
    assert list(raw["genai"]) == ["description", "chatbots", "completions", "translations"]
    assert list(raw["session"]) == ["description", "sessions"]
    assert list(raw["content"]) == ["description", *analytics.CONTENT_SERIES]
    assert raw["genai"]["chatbots"][0] == {"date": "2025-02-03", "count": raw["genai"]["chatbots"][0]["count"]}


@settings(max_examples=40, deadline=None)
@given(
    counts=st.tuples(*(st.integers(min_value=0, max_value=10**6) for _ in range(3))).filter(any),
    topic_chars=st.one_of(st.none(), st.floats(min_value=100, max_value=20_000)),
    chatbot_topics=st.one_of(st.none(), st.floats(min_value=1, max_value=50)),
    region=st.sampled_from(["usa", "france", "india"]),
)
def test_property_ranges_ordered_and_carbon_is_energy_times_intensity(counts, topic_chars, chatbot_topics, region):
    options = traitement.parse_options({"topic_chars": topic_chars, "chatbot_topics": chatbot_topics, "region": region})
    result = traitement.analyse_analytics(CONFIG, one_day(*counts), options)
    total = result.total()
    for name in analytics.RANGED:
        assert total[f"{name}_min"] <= total[name] * (1 + 1e-12) and total[name] <= total[f"{name}_max"] * (1 + 1e-12), name
    intensity = CONFIG.region(region)[1].carbon_intensity_gco2eq_per_kwh
    for suffix in ("", "_min", "_max"):
        assert total[f"carbon_gco2eq{suffix}"] == pytest.approx(total[f"energy_kwh{suffix}"] * intensity, rel=1e-9)
    assert total["requests"] == sum(counts)
