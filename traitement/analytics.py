"""Fluid Topics daily analytics: daily counts of GenAI features -> tokens -> energy and carbon.

A Fluid Topics daily analytics export gives, per day, how many chatbot
conversations, completions and translations ran on the portals that have the
GenAI features, with the portals' sessions and content stocks for context. It
says nothing about request sizes: the assumptions of ``config_model.yaml`` turn
a count into characters, and characters into tokens::

    input_chars   translation = topic_chars
                  completion  = completion_topics x topic_chars + prompt_chars
                  chatbot     = chatbot_topics    x topic_chars + prompt_chars
    output_chars  translation = topic_chars, completion and chatbot = output_chars
    tokens        = chars / chars_per_token  (translation output: translation_output_chars_per_token)

The sizes are assumptions with ranges (``analytics:`` in ``config/config_model.yaml``).
Energy and carbon then come from :func:`traitement.footprint` over numpy
columns, three times: central (central sizes, central ``Modele`` and ``Site``),
low (every input at the bound that lowers energy) and high. Every formula is
monotone in its inputs, so low <= central <= high holds day by day.

numpy, pandas and matplotlib are imported inside the functions that need them,
so that ``import traitement`` stays fast for a one-off estimate.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from .base import INTEGER, NUMBER, Frozen, parse
from .config import Config, Uncertain, parse_yaml
from .core import Modele, Site, footprint
from .errors import ConfigError, InvalidInputError
from .files import read_bounded
from .methods import hardware
from .paths import DATA_DIR
from .physics import WH_PER_KWH
from .presets import modele_from_config, site_and_record
from .schemas import SetupOptions

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

PROFILES = ("chatbot", "completion", "translation")
"""The GenAI features, in the order used everywhere (tables, charts)."""
SERIES = {"chatbot": "chatbots", "completion": "completions", "translation": "translations"}
"""Profile -> its series in the file's ``genai`` section."""
CONTENT_SERIES = ("articles", "books", "topics", "unstructured_documents", "attachments")

REAL_FILE = DATA_DIR / "2025-FluidTopics-daily-analytics.yaml"
"""A real export placed in ``data/`` for local use: the default when present (never committed, never packaged)."""
SAMPLE_FILE = DATA_DIR / "sample-daily-analytics.yaml"
"""The project's synthetic sample of the same schema (``scripts/make_sample_analytics.py``)."""

MAX_DAILY_COUNT = 10**9
"""Largest count accepted for one day of one series."""
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
"""Largest analytics file read, by ``POST /analytics`` and by the ``analytics`` command (the real file of 2025 is 160 kB)."""
MAX_PERIOD_DAYS = 3660
"""Longest period of an analytics file, first to last GenAI day (about ten years): the work and the answer grow with
the days of the period, not with the entries (two entries 560 years apart made a 318 MB answer)."""
DAYS_PER_YEAR = 365.0

ASSUMPTIONS = (
    "topic_chars",
    "prompt_chars",
    "chatbot_topics",
    "completion_topics",
    "output_chars",
    "chars_per_token",
    "translation_output_chars_per_token",
)
"""The token assumptions, as named in ``config_model.yaml`` under ``analytics:``."""
_LOWERS_TOKENS = frozenset({"chars_per_token", "translation_output_chars_per_token"})
"""Assumptions whose growth lowers the token counts: the low case takes their maximum."""

QUANTITIES = ("energy_kwh", "carbon_gco2eq", "water_l", "carbon_embodied_gco2eq")
"""Footprint quantities carried per day, each with ``_min`` and ``_max`` columns."""
COVERS = {
    "requests": "GenAI requests counted in the file (chatbot conversations, completions, translations); absent days count as zero",
    "input_tokens": "characters read by the model (topics + prompt) / characters per token",
    "output_tokens": "characters written by the model / characters per token",
    **{name: hardware.COVERS[name] for name in QUANTITIES},
}
"""What each figure includes: the counts and tokens of the file, then the hardware method's footprint."""


class AnalyticsFileError(InvalidInputError):
    """The analytics file is unreadable or breaks the schema; the message names the entry."""

    code = "invalid-analytics-file"


