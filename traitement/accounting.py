"""The accounting report: a period's totals in the shape a sustainability team files them.

``account_log(path, config, ...)`` estimates a request log or a provider's usage
export once (:func:`traitement.logs.estimate_log`, grouped by month, model and
the provider's keys where the file has them) and frames the answer
(:func:`build_report`):

* energy (kWh, facility: IT energy x PUE);
* emissions **location-based**: the estimate's carbon, facility energy x the
  grid-average intensity of each row's region (GHG Protocol Scope 2 Guidance,
  2015);
* emissions **market-based**: facility energy x a contractual factor the user
  supplies (gCO2e/kWh); without one the market-based figure is omitted and the
  report says why (never a default);
* the **embodied** share (hardware manufacturing) apart, never added into the
  operational figures;
* each group of rows classed ``api`` (scope 3, category 1: purchased goods and
  services) or ``self-hosted`` (scope 2; embodied under scope 3, category 2) by
  the rules of ``config/accounting.yaml``;
* lines per month, per model, per provider key and per class (``served``), each
  summing to the totals; every figure with its range, and the report's
  ``figures`` block with each figure's method, data-pack version and coverage;
* everyday equivalences (``config/equivalences.yaml``), labelled as illustrations.

The framing is arithmetic on the estimate's group sums (one pass per line over
a few groups, never per row); the only figure it computes is market-based
carbon, :func:`traitement.physics.carbon_gco2eq` with the user's factor. See
``docs/report.md``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from . import physics
from .base import INTEGER, Frozen, parse
from .config import Config, config_dir, read_yaml, validate_file
from .core import IntensityGPerKwh
from .errors import InvalidInputError, UnknownNameError, shown_number

ACCOUNTING_FILE = "accounting.yaml"
SERVED = ("api", "self-hosted")
"""How a group of rows is served: through a provider's API (a purchased service), or on one's own servers."""
Served = Literal["api", "self-hosted"]
DEFAULT_BY = ("month", "model")
"""The lines of a report when ``by`` is not given: per month and per model, then per provider key, where the file has them."""
CLASS_KEYS = ("model", "provider")
"""Columns the estimate is always grouped by when the file has them: the rules of ``served`` read them."""
TOTAL = "total"
SERVED_DIMENSION = "served"
MIXED = "mixed"
NONE = "none"

SCOPES: dict[str, tuple[str, str]] = {
    "api": (
        "scope 3, category 1 (purchased goods and services): the provider's electricity, bought as part of a service",
        "scope 3, category 1 (purchased goods and services): the provider's hardware, part of the service's cradle-to-gate emissions",
    ),
    "self-hosted": (
        "scope 2 (purchased electricity)",
        "scope 3, category 2 (capital goods): shown here as the share of the hardware's manufacturing used by these requests; "
        "category 2 reports a server's whole cradle-to-gate footprint in the year it is bought",
    ),
    MIXED: ("mixed: see the lines by served", "mixed: see the lines by served"),
    NONE: ("no rows", "no rows"),
}
"""The scope of a line's operational figures (energy, location- and market-based carbon) and of its embodied figure, by class."""
MARKET_LABEL = "market-based, contractual factor supplied by the user"
MARKET_OMITTED = (
    "market-based: omitted: no contractual emission factor was given (--market-factor-gco2eq-per-kwh, market_factor_gco2eq_per_kwh); "
    "the calculator has no default for it: give the factor of your supplier's contract, certificates or residual mix"
)
EMBODIED_APART = "carbon_embodied_gco2eq: the hardware's manufacturing share, reported apart: NOT included in the location-based or market-based figures"
ILLUSTRATIONS_NOTE = "illustrations, not measures: everyday amounts with the same carbon (location-based) or electricity, each with its basis and source"

Count = Annotated[int, Field(ge=0), INTEGER]


# --- the configuration ---------------------------------------------------------------------------


class Reference(Frozen):
    """A document the report's framing follows."""

    title: str
    publisher: str
    year: Annotated[int, Field(ge=1990, le=2100), INTEGER] = Field(description="year of publication, from 1990 to 2100")
    url: str
    used_for: str = Field(description="what the report takes from it")


