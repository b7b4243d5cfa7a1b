"""From the summed tokens to the footprint: the physics applied once per distinct setup, and the answer's shape.

Rows that name a model of the data pack get that model's estimate (the
model-aware physics over an unknown deployment's ranges, :mod:`.models`): one
call of :func:`traitement.deployment.model_footprint` per (model, hardware
named, region, datacenter), vectorised over the groups. The other rows get
the hardware preset's method, as before:

The ``hardware`` method's busy time is ``count x (input_tokens / prefill +
output_tokens / decode)``, and every energy, carbon and water figure is that
time multiplied by constants of the setup and the site: the figures are
linear in the token sums of each setup. So :func:`report` calls
:func:`traitement.core.footprint` once per distinct (hardware, region,
datacenter) and side (central, low, high), over the arrays of that setup's
group sums. The ``seed-quadratic`` method's busy time is ``count x
(input_tokens^2 + output_tokens) / throughput``: linear in ``sum(count x
input_tokens^2)``, which the query sums too; footprint receives its square
root as ``input_tokens`` (footprint squares it back). An explicit ``method``
(``hardware``, ``seed-quadratic``) applies to every row, the model then being
a label.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Literal

from .. import methods, physics, reference
from ..config import Config
from ..core import footprint
from ..errors import InvalidInputError, UnknownNameError
from ..presets import modele_from_config, site_from_config
from .checks import CheckPlan
from .columns import GROUP_BY, KEY_COLUMNS, NAME_COLUMNS, TIME_KEYS, TOKEN_COLUMNS
from .engine import Settled
from .formats import Source
from .limits import CapError, setting
from .query import FIRST, LAST

AUTO = "auto"
"""The default method of a log: the model-aware estimate for rows with a model, the hardware preset's for the others."""
MODEL_AWARE = methods.model_aware.NAME
QUANTITIES = ("energy_gpu_kwh", "energy_cpu_kwh", "energy_it_kwh", "energy_kwh", "carbon_gco2eq", "water_l", "carbon_embodied_gco2eq")
SUMS = ("requests", *TOKEN_COLUMNS, *(f"{name}{suffix}" for name in QUANTITIES for suffix in ("", "_min", "_max")), "reasoning_energy_kwh")
"""The summed columns of every total and group, in output order."""
_INTEGERS = 1 + len(TOKEN_COLUMNS)
"""The exact integer sums at the head of SUMS: requests and the token columns."""
_REQUESTS, _INPUT, _OUTPUT, _REASONING, _SQUARED = 2, 3, 5, 6, 7
"""Positions of the sums in a settled cell's values (after rows and bad rows)."""
_SIDES: tuple[tuple[str, Literal["low", "high"] | None], ...] = (("", None), ("_min", "low"), ("_max", "high"))
FIRST_MOMENT = {methods.hardware.NAME: "input_tokens", methods.seed_quadratic.NAME: "input_tokens_squared"}
"""For each method offered on logs, the sum its busy time is linear in (with the output tokens): footprint runs on
that sum per setup and group. ``hardware``: input_tokens / prefill + output_tokens / decode. ``seed-quadratic``:
(input_tokens^2 + output_tokens) / throughput, so footprint gets the square root of the summed squares."""
NOTES = [
    "_min/_max: rows with a model: the unknown deployment's ranges (boards, GPU count, precision, batch), the model's size range, "
    "the fit's residual factor and the datacentre's ranges; other rows: every uncertain input of the hardware preset and datacentre "
    "at its low/high bound; token counts are taken as exact",
    "defaults_used: rows whose hardware, region or datacenter was empty or absent and took the default",
    "reasoning_energy_kwh: the energy the reasoning tokens cause, part of energy_kwh (their share of the output tokens x the decode's share of the time)",
]
HARDWARE_CACHED_NOTE = (
    "rows without a model: the hardware preset reads every input token at its prefill speed, cached ones included "
    "(a preset has no model, so no KV cache to read); give the rows a model to charge cached tokens their KV-cache read"
)