# --- the file's schema -----------------------------------------------------------

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date(value: Any) -> dt.date:
    """A ``date`` from ``'YYYY-MM-DD'`` (or from YAML's unquoted date); anything else is an error."""
    if type(value) is dt.date:
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError as error:
            raise ValueError(f"not a calendar date ({error})") from None
    raise ValueError("a date written 'YYYY-MM-DD' is required")


class DailyCount(Frozen):
    """One entry of a series: ``{date: 'YYYY-MM-DD', count: N}``."""

    date: Annotated[dt.date, BeforeValidator(_iso_date)] = Field(description="the day, written 'YYYY-MM-DD'")
    count: Annotated[int, Field(strict=True, ge=0, le=MAX_DAILY_COUNT)] = Field(description=f"the day's count, an integer from 0 to {MAX_DAILY_COUNT:,}")


Series = Annotated[list[DailyCount], Field(max_length=MAX_PERIOD_DAYS)]
"""A series gives each day once, so it has at most as many entries as the longest period has days."""


class GenaiSection(Frozen):
    description: str = ""
    chatbots: Series
    completions: Series
    translations: Series


class SessionSection(Frozen):
    description: str = ""
    sessions: Series


class ContentSection(Frozen):
    """Cumulative stocks of content per day (not daily views)."""

    description: str = ""
    articles: Series = []
    books: Series = []
    topics: Series = []
    unstructured_documents: Series = []
    attachments: Series = []


PortalCount = Annotated[int, Field(ge=1, le=1_000_000), INTEGER]


class PortalsSection(Frozen):
    """How many portals the session and content series count, and how many of them have the GenAI features."""

    total: PortalCount = Field(description="portals counted by the session and content series, an integer from 1 to 1,000,000")
    genai: PortalCount = Field(description="portals with the GenAI features, an integer from 1 to 1,000,000, at most total")


class AnalyticsFile(Frozen):
    """The whole file: ``genai`` (required), ``session``, ``content`` and ``portals`` (context, optional)."""

    genai: GenaiSection
    session: SessionSection | None = None
    content: ContentSection | None = None
    portals: PortalsSection | None = None


def _check_dates(data: AnalyticsFile, source: str) -> None:
    """No series may give the same day twice; there must be GenAI data."""
    for section_name in ("genai", "session", "content"):
        section = getattr(data, section_name)
        if section is None:
            continue
        for series_name in type(section).model_fields:
            series = getattr(section, series_name)
            if not isinstance(series, list):
                continue
            seen: dict[dt.date, int] = {}
            for index, entry in enumerate(series):
                if entry.date in seen:
                    raise AnalyticsFileError(
                        f"{source}: {section_name}.{series_name}[{index}].date: duplicated date {entry.date.isoformat()} "
                        f"(also at [{seen[entry.date]}]); each day may appear once per series"
                    )
                seen[entry.date] = index
    if not any(getattr(data.genai, key) for key in SERIES.values()):
        raise AnalyticsFileError(f"{source}: genai: no entries in chatbots, completions or translations; nothing to estimate")
    days = [entry.date for key in SERIES.values() for entry in getattr(data.genai, key)]
    start, end = min(days), max(days)
    span = (end - start).days + 1
    if span > MAX_PERIOD_DAYS:
        raise AnalyticsFileError(
            f"{source}: genai: the period {start.isoformat()} to {end.isoformat()} spans {span:,} days; "
            f"allowed: at most {MAX_PERIOD_DAYS:,} days (about ten years)",
            code="period-too-long",
        )


def parse_analytics(text: str | bytes, source: str = "upload") -> AnalyticsFile:
    """Parse and validate the YAML text of an analytics file; errors name the entry."""
    raw = parse_yaml(text, source, AnalyticsFileError)
    data = parse(AnalyticsFile, raw, prefix=f"{source}: ", whole="file", error=AnalyticsFileError)
    _check_dates(data, source)
    return data