class AccountingFile(Frozen):
    """``config/accounting.yaml``: the rules that class a group of rows as ``api`` or ``self-hosted``, and the references."""

    api_exports: tuple[str, ...] = Field(description="log formats that are a provider's own usage export (every row: api)")
    self_hosted_providers: tuple[str, ...] = Field(description="provider names of servers one runs oneself (lower case)")
    self_hosted_providers_source: str
    references: dict[str, Reference]


@lru_cache(maxsize=8)
def _load(path: Path) -> AccountingFile:
    return validate_file(AccountingFile, read_yaml(path), path)


def load_accounting(directory: Path | str | None = None) -> AccountingFile:
    """Read and validate ``accounting.yaml`` from the config folder (cached per path)."""
    return _load(Path(directory or config_dir()) / ACCOUNTING_FILE)


# --- the options, shared by the command line and the API ----------------------------------------


class ReportOptions(Frozen):
    """What a report is asked for, besides the file and the estimate's own options."""

    market_factor_gco2eq_per_kwh: IntensityGPerKwh | None = Field(
        None, description="contractual emission factor for the market-based figure, in gCO2e/kWh, from 0 to 2000; absent: no market-based figure"
    )
    by: tuple[str, ...] | None = Field(None, description="the dimensions of the report's lines (log grouping keys); default: month, model, provider keys")
    served: Served | None = Field(None, description="api or self-hosted for every row; default: from the file (see docs/report.md)")


def report_options(market_factor_gco2eq_per_kwh: Any = None, by: Any = None, served: Any = None) -> ReportOptions:
    """The options validated (one-line error naming the field); ``by`` as a list or comma-separated text, keys checked."""
    from .logs import GROUP_BY

    if isinstance(by, str):
        by = [by]
    if by is not None:
        keys: list[str] = []
        for item in by:
            for key in str(item).split(","):
                key = key.strip().lower()
                if not key:
                    continue
                if key not in GROUP_BY:
                    raise InvalidInputError(f"by: unknown key {key!r}; allowed: {', '.join(GROUP_BY)}", code="unknown-group-by")
                if key not in keys:
                    keys.append(key)
        if not keys:
            raise InvalidInputError(f"by: empty; allowed: one or more of {', '.join(GROUP_BY)}, comma-separated", code="unknown-group-by")
        by = keys
    pairs = (("market_factor_gco2eq_per_kwh", market_factor_gco2eq_per_kwh), ("by", by), ("served", served))
    given = {name: value for name, value in pairs if value is not None}
    return parse(ReportOptions, given)


# --- the report's schema -------------------------------------------------------------------------


class Figure(Frozen):
    """A figure and its range, in the unit its name in the line carries (``energy_kwh``: kWh)."""

    value: float
    min: float
    max: float


class FigureInfo(Frozen):
    """What one figure of every line is: its unit, label, method, data-pack version, what it covers and how it is computed."""

    unit: str
    label: str
    method: str
    data_pack_version: str
    covers: str
    basis: str


class ReportLine(Frozen):
    """The totals of one slice of the rows (a month, a model, a provider key's value, a class), or of all of them."""

    dimension: str = Field(description="total, served, or the grouping key (month, model, project_id...)")
    key: str | None = Field(description="the slice's value (2025-04, gpt-4o, api); null: rows without one")
    served: str = Field(description="api, self-hosted or mixed: how the slice's models are served")
    scope_operational: str = Field(description="GHG Protocol scope of energy_kwh and the location- and market-based carbon")
    scope_embodied: str = Field(description="GHG Protocol scope of carbon_embodied_gco2eq")
    requests: Count | None = Field(description="requests; null where the export does not count them")
    input_tokens: Count
    cached_input_tokens: Count
    output_tokens: Count
    reasoning_tokens: Count
    energy_kwh: Figure
    carbon_location_based_gco2eq: Figure
    carbon_market_based_gco2eq: Figure | None = Field(description="null: no contractual factor given (see market_based)")
    carbon_embodied_gco2eq: Figure


class Illustration(Frozen):
    """An everyday amount with the same carbon or electricity as the totals: an illustration, not a measure."""

    name: str
    illustrates: str = Field(description="the totals' figure it illustrates")
    amount: float
    amount_min: float
    amount_max: float
    result_unit: str
    label: str
    basis: str
    source: str
    url: str
    year: int