@dataclass
class Plan:
    """What a log estimate needs besides the rows: config, defaults, method, grouping; names resolved once."""

    config: Config
    hardware: str
    region: str
    datacenter: str
    method: str = AUTO
    group_by: tuple[str, ...] = ()
    datacenter_given: bool = False
    """A datacentre named by the caller; else a cloud region's rows take their provider's preset, not the default."""
    hardware_given: bool = False
    """A hardware preset named by the caller: rows with a model then run on its GPU board (else the deployment is unknown)."""
    totals: bool = False
    """The rows are a usage export's token sums (set from the source when it is opened)."""
    _names: dict[tuple[str, str], str | None] = field(default_factory=dict, repr=False)
    _known: dict[Any, str] = field(default_factory=dict, repr=False)
    _unknown_counts: dict[str, int] = field(default_factory=dict, repr=False)
    _setups: dict[tuple[str, str, str], Any] = field(default_factory=dict, repr=False)
    _sites: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)

    @property
    def time_keys(self) -> tuple[str, ...]:
        return tuple(key for key in self.group_by if key in TIME_KEYS)

    @property
    def keys(self) -> tuple[str, ...]:
        """The providers' keys grouped by (:data:`.columns.KEY_COLUMNS`), in grouping order."""
        return tuple(key for key in self.group_by if key in KEY_COLUMNS)

    @property
    def models_drive(self) -> bool:
        """Rows with a model get that model's estimate (the default); with an explicit method the model is a label."""
        return self.method == AUTO

    @property
    def row_method(self) -> str:
        """The method of the rows without a model."""
        return methods.hardware.NAME if self.method == AUTO else self.method

    def checks(self) -> CheckPlan:
        """What the row checks need from the plan: a timestamp is required when grouping by day or month."""
        return CheckPlan(time_required=bool(self.time_keys), time_keys=self.time_keys, keys=self.keys, totals=self.totals)

    def for_source(self, src: Source) -> Plan:
        """The plan for an opened source: its rows' shape (request log or usage export); a method the shape cannot feed is refused."""
        if src.totals and self.quadratic:
            raise InvalidInputError(
                f"method: {self.method!r} needs each request's input tokens (it squares them); {src.name} is a usage export whose rows are sums; "
                f"allowed: {AUTO}, {methods.hardware.NAME}",
                code="unknown-method",
            )
        self.totals = src.totals
        return self

    @property
    def quadratic(self) -> bool:
        """The method's busy time is linear in the input tokens squared (else in the input tokens)."""
        return FIRST_MOMENT[self.row_method] == "input_tokens_squared"

    @property
    def defaults(self) -> dict[str, str]:
        return {"hardware": self.hardware, "region": self.region, "datacenter": self.datacenter}

    @property
    def settle_defaults(self) -> dict[str, str | None]:
        """The defaults the sums' cells take: a row without hardware keeps none when models drive (a model's row then
        has its deployment unknown; a row without a model takes the default preset in :func:`report`)."""
        return {**self.defaults, "hardware": self.hardware if self.hardware_given or not self.models_drive else None}

    def resolve(self, column: str, name: str) -> str | None:
        """The name the config or the data pack gives ``name`` in ``column`` (case-insensitive; ISO codes for regions;
        a model's aliases and dated snapshots), or None if unknown. With an explicit method a model is a label."""
        if column == "model" and not self.models_drive:
            return name
        key = (column, name)
        if key not in self._names:
            look_up = getattr(self.config, "llm" if column == "model" else column)
            # The closest names for the first few unknown names of a column only: a message shows ten bad rows.
            suggest = self._unknown_counts.get(column, 0) < MAX_SUGGESTED_NAMES
            try:
                if suggest:
                    self._names[key] = look_up(name)[0]
                else:
                    with reference.without_suggestions():
                        self._names[key] = look_up(name)[0]
            except (UnknownNameError, InvalidInputError) as error:
                self._unknown_counts[column] = self._unknown_counts.get(column, 0) + 1
                self._names[key] = None
                self._known[key] = _hint(str(error), column)
                self._known.setdefault(column, self._known[key])
        return self._names[key]

    def hints(self) -> dict[Any, str]:
        """``(column, name)`` (and ``column``) -> the closest or the known names, for the messages about unknown names."""
        return dict(self._known)

    def site(self, region: str, datacenter: str) -> Any:
        """The ``Site`` of a region and datacentre (a cloud region takes its provider's preset unless one was named)."""
        key = (region, datacenter)
        if key not in self._sites:
            center = None if datacenter == self.datacenter and not self.datacenter_given else datacenter
            self._sites[key] = site_from_config(self.config, region, center)
        return self._sites[key]

    def setups(self, hardware: str, region: str, datacenter: str) -> dict[str | None, tuple[Any, Any]]:
        """``(Modele, Site)`` central and at each side, built once per combination."""
        key = (hardware, region, datacenter)
        if key not in self._setups:
            _, modele = modele_from_config(self.config, hardware)
            site = self.site(region, datacenter)
            self._setups[key] = {side: (modele, site) if side is None else (modele.at(side), site.at(side)) for _, side in _SIDES}
        return self._setups[key]