def read_analytics(path: Path | str | None = None) -> tuple[Path, AnalyticsFile]:
    """Read the file at ``path`` (default :func:`default_analytics_path`), at the edge."""
    path = Path(path) if path is not None else default_analytics_path()
    return path, parse_analytics(read_bounded(path, MAX_UPLOAD_BYTES, AnalyticsFileError), str(path))


def default_analytics_path() -> Path:
    """``data/2025-FluidTopics-daily-analytics.yaml`` where present, else the shipped sample."""
    return REAL_FILE if REAL_FILE.is_file() else SAMPLE_FILE


# --- options shared by the CLI and the API ----------------------------------------

_Chars = Annotated[float, Field(ge=1, le=1_000_000), NUMBER]
_CharsPerToken = Annotated[float, Field(ge=1, le=10), NUMBER]


class AnalyticsOptions(SetupOptions):
    """Site, hardware and size assumptions for an analytics estimate; unset = from config."""

    topic_chars: _Chars | None = Field(None, description="characters in one documentation topic, from 1 to 1,000,000; default from config (2,000-3,000)")
    prompt_chars: Annotated[float, Field(ge=0, le=1_000_000), NUMBER] | None = Field(
        None, description="characters in the user's prompt, from 0 to 1,000,000; default from config (400-500)"
    )
    chatbot_topics: Annotated[float, Field(ge=1, le=50), NUMBER] | None = Field(
        None, description="topics read by one chatbot conversation, from 1 to 50; default from config (3-10)"
    )
    output_chars: _Chars | None = Field(
        None, description="characters written by a completion or chatbot answer, from 1 to 1,000,000; default from config (200-400)"
    )
    chars_per_token: _CharsPerToken | None = Field(
        None, description="characters per token of topics, prompts and answers, from 1 to 10; default from config (3.5-4)"
    )
    translation_output_chars_per_token: _CharsPerToken | None = Field(
        None, description="characters per token of translated text, from 1 to 10; default from config (3.5: French, German, Spanish)"
    )
    portals_total: PortalCount | None = Field(
        None, description="portals counted by the file's session and content series, an integer from 1 to 1,000,000; default: the file's portals.total"
    )
    portals_genai: PortalCount | None = Field(
        None, description="portals with the GenAI features, an integer from 1 to 1,000,000, at most portals_total; default: the file's portals.genai"
    )


def parse_options(values: Mapping[str, Any]) -> AnalyticsOptions:
    """Validate options; a bad value raises a one-line :class:`InvalidInputError` naming the field."""
    return parse(AnalyticsOptions, {name: value for name, value in values.items() if value is not None})


# --- assumptions and tokens -------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    """Everything an analytics estimate depends on besides the counts."""

    hardware: str
    modele: Modele
    site: Site
    sizes: Mapping[str, Uncertain]
    record: Mapping[str, Any] = field(default_factory=dict)  # the region's figures' sources and years, the data pack's version
    notes: tuple[str, ...] = ()

    def sizes_at(self, side: Literal["low", "central", "high"]) -> dict[str, float]:
        """Each size assumption at its central value, or at the bound giving the fewest (most) tokens."""
        if side == "central":
            return {name: value.value for name, value in self.sizes.items()}
        low_side = side == "low"
        return {name: (value.high if (name in _LOWERS_TOKENS) == low_side else value.low) for name, value in self.sizes.items()}

    def at(self, side: Literal["low", "central", "high"]) -> tuple[Modele, Site, dict[str, float]]:
        if side == "central":
            return self.modele, self.site, self.sizes_at("central")
        return self.modele.at(side), self.site.at(side), self.sizes_at(side)


def build_setup(config: Config, options: AnalyticsOptions | None = None) -> Setup:
    """The serving setup, site and size assumptions from config, with the options' overrides (taken as exact)."""
    options = options or AnalyticsOptions()
    settings = config.model.analytics
    if settings is None:
        raise ConfigError(f"{config.directory / 'config_model.yaml'}: no 'analytics:' section (the size assumptions of the analytics)")
    hardware, modele = modele_from_config(config, options.hardware, batch_size=options.batch_size, gpu_utilisation=options.gpu_utilisation)
    site, record, notes = site_and_record(
        config, options.region, options.datacenter, pue=options.pue, carbon_intensity_gco2eq_per_kwh=options.carbon_intensity_gco2eq_per_kwh
    )
    sizes = {name: getattr(settings, name) for name in ASSUMPTIONS}
    for name in ASSUMPTIONS:
        override = getattr(options, name, None)
        if override is not None:
            sizes[name] = Uncertain(value=override)
    return Setup(hardware=hardware, modele=modele, site=site, sizes=sizes, record=record, notes=notes)