class Period(Frozen):
    first: str
    last: str


class Report(Frozen):
    """The accounting report of one file (``report --json``, ``POST /report``)."""

    title: str
    source: str
    format: str
    period: Period | None
    months: list[str]
    data_pack_version: str
    methods: dict[str, int | None]
    defaults: dict[str, str]
    defaults_used: dict[str, int]
    by: list[str]
    market_factor_gco2eq_per_kwh: float | None
    market_based: str
    embodied_in_totals: bool
    served_rule: str
    totals: ReportLine
    lines: list[ReportLine]
    figures: dict[str, FigureInfo]
    illustrations_note: str
    illustrations: list[Illustration]
    references: dict[str, Reference]
    token_convention: str | None
    notes: list[str]
    warnings: list[str]


FIGURES = ("energy_kwh", "carbon_location_based_gco2eq", "carbon_market_based_gco2eq", "carbon_embodied_gco2eq")
"""The figures of every line, in output order."""
_SOURCE_OF = {"energy_kwh": "energy_kwh", "carbon_location_based_gco2eq": "carbon_gco2eq", "carbon_embodied_gco2eq": "carbon_embodied_gco2eq"}
"""A report figure -> the estimate's column it is."""
INTEGERS = ("requests", "input_tokens", "cached_input_tokens", "output_tokens", "reasoning_tokens")


# --- the one entry point -------------------------------------------------------------------------


def account_log(
    path: str | os.PathLike,
    config: Config,
    *,
    options: ReportOptions | None = None,
    fmt: str | None = None,
    hardware: str | None = None,
    region: str | None = None,
    datacenter: str | None = None,
    method: str | None = None,
    source: str | None = None,
    limits: Any = None,
) -> Report:
    """The accounting report of a request log or usage export: one estimate (:func:`traitement.logs.estimate_log`),
    grouped by the report's dimensions plus the columns the ``served`` rules read, then :func:`build_report`.

    ``options.by`` None: per month and per model, then per provider key, where the file has them (a first look at
    the file's columns decides; :func:`file_columns`)."""
    from .logs import GROUP_BY, Limits, estimate_log
    from .logs.columns import KEY_COLUMNS, SITE_COLUMNS, TIME_COLUMN

    options = options or ReportOptions()
    limits = limits or Limits()
    name = source or Path(path).name
    present = file_columns(path, fmt, limits, name)
    notes: list[str] = []
    if options.by is None:
        wanted = [*DEFAULT_BY, *KEY_COLUMNS]
        by = [key for key in wanted if (TIME_COLUMN if key in ("day", "month") else key) in present]
        missing = [key for key in DEFAULT_BY if key not in by]
        if missing:
            notes.append(f"no lines per {' or per '.join(missing)}: the file has no {' and no '.join(TIME_COLUMN if k == 'month' else k for k in missing)}")
        defaulted = True
    else:
        by = list(options.by)
        for key in by:
            need = TIME_COLUMN if key in ("day", "month") else key
            if key not in SITE_COLUMNS and need not in present:
                raise InvalidInputError(f"by: {key}: the file {name} has no {need!r} field; allowed: keys the file gives", code="unknown-group-by")
        defaulted = False
    group_by = [*by, *(key for key in CLASS_KEYS if key in present and key not in by)]
    assert all(key in GROUP_BY for key in group_by)
    result = estimate_log(
        path, config, fmt=fmt, hardware=hardware, region=region, datacenter=datacenter, method=method, group_by=group_by, source=name, limits=limits
    )
    return build_report(result, options=options, by=by, drop_empty=defaulted, notes=notes, directory=config.directory)


