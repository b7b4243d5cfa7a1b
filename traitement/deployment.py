"""A model named without its serving setup: the deployment's ranges, and the estimate over them for columns of tokens.

``--model NAME`` alone (``model`` in ``POST /calculate``, a request log's model column) says what runs,
not on what. :func:`deployment_for` reads the ``deployment:`` section of ``config/energy_model.yaml``
into the ranges of that unknown deployment (GPU boards, GPU count, precision, batch), fixing the axes
the caller knows. :func:`model_footprint` evaluates the model-aware physics of
:mod:`traitement.energy_model` for every row of token sums and every deployment scenario at once (numpy
broadcasting, rows x scenarios, rows in chunks), and returns the estimate's columns with their low and
high ends:

* the **central** value is one stated deployment: the central board, the fewest GPUs that hold the
  weights, the model's precision (else the central one), the central batch;
* the **low** end is the cheapest scenario: the largest batch the memory holds, the model's smallest
  size, the fewest bytes per parameter, the smaller KV cache, on every board and GPU count, divided by
  the fit's residual factor; the **high** end the dearest (the smallest batch, the largest size, up to
  a full node of GPUs) times it. The energy of a request falls with the batch and rises with the size,
  the bytes and the KV cache, so the two ends need only those extremes of each axis, except where the
  GPU count steps with the size (a larger model on more GPUs can hold a larger batch): each end is
  also taken no further in than the central deployment, so ``min <= central <= max`` always holds.

Nothing here reads a file: the caller passes the loaded config and energy model.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import numpy as np

from . import physics
from .config import Config
from .core import MAX_COUNT, MAX_PARAMS_B, MAX_TOKENS, MIN_PARAMS_B, Site
from .energy_model import (
    MAX_GPUS,
    PARAMS_PER_B,
    EnergyModelFile,
    batch_capacity,
    coefficients,
    context_tokens,
    free_memory_bytes,
    gpus_for_weights,
    kv_cache_bytes_per_token,
    serving,
)
from .errors import InvalidInputError
from .reference.schemas import ModelEntry

ROW_CHUNK_CELLS = 1 << 18
"""Rows x scenarios evaluated at once: about 30 arrays of this many floats, 2 MB each (fastest here: 1 << 16 to 1 << 20 measured)."""

RANGED = ("energy_gpu_kwh", "energy_it_kwh", "energy_kwh", "carbon_gco2eq", "water_l", "carbon_embodied_gco2eq")
"""The quantities given with their low and high ends (``<name>_min``, ``<name>_max``), as in an estimate."""
TOKEN_COLUMNS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_tokens", "count")

Side = Literal["central", "low", "high"]


@dataclass(frozen=True)
class Span:
    """A value with its plausible range (``low <= value <= high``)."""

    value: float
    low: float
    high: float

    @classmethod
    def of(cls, ranged: Any) -> Span:
        """From a data-pack ``Range`` or a config ``Uncertain`` (both have ``value``, ``low``, ``high``)."""
        return cls(float(ranged.value), float(ranged.low), float(ranged.high))

    @classmethod
    def exact(cls, value: float) -> Span:
        return cls(float(value), float(value), float(value))

    def at(self, side: Side, lowers_energy: bool = False) -> float:
        """The value (central), or the end that lowers (side ``low``) or raises (``high``) the energy."""
        if side == "central":
            return self.value
        return self.high if (side == "low") == lowers_energy else self.low


@dataclass(frozen=True)
class ModelSizes:
    """What the physics needs of a model: its active and total parameters (billions, with ranges) and precision."""

    active_params_b: Span
    total_params_b: Span
    precision: str | None = None
    name: str | None = None
    estimate: bool = False

    @classmethod
    def of(cls, entry: ModelEntry) -> ModelSizes:
        """A model of the data pack: its sizes (a range where the provider has not published them) and released precision."""
        return cls(Span.of(entry.active_params_b), Span.of(entry.total_params_b), entry.precision, entry.id, entry.estimate)

    @classmethod
    def exact(cls, active_params_b: float, total_params_b: float | None = None, precision: str | None = None, name: str | None = None) -> ModelSizes:
        """A model given by its size (total defaults to active: a dense model)."""
        total = active_params_b if total_params_b is None else total_params_b
        for field_name, size in (("active_params_b", active_params_b), ("total_params_b", total)):
            if isinstance(size, bool) or not isinstance(size, numbers.Real) or not MIN_PARAMS_B <= size <= MAX_PARAMS_B:
                raise InvalidInputError(f"{field_name}: must be from {MIN_PARAMS_B:g} to {MAX_PARAMS_B:,} (got {size!r}); allowed: billions of parameters")
        if total < active_params_b:
            raise InvalidInputError(f"total_params_b: must be >= active_params_b ({active_params_b:g}), got {total:g}")
        return cls(Span.exact(active_params_b), Span.exact(total), precision, name)

    def sizes(self, side: Side) -> tuple[float, float]:
        """(active, total) at the central value or the end that lowers or raises the energy (total never below active)."""
        active = self.active_params_b.at(side)
        return active, max(self.total_params_b.at(side), active)


@dataclass(frozen=True)
class Board:
    """A GPU board as the physics needs it, with its embodied carbon range and the most requests it runs at once."""

    name: str
    power_w: float
    memory_gb: float
    tensor16_tflop_per_s: float
    embodied_kgco2eq: Span
    max_batch_size: float = float("inf")
    source: str = ""


@dataclass(frozen=True)
class Deployment:
    """How a model is served: the boards, precisions, GPU count and batch the estimate spans, and the central deployment.

    ``n_gpu`` ``None`` spans every power of two from the fewest GPUs whose memory holds the weights to
    ``node_gpus``. ``known`` names the axes the caller fixed (for the record).
    """

    boards: tuple[Board, ...]
    precisions: tuple[str, ...]
    batch_size: Span
    central_board: Board
    central_precision: str
    server_embodied_kgco2eq_per_gpu: Span
    lifetime_years: Span
    kv_cache_low_factor: float
    residual_factor: float
    node_gpus: int = 8
    n_gpu: int | None = None
    known: tuple[str, ...] = ()
    source: str = ""

    def describe(self) -> dict[str, Any]:
        """The deployment in JSON-ready form: each axis, the central choice, and where they come from."""
        return {
            "known": list(self.known),
            "boards": [board.name for board in self.boards],
            "central_board": self.central_board.name,
            "gpu_count": self.n_gpu if self.n_gpu is not None else f"from the fewest GPUs that hold the weights to {self.node_gpus} (powers of two)",
            "precisions": list(self.precisions),
            "central_precision": self.central_precision,
            "batch_size": {"value": self.batch_size.value, "min": self.batch_size.low, "max": self.batch_size.high},
            "board_batch_limits": {board.name: board.max_batch_size for board in self.boards if np.isfinite(board.max_batch_size)},
            "kv_cache_low_factor": self.kv_cache_low_factor,
            "residual_factor": self.residual_factor,
            "source": self.source,
        }


def _board(config: Config, name: str, max_batch_size: float | None = None) -> Board:
    """A board of ``config_model.yaml`` or of the data pack, with what the physics needs (else a one-line error)."""
    board_name, board = config.gpu(name, "hardware")
    tensor = board.tensor16_tflop_per_s
    if board.memory_gb is None or tensor is None:
        raise InvalidInputError(
            f"hardware: the memory or compute of {board_name!r} is unknown (a measured machine); allowed: a GPU board of config_model.yaml or of the data pack",
            code="incomplete-gpu",
        )
    embodied = Span.of(board.embodied_kgco2eq) if board.embodied_kgco2eq is not None else Span.exact(0.0)
    return Board(board_name, board.power_w, board.memory_gb, tensor, embodied, float("inf") if max_batch_size is None else max_batch_size, board.source)


def deployment_for(
    config: Config,
    energy_model: EnergyModelFile,
    sizes: ModelSizes,
    *,
    board: str | None = None,
    n_gpu: int | None = None,
    precision: str | None = None,
    batch_size: float | None = None,
) -> Deployment:
    """The deployment of ``sizes``: the config's ranges (``deployment:``), with the axes given here fixed.

    Boards: ``board``, else the config's boards plus the older boards whose size limit the model is
    within. Precision: ``precision``, else the model's released one, else the config's list. Batch:
    ``batch_size`` exactly, else the config's range (an older board's cap applies to it). GPU count:
    ``n_gpu``, else from the weights' memory up to a node.
    """
    plan = energy_model.deployment
    known = tuple(name for name, value in (("board", board), ("n_gpu", n_gpu), ("precision", precision), ("batch_size", batch_size)) if value is not None)
    if board is not None:
        boards: tuple[Board, ...] = (_board(config, board),)
        central_board = boards[0]
    else:
        older = [
            _board(config, entry.board, entry.max_batch_size if batch_size is None else None)
            for entry in plan.older_boards
            if sizes.total_params_b.value <= entry.models_up_to_total_params_b
        ]
        boards = (*(_board(config, name) for name in plan.boards), *older)
        central_board = _board(config, plan.central_board)
    chosen = precision if precision is not None else sizes.precision
    precisions: tuple[str, ...]
    if chosen is not None:
        name, _ = energy_model.precision(chosen)
        precisions, central_precision = (name,), name
    else:
        precisions, central_precision = tuple(plan.precisions), plan.central_precision
    _, setup = config.hardware(plan.server_from_hardware)
    server = Span.of(setup.server_embodied_kgco2eq)
    return Deployment(
        boards=boards,
        precisions=precisions,
        batch_size=Span.of(plan.batch_size) if batch_size is None else Span.exact(batch_size),
        central_board=central_board,
        central_precision=central_precision,
        server_embodied_kgco2eq_per_gpu=Span(server.value / setup.n_gpu, server.low / setup.n_gpu, server.high / setup.n_gpu),
        lifetime_years=Span.of(setup.lifetime_years),
        kv_cache_low_factor=plan.kv_cache_low_factor,
        residual_factor=energy_model.fit.residual_factor,
        node_gpus=plan.node_gpus,
        n_gpu=n_gpu,
        known=known,
        source=plan.source,
    )


# --- the scenarios: one column per deployment, evaluated for every row at once ------------------------------


def scenarios(deployment: Deployment, sizes: ModelSizes, energy_model: EnergyModelFile, side: Side) -> dict[str, np.ndarray]:
    """The deployment scenarios of one side, as 1-D arrays (one entry per scenario).

    ``central``: one scenario. ``low`` and ``high``: every board x precision x GPU count (a power of two
    from the fewest that hold the weights to the node's GPUs), at the batch, size, KV cache, embodied
    carbon and lifetime that lower (``low``) or raise (``high``) the energy.
    """
    boards = (deployment.central_board,) if side == "central" else deployment.boards
    precisions = (deployment.central_precision,) if side == "central" else deployment.precisions
    active, total = sizes.sizes(side)
    bytes_per_param = np.array([energy_model.precision(name)[1].bytes_per_param for name in precisions])[None, :, None]
    column = lambda values: np.array(values, dtype=float)[:, None, None]  # noqa: E731 - one value per board
    memory_gb = column([board.memory_gb for board in boards])
    fewest = gpus_for_weights(total, bytes_per_param, memory_gb, energy_model.memory.overhead_fraction)
    if deployment.n_gpu is not None:
        n_gpu = np.full(fewest.shape, float(deployment.n_gpu))
    elif side == "central":
        n_gpu = fewest
    else:
        doublings = np.arange(int(np.log2(deployment.node_gpus)) + 1)[None, None, :]
        n_gpu = np.minimum(fewest * 2.0**doublings, np.maximum(fewest, deployment.node_gpus))
    if float(np.max(n_gpu)) > MAX_GPUS:
        raise InvalidInputError(
            f"model: the weights ({total:g} B parameters) need {int(np.max(n_gpu)):,} GPUs, more than {MAX_GPUS:,}; "
            "allowed: a smaller model or a lower precision",
            code="model-too-large",
        )
    shape = np.broadcast_shapes(n_gpu.shape, bytes_per_param.shape, memory_gb.shape)
    batch = np.minimum(deployment.batch_size.at(side, lowers_energy=True), column([board.max_batch_size for board in boards]))
    flat = {
        "n_gpu": n_gpu,
        "bytes_per_param": bytes_per_param,
        "gpu_memory_gb": memory_gb,
        "gpu_power_w": column([board.power_w for board in boards]),
        "tensor16_tflop_per_s": column([board.tensor16_tflop_per_s for board in boards]),
        "gpu_embodied_kgco2eq": column([board.embodied_kgco2eq.at(side) for board in boards]),
        "batch_size": batch,
    }
    out = {name: np.broadcast_to(values, shape).ravel() for name, values in flat.items()}
    out["board"] = np.array([board.name for board in boards])[np.broadcast_to(np.arange(len(boards))[:, None, None], shape).ravel()]
    out["precision"] = np.array(precisions)[np.broadcast_to(np.arange(len(precisions))[None, :, None], shape).ravel()]
    # A GPU count held at the node's size repeats a scenario: evaluate each once.
    _, first = np.unique(np.stack([out["n_gpu"], out["bytes_per_param"], np.repeat(np.arange(len(boards)), shape[1] * shape[2])]), axis=1, return_index=True)
    out = {name: values[np.sort(first)] for name, values in out.items()}
    count = out["n_gpu"].size
    for name, value in (
        ("active_params_b", active),
        ("total_params_b", total),
        ("kv_cache_factor", deployment.kv_cache_low_factor if side == "low" else 1.0),
        ("server_embodied_kgco2eq_per_gpu", deployment.server_embodied_kgco2eq_per_gpu.at(side)),
        ("lifetime_years", deployment.lifetime_years.at(side, lowers_energy=True)),
    ):
        out[name] = np.full(count, float(value))
    return out


def evaluate(scenario: Mapping[str, np.ndarray], rows: Mapping[str, np.ndarray], energy_model: EnergyModelFile) -> dict[str, np.ndarray]:
    """The physics of one request (per-request mean tokens) in every scenario: arrays of shape rows x scenarios.

    ``rows`` holds ``input_tokens``, ``cached_input_tokens`` and ``output_tokens`` per request, shape (N, 1);
    ``scenario`` the arrays of :func:`scenarios`, shape (S,). The batch is the scenario's, at most what
    the memory left after the weights holds of the requests' KV caches (at least 1).
    """
    values = coefficients(energy_model)
    kv_coefficient = values.pop("kv_coefficient") * scenario["kv_cache_factor"]
    input_tokens, cached, output_tokens = rows["input_tokens"], rows["cached_input_tokens"], rows["output_tokens"]
    n_gpu, memory_gb, power_w = scenario["n_gpu"], scenario["gpu_memory_gb"], scenario["gpu_power_w"]
    active, total, bytes_per_param = scenario["active_params_b"], scenario["total_params_b"], scenario["bytes_per_param"]
    free = free_memory_bytes(n_gpu, memory_gb, energy_model.memory.usable_fraction, total * PARAMS_PER_B * bytes_per_param)
    kv_per_token = kv_cache_bytes_per_token(active, kv_coefficient, values["kv_exponent"])
    capacity = batch_capacity(free, context_tokens(input_tokens, output_tokens), kv_per_token)
    batch = np.minimum(scenario["batch_size"], np.maximum(capacity, 1.0))
    served = serving(
        active,
        total,
        bytes_per_param,
        batch,
        input_tokens,
        output_tokens,
        n_gpu,
        memory_gb,
        power_w,
        scenario["tensor16_tflop_per_s"],
        1.0,
        cached,
        kv_coefficient=kv_coefficient,
        **values,
    )
    prompt_j, step_j = served["prefill_energy_j"], served["decode_step_energy_j"]
    draw_w = n_gpu * power_w * served["gpu_utilisation"]
    prefill_s = batch * prompt_j / draw_w  # the request's prompt, at the GPUs' draw shared by the batch
    decode_s = output_tokens * step_j / draw_w
    duration_s = prefill_s + decode_s
    return {
        "energy_gpu_j": prompt_j + output_tokens * step_j / batch,
        "embodied_gco2eq": physics.embodied_gco2eq(
            n_gpu,
            scenario["gpu_embodied_kgco2eq"],
            scenario["server_embodied_kgco2eq_per_gpu"] * n_gpu,
            duration_s,
            batch,
            scenario["lifetime_years"],
        ),
        "prefill_s": prefill_s,
        "decode_s": decode_s,
        "duration_s": duration_s,
        "batch_size": batch,
        "kv_cache_clipped": capacity < 1.0,
        "gpu_utilisation": served["gpu_utilisation"],
        "gpu_draw_w": draw_w,
        "decode_step_energy_j": step_j,
        "prefill_energy_j": prompt_j,
        "decode_tokens_per_s": served["decode_tokens_per_s"],
        "weight_read_gb": served["weight_read_gb"],
        "kv_cache_read_gb": served["kv_cache_read_gb"],
    }


def _extreme(
    scenario: Mapping[str, np.ndarray], rows: Mapping[str, np.ndarray], energy_model: EnergyModelFile, reduce: Callable[..., np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """The lowest or highest GPU energy and embodied carbon per request over the scenarios, row by row (rows in chunks)."""
    n_rows, n_scenarios = len(rows["input_tokens"]), len(scenario["n_gpu"])
    step = max(1, ROW_CHUNK_CELLS // n_scenarios)
    energy_j, embodied_g = np.empty(n_rows), np.empty(n_rows)
    for start in range(0, n_rows, step):
        part = {name: values[start : start + step, None] for name, values in rows.items()}
        result = evaluate(scenario, part, energy_model)
        energy_j[start : start + step] = reduce(result["energy_gpu_j"], axis=1)
        embodied_g[start : start + step] = reduce(result["embodied_gco2eq"], axis=1)
    return energy_j, embodied_g


def _site_figures(energy_gpu_kwh: Any, embodied_gco2eq: Any, host_share: float, site: Site) -> dict[str, Any]:
    """From the GPUs' energy to the server's (host and idle reserve), the facility's, carbon and water."""
    energy_it_kwh = energy_gpu_kwh * (1 + host_share)
    energy_kwh = physics.facility_energy_kwh(energy_it_kwh, site.pue)
    return {
        "energy_gpu_kwh": energy_gpu_kwh,
        "energy_cpu_kwh": energy_gpu_kwh * host_share,
        "energy_it_kwh": energy_it_kwh,
        "energy_kwh": energy_kwh,
        "carbon_gco2eq": physics.carbon_gco2eq(energy_kwh, site.carbon_intensity_gco2eq_per_kwh),
        "water_l": physics.water_l(energy_it_kwh, energy_kwh, site.wue_site_l_per_kwh, site.wue_offsite_l_per_kwh),
        "carbon_embodied_gco2eq": embodied_gco2eq,
    }


def _column(name: str, values: Any) -> np.ndarray:
    """One token argument as a 1-D float column (a single number: one value), or a one-line error: booleans, text,
    a table (2-D) or no rows are not a column of counts."""
    array = np.asarray(values)
    numeric = array.dtype.kind in "iuf" or (
        array.dtype.kind == "O" and all(isinstance(item, numbers.Real | Decimal) and not isinstance(item, bool) for item in array.flat)
    )
    code = "invalid-token-count"
    if not numeric:
        got = {"b": "booleans", "U": "text", "S": "bytes", "M": "dates", "m": "durations", "c": "complex numbers"}.get(array.dtype.kind, "other values")
        raise InvalidInputError(f"{name}: must be numbers (got {got}); allowed: a number or a column of numbers", code=code)
    if array.ndim > 1:
        raise InvalidInputError(f"{name}: must be one column (got shape {array.shape}); allowed: a number or a 1-D column", code=code)
    if array.size == 0:
        raise InvalidInputError(f"{name}: no rows; allowed: at least one row", code=code)
    return np.atleast_1d(array.astype(float))


def _columns(tokens: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The token sums as float columns of one length, checked: a bad row is a one-line error naming the column and row."""
    given = {name: _column(name, tokens[name]) for name in TOKEN_COLUMNS}
    try:
        arrays = dict(zip(TOKEN_COLUMNS, np.broadcast_arrays(*given.values()), strict=True))
    except ValueError:
        lengths = ", ".join(f"{name} {values.size:,}" for name, values in given.items() if values.size != 1)
        message = f"columns: not of one length ({lengths}); allowed: columns of one length, or single numbers"
        raise InvalidInputError(message, code="invalid-token-count") from None
    arrays = {name: np.array(values, dtype=float) for name, values in arrays.items()}  # writable copies, one length
    count = arrays["count"]
    checks = (
        ("count", (count >= 1) & (count <= MAX_COUNT) & (count == np.floor(count)), f"an integer number of requests from 1 to {MAX_COUNT:,}"),
        ("input_tokens", arrays["input_tokens"] >= count, "at least 1 per request (input_tokens >= count)"),
        ("output_tokens", arrays["output_tokens"] >= count, "at least 1 per request (output_tokens >= count)"),
        ("input_tokens", arrays["input_tokens"] <= MAX_TOKENS * count, f"at most {MAX_TOKENS:,} per request"),
        ("output_tokens", arrays["output_tokens"] <= MAX_TOKENS * count, f"at most {MAX_TOKENS:,} per request"),
        ("cached_input_tokens", (arrays["cached_input_tokens"] >= 0) & (arrays["cached_input_tokens"] <= arrays["input_tokens"]), "from 0 to input_tokens"),
        ("reasoning_tokens", (arrays["reasoning_tokens"] >= 0) & (arrays["reasoning_tokens"] <= arrays["output_tokens"]), "from 0 to output_tokens"),
    )
    for name, ok, allowed in checks:
        bad = np.flatnonzero(~ok)  # NaN fails every comparison: refused too
        if bad.size:
            row = int(bad[0])
            raise InvalidInputError(f"{name}[{row}]: out of range (got {arrays[name][row]:g}); allowed: {allowed}", code="invalid-token-count")
    return arrays


@dataclass(frozen=True)
class ModelFootprint:
    """What :func:`model_footprint` returns.

    ``columns``: the estimate's keys, one value per row (totals over the row's ``count`` requests;
    ``prefill_s``, ``decode_s`` and ``duration_s`` per request, central deployment), with
    ``<name>_min`` and ``<name>_max`` for each of :data:`RANGED`. ``central``: the central deployment
    per row (GPU count, batch held, draw, speeds, bytes read). ``notes``: what the caller should say.
    """

    columns: dict[str, np.ndarray]
    central: dict[str, np.ndarray]
    deployment: Deployment
    sizes: ModelSizes
    notes: tuple[str, ...] = field(default=())


def model_footprint(
    model: ModelEntry | ModelSizes | str,
    site: Site,
    input_tokens: Any,
    output_tokens: Any,
    count: Any = 1,
    cached_input_tokens: Any = 0,
    reasoning_tokens: Any = 0,
    *,
    config: Config,
    energy_model: EnergyModelFile,
    deployment: Deployment | None = None,
) -> ModelFootprint:
    """The model-aware footprint of rows of requests, each row ``count`` requests with these token sums.

    ``model``: a model of the data pack (its name, as :func:`traitement.reference.resolve_model` reads it, or its entry)
    or :class:`ModelSizes`. ``site``: where it runs (its ``bounds``
    give the low and high site). Token arguments: numbers or numpy columns of one length, the sums over
    the row's ``count`` requests (``cached_input_tokens`` part of ``input_tokens``, ``reasoning_tokens``
    part of ``output_tokens``); each row is estimated at its mean request. ``deployment``: a
    :class:`Deployment` (:func:`deployment_for` with the known axes), else the unknown deployment's
    ranges. Vectorised over rows and scenarios: one call for a million rows.
    """
    if isinstance(model, str):  # a name as users write it: resolved against the data pack (unknown: the closest named)
        from .reference import resolve_model

        model = resolve_model(model)
    if not isinstance(model, (ModelEntry, ModelSizes)):
        raise InvalidInputError(f"model: a model of the data pack (its name, or its entry) or ModelSizes (got {type(model).__name__})")
    sizes = model if isinstance(model, ModelSizes) else ModelSizes.of(model)
    plan = deployment if deployment is not None else deployment_for(config, energy_model, sizes)
    sums = _columns(
        {
            "input_tokens": input_tokens,
            "cached_input_tokens": cached_input_tokens,
            "output_tokens": output_tokens,
            "reasoning_tokens": reasoning_tokens,
            "count": count,
        }
    )
    count_column = sums["count"]
    rows = {name: sums[name] / count_column for name in ("input_tokens", "cached_input_tokens", "output_tokens")}
    host_share = energy_model.boundaries.host_share_of_gpu_energy + energy_model.boundaries.idle_reserve_share_of_gpu_energy
    central_scenario = scenarios(plan, sizes, energy_model, "central")
    central = {name: values[:, 0] for name, values in evaluate(central_scenario, {k: v[:, None] for k, v in rows.items()}, energy_model).items()}
    k = plan.residual_factor
    low_j, low_embodied = _extreme(scenarios(plan, sizes, energy_model, "low"), rows, energy_model, np.min)
    high_j, high_embodied = _extreme(scenarios(plan, sizes, energy_model, "high"), rows, energy_model, np.max)
    # The ends hold the central deployment too: the energy is not monotone in the model's size where the GPU count steps
    # (gpt-4o-mini on L4: the central 18 B on 2 GPUs keeps a batch of 2 requests, the largest 28 B on 4 GPUs a batch of 7,
    # so the central request cost more than the "dearest" scenario and min <= central <= max failed).
    low_j, low_embodied = np.minimum(low_j, central["energy_gpu_j"]), np.minimum(low_embodied, central["embodied_gco2eq"])
    high_j, high_embodied = np.maximum(high_j, central["energy_gpu_j"]), np.maximum(high_embodied, central["embodied_gco2eq"])
    figures = _site_figures(central["energy_gpu_j"] / physics.J_PER_KWH * count_column, central["embodied_gco2eq"] * count_column, host_share, site)
    low = _site_figures(low_j / k / physics.J_PER_KWH * count_column, low_embodied / k * count_column, host_share, site.at("low"))
    high = _site_figures(high_j * k / physics.J_PER_KWH * count_column, high_embodied * k * count_column, host_share, site.at("high"))
    columns: dict[str, np.ndarray] = {name: sums[name] for name in TOKEN_COLUMNS}
    columns.update({name: central[name] for name in ("prefill_s", "decode_s", "duration_s")})
    columns.update(figures)
    columns["reasoning_energy_kwh"] = physics.reasoning_energy_kwh(
        figures["energy_kwh"], central["decode_s"], central["duration_s"], sums["reasoning_tokens"], sums["output_tokens"]
    )
    for name in RANGED:
        columns[f"{name}_min"] = low[name]
        columns[f"{name}_max"] = high[name]
    details = {
        "n_gpu": np.broadcast_to(central_scenario["n_gpu"], count_column.shape),
        **{name: central[name] for name in ("batch_size", "gpu_utilisation", "gpu_draw_w", "decode_tokens_per_s", "decode_step_energy_j", "prefill_energy_j")},
        **{name: central[name] for name in ("weight_read_gb", "kv_cache_read_gb", "kv_cache_clipped")},
        "prefill_tokens_per_s": rows["input_tokens"] / central["prefill_s"],
        "host_power_w": central["gpu_draw_w"] * host_share,
    }
    return ModelFootprint(columns=columns, central=details, deployment=plan, sizes=sizes, notes=central_notes(plan, sizes, details, energy_model))


MEMORY_NOTE = "the memory left after the weights holds the KV cache of"
"""The start of the note on a central batch held down by memory (a request log merges these per model)."""


def central_notes(plan: Deployment, sizes: ModelSizes, central: Mapping[str, np.ndarray], energy_model: EnergyModelFile) -> tuple[str, ...]:
    """What an answer must say about the central deployment of these rows: a batch held down by memory, a cache beyond memory,
    a mixture of experts beyond the GPUs measured."""
    notes = []
    batch = central["batch_size"]
    rows = "" if batch.size == 1 else f" (in {int(np.sum(batch < plan.batch_size.value)):,} of {batch.size:,} rows)"
    if bool(np.any(batch < plan.batch_size.value)):
        notes.append(
            f"{MEMORY_NOTE} {float(np.min(batch)):,.3g} such requests at once{rows}, "
            f"fewer than the central batch of {plan.batch_size.value:g}: the central estimate serves that many"
        )
    if bool(np.any(central["kv_cache_clipped"])):
        notes.append("the KV cache of one request exceeds the memory left after the weights on the central deployment: the estimate is optimistic")
    active, total = sizes.sizes("central")
    n_gpu = float(np.max(central["n_gpu"]))
    if total > active and n_gpu > energy_model.moe.gpu_count_cap:
        notes.append(
            f"mixture of experts on {n_gpu:g} GPUs: its FLOP energy is taken at {energy_model.moe.gpu_count_cap} GPUs, the most measured (not extrapolated)"
        )
    return tuple(notes)


__all__ = [
    "RANGED",
    "Board",
    "Deployment",
    "ModelFootprint",
    "ModelSizes",
    "Span",
    "central_notes",
    "deployment_for",
    "evaluate",
    "model_footprint",
    "scenarios",
]