def tokens_per_request(sizes: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """(input_tokens, output_tokens) of one request of each profile, from the size assumptions.

    The data owner's explanations (DESIGN.md section 7). Values may be floats
    or numpy arrays; tokens are means, hence not rounded.
    """
    topic, prompt, per_token = sizes["topic_chars"], sizes["prompt_chars"], sizes["chars_per_token"]
    answer_tokens = sizes["output_chars"] / per_token
    return {
        "chatbot": ((sizes["chatbot_topics"] * topic + prompt) / per_token, answer_tokens),
        "completion": ((sizes["completion_topics"] * topic + prompt) / per_token, answer_tokens),
        "translation": (topic / per_token, topic / sizes["translation_output_chars_per_token"]),
    }


# --- the daily frame and the estimate ---------------------------------------------


def _series_frame(series: Series) -> pd.Series:
    import pandas as pd

    return pd.Series(
        [entry.count for entry in series],
        index=pd.DatetimeIndex([entry.date for entry in series], name="date"),
        dtype="int64",
    ).sort_index()


def daily_counts(data: AnalyticsFile) -> tuple[pd.DataFrame, dict[str, int]]:
    """Counts per day (rows) and profile (columns) over the GenAI period; absent days are 0.

    The period runs from the first to the last day present in any GenAI
    series. Returns the frame and, per profile, how many of its days were
    absent from the file.
    """
    counts, reported = _daily(data)
    return counts, {profile: int((~reported[profile]).sum()) for profile in PROFILES}


def _daily(data: AnalyticsFile) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counts (absent days 0) and whether each day was in the file, per day and profile."""
    import pandas as pd

    series = {profile: _series_frame(getattr(data.genai, key)) for profile, key in SERIES.items()}
    dates = pd.DatetimeIndex([]).append([s.index for s in series.values()])
    days = pd.date_range(dates.min(), dates.max(), freq="D", name="date")
    aligned = pd.DataFrame({profile: s.reindex(days) for profile, s in series.items()}, index=days)
    return aligned.fillna(0).astype("int64"), aligned.notna()


def _long_daily(counts: pd.DataFrame, reported: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (date, profile): date, month, profile, requests (and ``reported``)."""
    import pandas as pd

    long = counts.reset_index().melt(id_vars="date", var_name="profile", value_name="requests")
    if reported is not None:
        long["reported"] = reported.reset_index().melt(id_vars="date", var_name="profile", value_name="reported")["reported"].to_numpy()
    long["profile"] = pd.Categorical(long["profile"], categories=PROFILES)
    long = long.sort_values(["date", "profile"], kind="stable").reset_index(drop=True)
    long.insert(1, "month", long["date"].dt.strftime("%Y-%m"))
    return long


def _scenario(long: pd.DataFrame, modele: Modele, site: Site, sizes: Mapping[str, float]) -> dict[str, Any]:
    """Tokens and footprint of every row, in one vectorised :func:`footprint` call."""
    import numpy as np

    tokens = tokens_per_request(sizes)
    codes = long["profile"].cat.codes.to_numpy()
    input_per_request = np.array([tokens[p][0] for p in PROFILES], dtype=float)[codes]
    output_per_request = np.array([tokens[p][1] for p in PROFILES], dtype=float)[codes]
    requests = long["requests"].to_numpy(dtype=float)
    values = footprint(input_per_request, output_per_request, requests, modele, site)
    out = {"input_tokens": input_per_request * requests, "output_tokens": output_per_request * requests}
    out.update({name: values[name] for name in QUANTITIES})
    return out


RANGED = ("input_tokens", "output_tokens", *QUANTITIES)
"""Columns that carry ``_min`` and ``_max`` companions."""
SUMMED = ("requests", *(f"{name}{suffix}" for name in RANGED for suffix in ("", "_min", "_max")))


def _sums(frame: pd.DataFrame) -> dict[str, float]:
    return {name: float(frame[name].sum()) for name in SUMMED}


@dataclass(frozen=True)
class AnalyticsResult:
    """Footprint of a Fluid Topics analytics file: per day, per month, per profile and in total."""

    source: str
    daily: pd.DataFrame
    """One row per (date, profile): requests, tokens and footprint with ``_min``/``_max``; ``reported`` is False for absent days."""
    missing_days: Mapping[str, int]
    per_request: Mapping[str, Mapping[str, float]]
    context: Mapping[str, Any]
    assumptions: Mapping[str, Any]
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def days(self) -> int:
        return int(self.daily["date"].nunique())

    @property
    def start(self) -> dt.date:
        return self.daily["date"].min().date()

    @property
    def end(self) -> dt.date:
        return self.daily["date"].max().date()

    def daily_totals(self) -> pd.DataFrame:
        """One row per day, summed over the profiles."""
        return self.daily.groupby("date", as_index=False)[list(SUMMED)].sum()

    @property
    def monthly(self) -> pd.DataFrame:
        """One row per (month, profile), with ``days`` (days of the period in the month) and ``carbon_share`` of the month."""
        grouped = self.daily.groupby(["month", "profile"], as_index=False, observed=True)
        monthly = grouped[list(SUMMED)].sum()
        monthly.insert(2, "days", grouped["date"].nunique()["date"].to_numpy())
        month_carbon = monthly.groupby("month")["carbon_gco2eq"].transform("sum")
        monthly["carbon_share"] = (monthly["carbon_gco2eq"] / month_carbon.where(month_carbon > 0)).fillna(0.0)
        return monthly

    def monthly_totals(self) -> pd.DataFrame:
        """One row per month, summed over the profiles."""
        monthly = self.daily.groupby("month", as_index=False)
        totals = monthly[list(SUMMED)].sum()
        totals.insert(1, "days", monthly["date"].nunique()["date"].to_numpy())
        return totals

    def by_profile(self) -> dict[str, dict[str, float]]:
        return {profile: _sums(self.daily[self.daily["profile"] == profile]) for profile in PROFILES}

    def total(self) -> dict[str, float]:
        return _sums(self.daily)

    def per_year(self) -> dict[str, float]:
        """The totals annualised: total x 365 / days in the period (assumes the period is typical of the year)."""
        factor = DAYS_PER_YEAR / self.days
        total = self.total()
        return {name: value * factor for name, value in total.items()}

    def to_dict(self, daily: bool = True) -> dict[str, Any]:
        """The JSON shape shared by the CLI's ``--json`` and ``POST /analytics``."""
        out: dict[str, Any] = {
            "source": self.source,
            "period": {"start": self.start.isoformat(), "end": self.end.isoformat(), "days": self.days},
            "missing_days": dict(self.missing_days),
            "total": self.total(),
            "per_year": {"method": f"total x {DAYS_PER_YEAR:g} / {self.days} days", **self.per_year()},
            "by_profile": self.by_profile(),
            "per_request": {name: dict(values) for name, values in self.per_request.items()},
            "monthly_totals": _records(self.monthly_totals()),
            "monthly": _records(self.monthly),
            "context": dict(self.context),
            "assumptions": dict(self.assumptions),
            "covers": dict(COVERS),
            "warnings": list(self.warnings),
        }
        if daily:
            frame = self.daily.copy()
            frame["date"] = frame["date"].dt.strftime("%Y-%m-%d")
            out["daily"] = _records(frame)
        return out


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows: numpy scalars become Python numbers, categories strings."""
    rows = frame.astype({name: str for name in frame.columns if str(frame[name].dtype) == "category"}).to_dict(orient="records")
    return [{key: (value.item() if hasattr(value, "item") else value) for key, value in row.items()} for row in rows]


def _portals(data: AnalyticsFile, options: AnalyticsOptions | None) -> tuple[int | None, int | None]:
    """The portal counts: the options', else the file's ``portals`` section, else unknown (None)."""
    total = options.portals_total if options is not None and options.portals_total is not None else (data.portals.total if data.portals else None)
    genai = options.portals_genai if options is not None and options.portals_genai is not None else (data.portals.genai if data.portals else None)
    if total is not None and genai is not None and genai > total:
        raise InvalidInputError(f"portals_genai: cannot exceed portals_total ({genai:,} > {total:,}); allowed: at most the portals counted")
    return total, genai


def _context(data: AnalyticsFile, counts: pd.DataFrame, carbon: Mapping[str, float], requests: float, portals: tuple[int | None, int | None]) -> dict[str, Any]:
    """Sessions and content over the GenAI period: carbon per 1,000 sessions, portals (from the file or the options), content stocks."""
    total, genai = portals
    if total is not None and genai is not None:
        note = (
            f"sessions and content cover {total:,} portals; {genai:,} of them have the GenAI features, "
            "so per-session figures average the GenAI footprint over every portal's sessions"
        )
    else:
        note = (
            "per-session figures divide the GenAI footprint by every session of the file, including those of portals without the GenAI "
            "features (how many portals: the file's portals section, or the options portals_total and portals_genai)"
        )
    context: dict[str, Any] = {"portals_total": total, "portals_genai": genai, "note": note}
    if data.session is not None and data.session.sessions:
        sessions = _series_frame(data.session.sessions).reindex(counts.index)
        total_sessions = float(sessions.sum())
        context["sessions"] = total_sessions
        context["session_days_missing"] = int(sessions.isna().sum())
        if total_sessions > 0:
            for suffix in ("", "_min", "_max"):
                context[f"carbon_gco2eq_per_1000_sessions{suffix}"] = carbon[suffix] / total_sessions * 1000
            context["requests_per_1000_sessions"] = requests / total_sessions * 1000
    if data.content is not None:
        end = counts.index.max()
        stocks = {}
        for name in CONTENT_SERIES:
            series = _series_frame(getattr(data.content, name))
            series = series[series.index <= end]
            if len(series):
                stocks[name] = int(series.iloc[-1])
        context["content_stock_at_end"] = stocks
        context["content_note"] = "content series are cumulative stocks (items published), not daily views; attachments are never processed by GenAI"
    return context


def analyse_analytics(config: Config, data: AnalyticsFile, options: AnalyticsOptions | None = None, source: str = "upload") -> AnalyticsResult:
    """Requests, tokens, energy and carbon per day and profile, with low/central/high values."""
    setup = build_setup(config, options)
    counts, reported = _daily(data)
    missing = {profile: int((~reported[profile]).sum()) for profile in PROFILES}
    long = _long_daily(counts, reported)
    scenarios = {side: _scenario(long, *setup.at(side)) for side in ("central", "low", "high")}
    for name in RANGED:
        long[name] = scenarios["central"][name]
        long[f"{name}_min"] = scenarios["low"][name]
        long[f"{name}_max"] = scenarios["high"][name]

    per_request = _per_request(setup)
    carbon = {suffix: float(long[f"carbon_gco2eq{suffix}"].sum()) for suffix in ("", "_min", "_max")}
    context = _context(data, counts, carbon, float(long["requests"].sum()), _portals(data, options))
    warnings = [f"{SERIES[profile]}: {n} of {len(counts)} days absent from the file, counted as zero requests" for profile, n in missing.items() if n]
    warnings += setup.notes
    assumptions = {
        "hardware": setup.hardware,
        "region": setup.site.region,
        "datacenter": setup.site.datacenter,
        **setup.site.model_dump(exclude={"bounds", "region", "datacenter"}),
        **setup.modele.model_dump(exclude={"bounds"}),
        "sizes": {name: {"value": value.value, "min": value.low, "max": value.high} for name, value in setup.sizes.items()},
        "sizes_source": config.model.analytics.source if config.model.analytics else "",
        **setup.record,
    }
    return AnalyticsResult(
        source=source,
        daily=long,
        missing_days=missing,
        per_request=per_request,
        context=context,
        assumptions=assumptions,
        warnings=tuple(warnings),
    )


def _per_request(setup: Setup) -> dict[str, dict[str, float]]:
    """Tokens, energy (Wh) and carbon of ONE request of each profile, central and range."""
    out: dict[str, dict[str, float]] = {profile: {} for profile in PROFILES}
    sides: tuple[tuple[Literal["low", "central", "high"], str], ...] = (("central", ""), ("low", "_min"), ("high", "_max"))
    for side, suffix in sides:
        modele, site, sizes = setup.at(side)
        for profile, (input_tokens, output_tokens) in tokens_per_request(sizes).items():
            values = footprint(input_tokens, output_tokens, 1.0, modele, site)
            row = out[profile]
            row[f"input_tokens{suffix}"] = float(input_tokens)
            row[f"output_tokens{suffix}"] = float(output_tokens)
            row[f"energy_wh{suffix}"] = float(values["energy_kwh"]) * WH_PER_KWH
            row[f"carbon_gco2eq{suffix}"] = float(values["carbon_gco2eq"])
    return out


# --- what moves the total ---------------------------------------------------------


def analytics_sensitivity(config: Config, data: AnalyticsFile, options: AnalyticsOptions | None = None, quantity: str = "carbon_gco2eq") -> pd.DataFrame:
    """How far the total of ``quantity`` moves when one uncertain input goes to its low or high bound.

    Every other input stays central. One row per input that moves the total
    (for a tornado chart), widest first: ``assumption``, ``low_value`` and
    ``high_value`` (the input's bounds giving the lower and higher total),
    ``total_low``, ``total_central``, ``total_high``.
    """
    import pandas as pd

    if quantity not in QUANTITIES:
        raise InvalidInputError(f"quantity: unknown quantity {quantity!r}; allowed: {', '.join(QUANTITIES)}")
    setup = build_setup(config, options)
    long = _long_daily(_daily(data)[0])
    central_sizes = setup.sizes_at("central")

    def total(sizes: Mapping[str, float] = central_sizes, modele: Modele = setup.modele, site: Site = setup.site) -> float:
        """The file's total with the central setup, but ``sizes`` and the value objects given."""
        return float(_scenario(long, modele, site, sizes)[quantity].sum())

    central = total()
    low_sizes, high_sizes = setup.sizes_at("low"), setup.sizes_at("high")
    rows = []
    for name in ASSUMPTIONS:
        low_total = total({**central_sizes, name: low_sizes[name]})
        high_total = total({**central_sizes, name: high_sizes[name]})
        rows.append((name, low_sizes[name], high_sizes[name], low_total, high_total))
    for value_object in (setup.modele, setup.site):
        low_end, high_end = value_object.at("low"), value_object.at("high")
        for name in value_object.bounds:  # one uncertain field at a time, the others central
            low_value, high_value = getattr(low_end, name), getattr(high_end, name)
            ends = [value_object.model_copy(update={name: value}) for value in (low_value, high_value)]
            low_total, high_total = (total(modele=end) if isinstance(end, Modele) else total(site=end) for end in ends)
            rows.append((name, low_value, high_value, low_total, high_total))
    frame = pd.DataFrame(rows, columns=["assumption", "low_value", "high_value", "total_low", "total_high"])
    frame.insert(4, "total_central", central)
    frame = frame[frame["total_high"] - frame["total_low"] > 1e-12 * max(abs(central), 1.0)]
    frame = frame.assign(width=frame["total_high"] - frame["total_low"]).sort_values("width", ascending=False, kind="stable")
    return frame.drop(columns="width").reset_index(drop=True)


def compare_regions(config: Config, data: AnalyticsFile, options: AnalyticsOptions | None = None, regions: list[str] | None = None) -> pd.DataFrame:
    """Total energy and carbon of the file in each region (all of config's by default), lowest carbon first."""
    import pandas as pd

    options = options or AnalyticsOptions()
    rows = []
    for name in regions or list(config.site.defaults.compared_regions):
        result = analyse_analytics(config, data, options.model_copy(update={"region": name}))
        total = result.total()
        rows.append(
            {
                "region": result.assumptions["region"],
                "carbon_intensity_gco2eq_per_kwh": result.assumptions["carbon_intensity_gco2eq_per_kwh"],
                **{key: total[key] for key in ("energy_kwh", "carbon_gco2eq", "carbon_gco2eq_min", "carbon_gco2eq_max")},
            }
        )
    return pd.DataFrame(rows).sort_values("carbon_gco2eq", kind="stable").reset_index(drop=True)


# --- chart ------------------------------------------------------------------------


PLOT_FORMATS = ("png", "svg", "pdf", "jpg", "jpeg", "webp", "tif", "tiff", "eps", "ps")
"""Image formats the chart can be written in, named by the file's extension (all of them matplotlib's own)."""


def plot_bytes(result: AnalyticsResult, image_format: str = "png", dpi: int = 110) -> bytes:
    """:func:`plot_analytics` rendered in memory as ``image_format`` (one of :data:`PLOT_FORMATS`), for the caller to write."""
    import io

    if image_format not in PLOT_FORMATS:
        raise InvalidInputError(f"image_format: unknown image format {image_format!r}; allowed: {', '.join(PLOT_FORMATS)}")
    buffer = io.BytesIO()
    plot_analytics(result).savefig(buffer, format=image_format, dpi=dpi)
    return buffer.getvalue()


def plot_analytics(result: AnalyticsResult) -> Figure:
    """Daily carbon per profile (with the total's low-high band) above monthly carbon per profile.

    Builds a ``matplotlib.figure.Figure`` without pyplot, so no display
    backend is needed; the caller saves it (``fig.savefig("out.png")``).
    """
    import seaborn as sns
    from matplotlib.figure import Figure

    palette = dict(zip(PROFILES, sns.color_palette("colorblind", len(PROFILES)), strict=True))
    figure = Figure(figsize=(11, 8), layout="constrained")
    top, bottom = figure.subplots(2, 1, height_ratios=(3, 2))
    daily = result.daily
    for profile in PROFILES:
        rows = daily[daily["profile"] == profile]
        carbon_kg = (rows["carbon_gco2eq"] / 1000).where(rows["requests"] > 0)  # a gap, not a dive to -infinity, on days without requests
        top.plot(rows["date"], carbon_kg, color=palette[profile], linewidth=1.2, label=profile)
    totals = result.daily_totals()
    top.fill_between(
        totals["date"],
        totals["carbon_gco2eq_min"] / 1000,
        totals["carbon_gco2eq_max"] / 1000,
        color="grey",
        alpha=0.2,
        label="all profiles: low-high range",
    )
    top.plot(totals["date"], totals["carbon_gco2eq"] / 1000, color="black", linewidth=1.2, label="all profiles: central")
    region = result.assumptions["region"]
    top.set_title(
        f"GenAI carbon per day ({result.start} to {result.end}, {result.days} days): "
        f"{result.assumptions['hardware']}, {region} grid {result.assumptions['carbon_intensity_gco2eq_per_kwh']:g} gCO2e/kWh"
    )
    top.set_xlabel("")
    top.set_ylabel("kgCO2e per day (scope 2, log scale)")
    top.set_yscale("log")  # the low-high range spans more than a factor of 10: a linear axis would flatten the central lines
    top.legend(loc="lower left", fontsize="small", ncols=5)
    monthly = result.monthly.assign(carbon_kgco2eq=lambda f: f["carbon_gco2eq"] / 1000)
    monthly["month"] = monthly["month"] + " (" + monthly["days"].astype(str) + " d)"
    sns.barplot(data=monthly, x="month", y="carbon_kgco2eq", hue="profile", hue_order=PROFILES, palette=palette, ax=bottom)
    bottom.set_title("Carbon per month and profile (central; partial months show their day count)")
    bottom.set_xlabel("")
    bottom.set_ylabel("kgCO2e per month")
    bottom.legend(loc="upper left", fontsize="small")
    return figure