def file_columns(path: str | os.PathLike, fmt: str | None, limits: Any, name: str) -> set[str]:
    """The log's canonical columns that hold a value: from the header, schema or export's mapping, or (JSON Lines) from
    one count over the rows. Errors are the estimate's own (missing file, unknown format...)."""
    import duckdb

    from .logs.engine import FORMAT_NAMES, connect
    from .logs.formats import MissingColumnError, Workdir, detect_format, not_a_known_format, open_source, unreadable

    given = fmt is not None
    fmt = detect_format(path, fmt, name=name)
    with Workdir() as workdir:
        con = connect(limits, workdir)
        try:
            src = open_source(Path(path), fmt, limits, con, workdir, name=name)
            if not src.dynamic_columns:
                return set(src.columns)
            scan = (src.fallback or src).scan  # the line-by-line reader: a bad line is left to the estimate to name
            columns = list(src.columns)
            counts = con.execute(f"SELECT {', '.join(f'count({column})' for column in columns)} FROM ({scan})").fetchone()
            return {column for column, count in zip(columns, counts or (), strict=False) if count}
        except MissingColumnError as error:
            if given:
                raise
            raise not_a_known_format(name, f"read as {fmt}: {str(error).removeprefix(name + ': ')}") from None
        except duckdb.Error as error:  # a file DuckDB cannot read as that format (not UTF-8 text...): one line, as the estimate's
            raise unreadable(name, FORMAT_NAMES.get(fmt, fmt), error) from None
        finally:
            con.close()


# --- from the estimate to the report -------------------------------------------------------------


def build_report(
    result: dict[str, Any],
    *,
    options: ReportOptions,
    by: Sequence[str],
    drop_empty: bool = False,
    notes: Sequence[str] = (),
    directory: Path | str | None = None,
) -> Report:
    """The report of an estimate (:func:`traitement.logs.estimate_log`'s answer, grouped by ``by`` and by the columns the
    ``served`` rules read). Lines per value of each key of ``by`` and per class; totals from the estimate's totals.

    ``drop_empty``: a key of ``by`` whose every group has no value is left out, with a note (the default ``by``)."""
    from .equivalences import equivalences, load_equivalences

    rules = load_accounting(directory)
    factor = options.market_factor_gco2eq_per_kwh
    groups = result["groups"] if result["group_by"] else [result["totals"]]
    classes, reasons = _classes(groups, result["format"], rules, options.served)
    notes = list(notes)
    dimensions = []
    for key in by:
        if drop_empty and all(group.get(key) is None for group in groups):
            notes.append(f"no lines per {key}: no row of the file gives one")
            continue
        dimensions.append(key)

    def line(dimension: str, key: Any, members: list[int], sums: dict[str, Any] | None = None) -> ReportLine:
        served = {classes[index] for index in members}
        cls = served.pop() if len(served) == 1 else MIXED if served else NONE
        rows = sums if sums is not None else _sum([groups[index] for index in members])
        operational, embodied = SCOPES[cls]
        return ReportLine(
            dimension=dimension,
            key=None if key is None else str(key),
            served=cls,
            scope_operational=operational,
            scope_embodied=embodied,
            **{name: rows[name] for name in INTEGERS},
            **_figures(rows, factor),
        )

    everyone = list(range(len(groups)))
    totals = line(TOTAL, "all", everyone, result["totals"])
    lines: list[ReportLine] = []
    for dimension in [*dimensions, SERVED_DIMENSION]:
        slices: dict[Any, list[int]] = {}
        for index, group in enumerate(groups):
            slices.setdefault(classes[index] if dimension == SERVED_DIMENSION else group.get(dimension), []).append(index)
        for key in sorted(slices, key=lambda value: (value is None, str(value))):
            lines.append(line(dimension, key, slices[key]))

    version = result["data_pack_version"]
    methods_used = ", ".join(result["methods"]) or result["method"]
    covers = result["covers_by_method"] or {result["method"]: result["covers"]}
    region = result["defaults"]["region"]

    def covered(column: str) -> str:
        texts = {name: about[column] for name, about in covers.items()}
        distinct = set(texts.values())
        return distinct.pop() if len(distinct) == 1 else "; ".join(f"{name}: {text}" for name, text in texts.items())

    figures = {
        "energy_kwh": FigureInfo(
            unit="kWh",
            label="energy, facility (IT energy x PUE)",
            method=methods_used,
            data_pack_version=version,
            covers=covered("energy_kwh"),
            basis="the estimate's facility energy of the requests (tokens x the method's physics, on the data pack's models and GPUs)",
        ),
        "carbon_location_based_gco2eq": FigureInfo(
            unit="gCO2e",
            label="emissions, location-based (grid average)",
            method=methods_used,
            data_pack_version=version,
            covers=covered("carbon_gco2eq") + "; filed under each line's scope_operational (scope 2, or scope 3 category 1 for api)",
            basis=f"energy_kwh x the grid-average intensity of each row's region (data pack {version}); rows without a region: {region}",
        ),
        "carbon_market_based_gco2eq": FigureInfo(
            unit="gCO2e",
            label=MARKET_LABEL,
            method=f"{methods_used}; x the contractual factor",
            data_pack_version=version,
            covers="facility energy x the contractual emission factor given; usage only",
            basis=MARKET_OMITTED if factor is None else f"energy_kwh x {shown_number(factor)} gCO2e/kWh, the contractual factor supplied by the user",
        ),
        "carbon_embodied_gco2eq": FigureInfo(
            unit="gCO2e",
            label="embodied emissions (hardware manufacturing share), apart",
            method=methods_used,
            data_pack_version=version,
            covers=covered("carbon_embodied_gco2eq"),
            basis="the share of the GPUs' and server's manufacturing footprint used by the requests (their time over the hardware's lifetime)",
        ),
    }
    table = load_equivalences(directory)
    t = result["totals"]
    sides = [equivalences(table, t[f"energy_kwh{s}"], t[f"carbon_gco2eq{s}"]) for s in ("", "_min", "_max")]
    illustrations = [
        Illustration(
            name=central["name"],
            illustrates="carbon_location_based_gco2eq" if central["quantity"] == "carbon_gco2eq" else "energy_kwh",
            amount=central["amount"],
            amount_min=low["amount"],
            amount_max=high["amount"],
            result_unit=central["result_unit"],
            label=central["label"],
            basis=central["basis"],
            source=central["source"],
            url=central["url"],
            year=central["year"],
        )
        for central, low, high in zip(*sides, strict=True)
    ]
    notes += [
        EMBODIED_APART,
        *("ranges (min, max): " + note.removeprefix("_min/_max: ") for note in result["notes"] if note.startswith("_min/_max: ")),
        "lines per key sum to the totals; a key's null value gathers the rows without one",
        *reasons,
    ]
    if result["defaults_used"].get("region"):
        notes.append(
            f"region: {result['defaults_used']['region']:,} rows give none and took {region} for the location-based figure: a provider's "
            "data centres are seldom named in its export; give --region (?region=) where the provider says where it serves you"
        )
    if factor is None:
        notes.append(MARKET_OMITTED)
    period = result["period"]
    return Report(
        title="GenAI accounting report",
        source=result["source"],
        format=result["format"],
        period=None if period is None else Period(**period),
        months=sorted({str(group["month"]) for group in groups if group.get("month") is not None}),
        data_pack_version=version,
        methods=result["methods"],
        defaults=result["defaults"],
        defaults_used=result["defaults_used"],
        by=dimensions,
        market_factor_gco2eq_per_kwh=factor,
        market_based=MARKET_OMITTED if factor is None else f"{MARKET_LABEL}: {shown_number(factor)} gCO2e/kWh",
        embodied_in_totals=False,
        served_rule=_served_rule(rules, options.served),
        totals=totals,
        lines=lines,
        figures=figures,
        illustrations_note=ILLUSTRATIONS_NOTE,
        illustrations=illustrations,
        references=rules.references,
        token_convention=result.get("token_convention"),
        notes=notes,
        warnings=list(result["warnings"]),
    )


