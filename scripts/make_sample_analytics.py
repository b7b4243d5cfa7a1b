"""Write data/sample-daily-analytics.yaml: a synthetic file with the schema of the Fluid Topics analytics.

    python scripts/make_sample_analytics.py            # rewrite data/sample-daily-analytics.yaml
    python scripts/make_sample_analytics.py OUT.yaml   # write elsewhere

The values are invented (seeded, reproducible byte for byte): weekday and
weekend patterns, a slow growth of use, a few days without translations
(absent from the series, as in the real file), sessions from an earlier start
and cumulative content stocks. Only the schema is taken from the real file
(../shared/DESIGN.md section 7); no value is.
"""

from __future__ import annotations

import random
import sys
from datetime import date, timedelta
from pathlib import Path

import yaml

SEED = 20250203
OUT = Path(__file__).resolve().parent.parent / "data" / "sample-daily-analytics.yaml"

GENAI_START = date(2025, 2, 3)  # a Monday
GENAI_DAYS = 91
CONTEXT_START = date(2024, 10, 1)
ABSENT_TRANSLATION_DAYS = 6

# Mean count on a weekday at the start of the period, growth over the period,
# and the weekend's share of a weekday (invented, plausible for a few dozen portals).
GENAI = {
    "chatbots": (420.0, 0.5, 0.15),
    "completions": (110.0, 0.3, 0.2),
    "translations": (35.0, 0.2, 0.1),
}


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def _daily_count(rng: random.Random, weekday_mean: float, weekend_share: float, day: date) -> int:
    mean = weekday_mean * (weekend_share if day.weekday() >= 5 else 1.0)
    return max(0, round(mean * (0.8 + 0.4 * rng.random())))


def build(seed: int = SEED) -> dict:
    """The whole file as a dict, from the seed."""
    rng = random.Random(seed)
    genai_days = _days(GENAI_START, GENAI_START + timedelta(days=GENAI_DAYS - 1))
    absent = set(rng.sample(range(GENAI_DAYS), ABSENT_TRANSLATION_DAYS))
    genai: dict = {"description": "Generative AI analytics data for each profile type (SYNTHETIC sample, seeded)."}
    for name, (base, growth, weekend_share) in GENAI.items():
        series = []
        for index, day in enumerate(genai_days):
            if name == "translations" and index in absent:
                continue
            weekday_mean = base * (1.0 + growth * index / (GENAI_DAYS - 1))
            series.append({"date": day.isoformat(), "count": _daily_count(rng, weekday_mean, weekend_share, day)})
        genai[name] = series

    context_days = _days(CONTEXT_START, genai_days[-1])
    sessions = [{"date": day.isoformat(), "count": _daily_count(rng, 30_000.0, 0.35, day)} for day in context_days]

    content: dict = {"description": "Content analytics data for each content type: cumulative stocks (SYNTHETIC sample, seeded)."}
    stocks = {"articles": (52_000, 40), "books": (1_900, 2), "topics": (610_000, 450), "unstructured_documents": (23_000, 15), "attachments": (8_500, 6)}
    for name, (start_stock, daily_growth) in stocks.items():
        stock, series = start_stock, []
        for day in context_days[3:]:  # content starts a few days after sessions, as in the real file
            stock += round(daily_growth * (2.0 * rng.random()) * (0.2 if day.weekday() >= 5 else 1.0))
            series.append({"date": day.isoformat(), "count": stock})
        content[name] = series

    return {
        "genai": genai,
        "session": {"description": "Session analytics data (SYNTHETIC sample, seeded).", "sessions": sessions},
        "content": content,
    }


def write(path: Path = OUT, seed: int = SEED) -> Path:
    text = yaml.safe_dump(build(seed), sort_keys=False, allow_unicode=True, width=120)
    path.write_text(text, encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