MAX_SUGGESTED_NAMES = 100
"""Unknown names of one column given their closest names (difflib, a few milliseconds each); the others say where the
known names are listed."""


def _hint(message: str, column: str) -> str:
    """What to tell about an unknown name, from the look-up's message: the closest names (data pack), the known ones
    (config presets), or what is allowed. The message itself ("unknown model 'x'") is not repeated."""
    if "; closest: " in message:
        return "closest: " + message.split("; closest: ", 1)[1]
    for lead in ("known: ", "allowed: "):
        if lead in message:
            return lead + message.rsplit(lead, 1)[1]
    rest = message.split(": ", 1)[-1]
    if rest.startswith("unknown ") and column in ("model", "region"):
        return f"allowed: a {column} of the data pack (python interface.py {column}s lists them)"
    return rest


def make_plan(
    config: Config,
    hardware: str | None = None,
    region: str | None = None,
    datacenter: str | None = None,
    method: str | None = None,
    group_by: Sequence[str] = (),
) -> Plan:
    """Check the defaults, method and grouping keys; raise a one-line error naming the bad one.

    ``method`` None (or ``auto``): rows with a model get the model-aware estimate, the others the hardware preset's;
    an explicit method (``hardware``, ``seed-quadratic``) applies to every row."""
    method = AUTO if method is None else method
    if method != AUTO:
        if method not in methods.names("batch"):
            allowed = ", ".join((AUTO, *methods.names("batch")))
            raise InvalidInputError(f"method: unknown method {method!r}; allowed: {allowed}", code="unknown-method")
        if method not in FIRST_MOMENT:
            raise InvalidInputError(f"method: {method!r} has no way to run on summed tokens yet; allowed: {', '.join(FIRST_MOMENT)}", code="unknown-method")
    keys: list[str] = []
    for key in group_by:
        key = key.strip().lower()
        if key not in GROUP_BY:
            raise InvalidInputError(f"group_by: unknown column {key!r}; allowed: {', '.join(GROUP_BY)}", code="unknown-group-by")
        if key not in keys:
            keys.append(key)
    return Plan(
        config=config,
        hardware=config.hardware(hardware)[0],
        region=config.region(region)[0],
        datacenter=config.datacenter(datacenter)[0],
        method=method,
        group_by=tuple(keys),
        datacenter_given=datacenter is not None,
        hardware_given=hardware is not None,
    )


def _utc(stamp: datetime) -> str:
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(timezone.utc).replace(tzinfo=None)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S") + "Z"