def _figures(rows: dict[str, Any], factor: float | None) -> dict[str, Figure | None]:
    """The four figures of a line from its estimate sums; market-based = energy x factor at each side (None without a factor)."""
    out: dict[str, Figure | None] = {
        name: Figure(value=rows[column], min=rows[f"{column}_min"], max=rows[f"{column}_max"]) for name, column in _SOURCE_OF.items()
    }
    out["carbon_market_based_gco2eq"] = (
        None
        if factor is None
        else Figure(
            value=physics.carbon_gco2eq(rows["energy_kwh"], factor),
            min=physics.carbon_gco2eq(rows["energy_kwh_min"], factor),
            max=physics.carbon_gco2eq(rows["energy_kwh_max"], factor),
        )
    )
    return out


_SUMMED = (*INTEGERS, *(f"{column}{side}" for column in _SOURCE_OF.values() for side in ("", "_min", "_max")))


def _sum(groups: list[dict[str, Any]]) -> dict[str, Any]:
    """The sums of a slice's groups (requests stay None where the export does not count them)."""
    out: dict[str, Any] = {}
    for name in _SUMMED:
        values = [group[name] for group in groups]
        out[name] = None if any(value is None for value in values) else sum(values)
    return out


def _classes(groups: list[dict[str, Any]], fmt: str, rules: AccountingFile, forced: Served | None) -> tuple[list[str], list[str]]:
    """Each group's class (``api`` or ``self-hosted``) by the rules of ``config/accounting.yaml``, and a note per rule used."""
    from . import reference

    closed: dict[str, bool] = {}
    used: dict[str, int] = {}

    def rule(group: dict[str, Any]) -> tuple[str, str]:
        if forced is not None:
            return forced, f"served: {forced} for every row, as given"
        if fmt in rules.api_exports:
            return "api", f"served: api: {fmt} is the provider's own usage export (models used through its API)"
        provider = group.get("provider")
        if provider is not None:
            if str(provider).lower() in rules.self_hosted_providers:
                return "self-hosted", f"served: self-hosted: rows whose provider is a server one runs ({', '.join(rules.self_hosted_providers)})"
            return "api", "served: api: rows naming a provider other than a self-hosted server"
        model = group.get("model")
        if model is not None:
            if model not in closed:
                try:
                    closed[model] = reference.resolve_model(model).estimate
                except UnknownNameError:  # a label only (an explicit method): not a model of the data pack
                    closed[model] = False
            if closed[model]:
                return "api", "served: api: rows of a model whose weights are not published (used through its publisher's API)"
        return "self-hosted", "served: self-hosted: rows without a provider, of an open-weights model or none (say --served api if bought as a service)"

    classes = []
    for group in groups:
        cls, reason = rule(group)
        classes.append(cls)
        used[reason] = used.get(reason, 0) + 1
    return classes, list(used)


def _served_rule(rules: AccountingFile, forced: Served | None) -> str:
    if forced is not None:
        return f"every row: {forced}, as given"
    return (
        f"a provider's usage export ({', '.join(rules.api_exports)}): api; rows naming a provider: self-hosted for "
        f"{', '.join(rules.self_hosted_providers)} ({rules.self_hosted_providers_source}), api for any other; rows of a model whose weights "
        "are not published: api; other rows: self-hosted"
    )


# --- CSV -----------------------------------------------------------------------------------------

CSV_LEAD = ("dimension", "key", "served", "scope_operational", "scope_embodied", *INTEGERS)


def csv_columns() -> list[str]:
    """The CSV's columns: a line's labels and counts, each figure with its range and covers, the factor, method, data version."""
    figures = [f"{name}{side}" for name in FIGURES for side in ("", "_min", "_max")]
    return [*CSV_LEAD, *figures, "market_factor_gco2eq_per_kwh", "method", "data_pack_version", *(f"{name}_covers" for name in FIGURES)]


def report_csv(report: Report) -> str:
    """The report as CSV text: one row per line (the totals first), units in the column names; text cells made safe
    for a spreadsheet (:func:`traitement.export.safe_cell`)."""
    import csv
    import io

    from .export import safe_cell

    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=csv_columns(), lineterminator="\n")
    writer.writeheader()
    for line in (report.totals, *report.lines):
        row: dict[str, Any] = {name: getattr(line, name) for name in CSV_LEAD}
        for name in FIGURES:
            figure = getattr(line, name)
            for side, attribute in (("", "value"), ("_min", "min"), ("_max", "max")):
                row[f"{name}{side}"] = None if figure is None else getattr(figure, attribute)
            row[f"{name}_covers"] = report.figures[name].covers
        row["market_factor_gco2eq_per_kwh"] = report.market_factor_gco2eq_per_kwh
        row["method"] = report.figures["energy_kwh"].method
        row["data_pack_version"] = report.data_pack_version
        writer.writerow({name: safe_cell(value) if isinstance(value, str) else value for name, value in row.items()})
    return text.getvalue()


def write_report_csv(report: Report, path: str | Path, what: str = "output") -> None:
    """:func:`report_csv` written to exactly ``path``; a failed write is one line naming ``what`` (exit code 1)."""
    from .export import write_bytes

    write_bytes(path, report_csv(report).encode("utf-8"), what)