def report(settled: Settled, plan: Plan, max_groups: int, *, source: str, fmt: str, engine: str, info: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON shape shared by the CLI's ``--json`` and ``POST /batch``: totals and groups with ranges.

    ``info``: what the format says about the file (a usage export's token convention, whether it counts requests,
    the fields it did not map, the rows it did not estimate); added to the answer as it is.
    """
    from .models import ModelRuns, assumed_requests, load_usage_exports

    info = dict(info or {})
    requests_known = info.pop("requests_known", True)
    positions = {column: index for index, column in enumerate(NAME_COLUMNS)}
    positions.update({key: len(NAME_COLUMNS) + index for index, key in enumerate(plan.keys)})
    positions.update({key: len(NAME_COLUMNS) + len(plan.keys) + index for index, key in enumerate(plan.time_keys)})
    group_positions = [positions[key] for key in plan.group_by]
    model_position = NAME_COLUMNS.index("model")
    labels: dict[Any, str] = {}  # a day or month -> its text, once per distinct date

    def label(value: Any, key: str) -> Any:
        if not isinstance(value, date):
            return value
        if (value, key) not in labels:
            labels[value, key] = value.strftime("%Y-%m") if key == "month" else value.isoformat()
        return labels[value, key]

    # Exact integer sums per (setup, group). A setup is (hardware, region, datacenter, model): the model is None for
    # the rows the hardware preset's method estimates; the profile and the providers' keys only label the rows here.
    by_setup: dict[tuple, dict[tuple, list[int]]] = {}
    first = last = None
    for key, values in settled.cells.items():
        model = key[model_position] if plan.models_drive else None
        hardware = key[0] if model is not None or key[0] is not None else plan.hardware
        groups = by_setup.setdefault((hardware, key[1], key[2], model), {})
        group = tuple(
            label(plan.hardware if name == "hardware" and value is None and model is None else value, name)
            for value, name in ((key[index], name) for index, name in zip(group_positions, plan.group_by, strict=True))
        )
        sums = groups.get(group)
        kept = values[_REQUESTS : _SQUARED + 1]  # requests, input, cached, output, reasoning, input squared
        groups[group] = kept if sums is None else [a + b for a, b in zip(sums, kept, strict=True)]
        if values[FIRST] is not None:
            first = values[FIRST] if first is None or values[FIRST] < first else first
            last = values[LAST] if last is None or values[LAST] > last else last
    distinct = {group for groups in by_setup.values() for group in groups}
    if len(distinct) > max_groups:
        raise CapError(f"{source}: {len(distinct):,} groups, over the cap of {max_groups:,} groups in an answer ({setting('max_groups')})")

    # Setups and groups in the order of their names: the float sums below then add up in the same order,
    # whatever order the engine (or Dask's partitions) gave the cells in.
    by_setup = {setup: dict(sorted(by_setup[setup].items(), key=_order)) for setup in sorted(by_setup, key=_text_order)}
    runs = ModelRuns()
    per_request = None if requests_known else load_usage_exports(plan.config.directory).requests_not_counted.output_tokens_per_request
    figures_by_setup: dict[tuple, list[list[float]]] = {}
    hardware_setups = {setup: groups for setup, groups in by_setup.items() if setup[3] is None}
    figures_by_setup.update(_figures(plan, hardware_setups))
    requests_by_method: dict[str, int | None] = {MODEL_AWARE: 0, plan.row_method: 0}
    for setup, groups in by_setup.items():
        if setup[3] is None:
            requests_by_method[plan.row_method] = (requests_by_method[plan.row_method] or 0) + sum(sums[0] for sums in groups.values())
            continue
        from .models import model_figures

        items = list(groups.items())
        counts = [sums[0] if per_request is None else assumed_requests(sums[1], sums[3], per_request) for _, sums in items]
        runs.assumed_requests += 0 if per_request is None else sum(counts)
        requests_by_method[MODEL_AWARE] = (requests_by_method[MODEL_AWARE] or 0) + sum(sums[0] for sums in groups.values())
        if not any(counts):  # rows of 0 requests and 0 tokens only: they add nothing
            figures_by_setup[setup] = [[0.0] * len(items) for _ in SUMS[_INTEGERS:]]
            continue
        columns = model_figures(plan.config, setup, plan.site(setup[1], setup[2]), items, counts, runs, ",".join(plan.group_by))
        figures_by_setup[setup] = [columns[f"{name}{suffix}"] for name in QUANTITIES for suffix, _ in _SIDES] + [columns["reasoning_energy_kwh"]]
    zero = [*([0] * _INTEGERS), *([0.0] * len(SUMS[_INTEGERS:]))]
    totals: dict[tuple, list] = {}
    for setup, groups in by_setup.items():
        figures = figures_by_setup[setup]
        for index, (name, sums) in enumerate(groups.items()):
            out = totals.get(name)
            if out is None:
                out = totals[name] = list(zero)
            for position in range(_INTEGERS):
                out[position] += sums[position]
            for position, column in enumerate(figures, start=_INTEGERS):
                out[position] += column[index]
    summed = list(zero)
    for values in totals.values():
        summed = [a + b for a, b in zip(summed, values, strict=True)]
    grand: dict[str, Any] = dict(zip(SUMS, summed, strict=True))
    requests = grand["requests"] if requests_known else 0
    groups_out = [
        {**dict(zip(plan.group_by, name, strict=True)), **dict(zip(SUMS, values, strict=True))} for name, values in sorted(totals.items(), key=_order)
    ]
    if not requests_known:  # a usage export that does not count requests (Anthropic's): never a made-up figure
        for row in (grand, *groups_out):
            row["requests"] = None
        requests_by_method = dict.fromkeys(requests_by_method)
    used = [name for name in (MODEL_AWARE, plan.row_method) if any(setup[3] is not None if name == MODEL_AWARE else setup[3] is None for setup in by_setup)]
    notes = list(NOTES)
    if grand["cached_input_tokens"] and any(setup[3] is None for setup in by_setup):
        notes.append(HARDWARE_CACHED_NOTE)
    warnings: list[str] = list(info.pop("warnings", []))
    if runs.assumed_requests:
        source_note = load_usage_exports(plan.config.directory).requests_not_counted.source
        warnings.append(
            f"requests: not counted by this export; the model-aware estimate takes each row as answers of {per_request:,} output tokens "
            f"({runs.assumed_requests:,} requests in all; {source_note}); the answer leaves the request counts unknown"
        )
    for model, about in runs.models.items():
        warnings += [f"{model}: {note}" for note in about["notes"]]
    answer = {
        "source": source,
        "format": fmt,
        "engine": engine,
        "method": plan.method,
        "methods": {name: requests_by_method.get(name) for name in used},
        "rows": settled.rows,
        "blank_lines": settled.blank,
        "defaults": plan.defaults,
        "data_pack_version": reference.pack_version(),
        "defaults_used": dict(sorted(settled.defaulted.items())),
        "period": None if first is None else {"first": _utc(first), "last": _utc(last)},  # type: ignore[arg-type]
        "totals": grand,
        "per_request": None
        if not requests_known
        else {
            "energy_wh": grand["energy_kwh"] * 1000.0 / requests if requests else 0.0,
            "carbon_gco2eq": grand["carbon_gco2eq"] / requests if requests else 0.0,
            "water_l": grand["water_l"] / requests if requests else 0.0,
        },
        "group_by": list(plan.group_by),
        "groups": groups_out if plan.group_by else [],
        "covers": dict(methods.get(used[0] if used else plan.row_method).covers),
        "covers_by_method": {name: dict(methods.get(name).covers) for name in used},
        "models": runs.models,
        "notes": notes,
        "warnings": warnings,
    }
    answer.update(info)
    return answer


def _text_order(key: tuple) -> tuple:
    """Sort key of a setup or cell key: its names as text, missing ones last."""
    return tuple((value is None, str(value)) for value in key)


def _order(item: tuple[tuple, Any]) -> tuple:
    """Sort key of a group: its labels as text, missing ones last."""
    return tuple((value is None, str(value)) for value in item[0])


SCALAR_PAIRS = 10_000
"""Up to this many (setup, group) sums, footprint runs on plain floats, once per sum and side: numpy's import alone
(60 to 120 ms measured here) costs more than 5,400 such calls (12 ms). Above, once per setup and side on numpy columns."""


def _figures(plan: Plan, by_setup: dict[tuple, dict[tuple, list[int]]]) -> dict[tuple, list[list[float]]]:
    """For each setup of the rows without a model, the columns of QUANTITIES x sides and reasoning_energy_kwh
    (SUMS[_INTEGERS:] order) over its groups, from footprint."""
    pairs = sum(len(groups) for groups in by_setup.values())
    out: dict[tuple, list[list[float]]] = {}
    order = [(position, name) for name in QUANTITIES for position, _ in enumerate(_SIDES)]  # SUMS order: name, then side
    method = plan.row_method
    for setup, groups in by_setup.items():
        sums = list(groups.values())
        first_moment = [row[_SQUARED - _REQUESTS] if plan.quadratic else row[_INPUT - _REQUESTS] for row in sums]
        tokens_out = [row[_OUTPUT - _REQUESTS] for row in sums]
        reasoning = [row[_REASONING - _REQUESTS] for row in sums]
        sides = []
        central: dict[str, list[float]] = {}
        for _, side in _SIDES:
            modele, site = plan.setups(*setup[:3])[side]
            if pairs <= SCALAR_PAIRS:
                per_group = [
                    footprint(math.sqrt(i) if plan.quadratic else float(i), float(o), 1.0, modele, site, method)
                    for i, o in zip(first_moment, tokens_out, strict=True)
                ]
                values = {name: [row[name] for row in per_group] for name in (*QUANTITIES, "decode_s", "duration_s")}
            else:
                import numpy as np

                tokens_in = np.array(first_moment, dtype=np.float64)
                raw = footprint(np.sqrt(tokens_in) if plan.quadratic else tokens_in, np.array(tokens_out, dtype=np.float64), 1.0, modele, site, method)
                values = {name: np.broadcast_to(raw[name], tokens_in.shape).tolist() for name in (*QUANTITIES, "decode_s", "duration_s")}
            sides.append(values)
            central = central or values
        energy_of_reasoning = [
            physics.reasoning_energy_kwh(energy, decode, duration, r, o) if r and duration else 0.0
            for energy, decode, duration, r, o in zip(central["energy_kwh"], central["decode_s"], central["duration_s"], reasoning, tokens_out, strict=True)
        ]
        out[setup] = [*(sides[position][name] for position, name in order), energy_of_reasoning]
    return out


# --- CSV export --------------------------------------------------------------------------------


def write_groups_csv(result: dict[str, Any], path: str | Path, what: str = "output") -> None:
    """The grouped table (or the totals, without grouping) as CSV at exactly ``path``; units are in the column names;
    text cells are made safe for a spreadsheet (:func:`traitement.export.safe_cell`: no formula, no line break); a
    failed write is one line naming ``what`` (:class:`traitement.export.WriteError`, exit code 1)."""
    import csv
    import io

    from ..export import safe_cell, write_bytes

    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=[*result["group_by"], *SUMS], extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in result["groups"] if result["group_by"] else [result["totals"]]:
        writer.writerow({name: safe_cell(value) if isinstance(value, str) else value for name, value in row.items()})
    write_bytes(path, text.getvalue().encode("utf-8"), what)
