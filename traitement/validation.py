"""Validation against published measurements, and the fit of the model-aware energy model.

A cases file (``data/validation/mlenergy_v3_cases.yaml``, ``published_cases.yaml``
or any file of the same schema) lists published energy figures with the
conditions they were measured under. :func:`validate` estimates each case with
the project's methods and EcoLogits' published formula under the case's own
boundary (a GPU-only figure is compared with the GPU-only part of the estimate)
and returns per-case ratios and the error factor, the geometric mean of
max(r, 1/r), overall and by task, board, model and batch band.
:func:`fit_energy_coefficients` fits the model-aware coefficients on the
measured GPU-boundary cases and :func:`leave_one_model_out` refits them without
each model in turn.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from . import methods, physics
from .base import INTEGER, NUMBER, Frozen, parse
from .config import Config, parse_yaml, read_yaml
from .core import Requete, estimate
from .energy_model import (
    J_PER_WH,
    EnergyModelFile,
    coefficients,
    ecologits_gpu_count,
    ecologits_gpu_energy_wh,
    ecologits_server_energy_wh,
    gpus_for_weights,
    model_aware_modele,
    power_fraction,
    serving,
)
from .errors import CalculatorError, InvalidInputError
from .paths import SHIPPED_CASES
from .presets import modele_from_config, site_from_config

MODEL_AWARE = methods.model_aware.NAME
ECOLOGITS = methods.ecologits.NAME
PARAMETER = methods.parameter.NAME
SEED_QUADRATIC_METHOD = methods.seed_quadratic.NAME
VALIDATION_METHODS = methods.names("validate")
PUBLISHED_CASES = SHIPPED_CASES["published"]
"""The seven ML.ENERGY measurements and Epoch AI's GPT-4o figure."""
DEFAULT_CASES = SHIPPED_CASES["mlenergy-v3"]
"""The shipped public cases (ML.ENERGY Leaderboard v3's measured configurations): what ``validate`` checks when given no file."""
MAX_CASES = 10_000
"""Most cases in one cases file: each is estimated by every method (about 1 ms per case here)."""
MAX_CROSS_VALIDATION_MODELS = 100
"""Most models in a leave-one-model-out cross-validation: one refit each (18 in the 397 ML.ENERGY cases)."""
MAX_CASES_FILE_BYTES = 8 << 20
"""Largest cases file the ``validate`` command reads (8 MiB; the 397 ML.ENERGY cases take 235 kB)."""

# What each boundary compares: the part of the estimate that holds the same energy.
BOUNDARY_FIELD = {"gpu": "energy_gpu_kwh", "server": "energy_it_kwh", "facility": "energy_kwh"}

# Hardware names used by published cases for the boards of config/config_model.yaml.
GPU_ALIASES = {"h100-sxm": "h100", "h100-sxm5": "h100", "a100-sxm": "a100", "a100-sxm4": "a100", "h200-sxm": "h200", "b200-sxm": "b200"}

BATCH_BANDS = ((1.0, 16.0, "1-15"), (16.0, 64.0, "16-63"), (64.0, 256.0, "64-255"), (256.0, 1024.0, "256-1023"), (1024.0, float("inf"), "1024+"))
"""Bands of the mean running batch for the report (lower bound included)."""

WORST_CASES_LISTED = 10

FIGURES_AGREE_REL = 0.01
"""How far a case's two published figures (J per output token, Wh per request) may differ: their rounding (the shipped cases: 0.4 % at most)."""

GpuCount = Annotated[int, Field(ge=1, le=1024), INTEGER]


class Parallelism(Frozen):
    """How the GPUs split the model: tensor-parallel, expert-parallel and data-parallel (attention replica) sizes."""

    tensor: GpuCount | None = Field(None, description="tensor-parallel size, an integer from 1 to 1024 (null: not given)")
    expert: GpuCount | None = Field(None, description="expert-parallel size, an integer from 1 to 1024 (null: not given)")
    data: GpuCount | None = Field(None, description="data-parallel attention replicas, an integer from 1 to 1024 (null: 1)")


class Case(Frozen):
    """One published figure and the conditions it was measured under."""

    id: str = Field(min_length=1, max_length=200, description="the case's unique name, 1 to 200 characters")
    model: str | None = Field(None, description="the model's name, for the record")
    task: str | None = Field(None, max_length=200, description="the workload, e.g. chat, reasoning (GPQA), code fill-in-the-middle: its typical prompt length")
    active_params_b: Annotated[float, Field(ge=0.1, le=100_000), NUMBER] | None = Field(None, description="active parameters in billions, 0.1 to 100,000")
    total_params_b: Annotated[float, Field(ge=0.1, le=100_000), NUMBER] | None = Field(
        None, description="total parameters in billions, 0.1 to 100,000, >= active_params_b (null: dense)"
    )
    precision: str | None = Field(None, description="weight precision, e.g. bf16, fp8, mxfp4 (null: bf16)")
    architecture: str | None = Field(None, max_length=200, description="the architecture, for the record")
    hardware: str | None = Field(None, description="the GPU board, e.g. h100-sxm, b200")
    n_gpu: GpuCount | None = Field(None, description="GPUs serving the model, an integer from 1 to 1024 (null: from memory)")
    parallelism: Parallelism | None = Field(None, description="tensor, expert and data-parallel sizes, each at most n_gpu")
    max_num_seqs: Annotated[int, Field(ge=1, le=1_000_000), INTEGER] | None = Field(None, description="the server's cap on running requests, for the record")
    batch_size: Annotated[float, Field(ge=1, le=100_000), NUMBER] | None = Field(
        None, description="mean running batch (requests served at once), 1 to 100,000 (null: the hardware preset's)"
    )
    input_tokens: Annotated[int, Field(ge=1, le=10_000_000), INTEGER] | None = Field(
        None, description="prompt tokens, an integer from 1 to 10,000,000 (null: the task's typical prompt)"
    )
    output_tokens: Annotated[int, Field(ge=1, le=10_000_000), INTEGER] = Field(description="answer tokens, an integer from 1 to 10,000,000")
    boundary: Literal["gpu", "server", "facility"] = Field(description="what the figure includes: gpu, server or facility")
    # Physical bounds: a subnormal or a 1e308 figure made the ratio 0 or infinite (issue 15, item 20).
    energy_j_per_output_token: Annotated[float, Field(ge=1e-6, le=1e6), NUMBER] | None = Field(
        None, description="published energy per output token in J, from 1e-6 to 1e6"
    )
    energy_wh_per_request: Annotated[float, Field(ge=1e-9, le=1e9), NUMBER] | None = Field(
        None, description="published energy per request in Wh, from 1e-9 to 1e9"
    )
    gpu_power_w: Annotated[float, Field(gt=0, le=1_000_000), NUMBER] | None = Field(
        None, description="measured mean draw of all the GPUs in W, > 0 (for the draw curve's fit, never an input)"
    )
    pue: Annotated[float, Field(ge=1, le=3), NUMBER] | None = Field(None, description="the facility's PUE where the source states it, 1 to 3")
    kind: str | None = Field(None, description="'modelled' for a figure that is not a measurement")
    source: str | None = Field(None, description="where the figure comes from")

    @model_validator(mode="after")
    def _has_figure(self) -> Case:
        if self.energy_j_per_output_token is None and self.energy_wh_per_request is None:
            raise ValueError("needs energy_j_per_output_token or energy_wh_per_request")
        if self.energy_j_per_output_token is not None and self.energy_wh_per_request is not None:
            # The per-token figure is the one compared; a per-request figure that says otherwise would be silently ignored.
            per_request = self.energy_j_per_output_token * self.output_tokens / J_PER_WH
            if not math.isclose(per_request, self.energy_wh_per_request, rel_tol=FIGURES_AGREE_REL):
                raise ValueError(
                    f"energy_wh_per_request ({self.energy_wh_per_request:g}) disagrees with energy_j_per_output_token x output_tokens / 3600 "
                    f"({per_request:.6g}); allowed: both within {FIGURES_AGREE_REL:.0%} (their rounding), or only one of them"
                )
        if self.active_params_b is not None and self.total_params_b is not None and self.total_params_b < self.active_params_b:
            raise ValueError(f"total_params_b ({self.total_params_b}) must be >= active_params_b ({self.active_params_b})")
        if self.n_gpu is not None and self.parallelism is not None:
            for name in ("tensor", "expert", "data"):
                size = getattr(self.parallelism, name)
                if size is not None and size > self.n_gpu:
                    raise ValueError(f"parallelism.{name} ({size}) must be <= n_gpu ({self.n_gpu})")
        return self

    @property
    def published_wh(self) -> float:
        """The published energy per request, in Wh (from the per-token figure where given: it is the measured one)."""
        if self.energy_j_per_output_token is not None:
            return self.energy_j_per_output_token * self.output_tokens / J_PER_WH
        assert self.energy_wh_per_request is not None  # the validator requires one of the two
        return self.energy_wh_per_request

    @property
    def measured(self) -> bool:
        """A measurement (not a modelled figure) at the GPU boundary with every serving condition given: usable for fitting."""
        return (
            self.boundary == "gpu"
            and self.kind != "modelled"
            and None not in (self.active_params_b, self.n_gpu, self.batch_size, self.energy_j_per_output_token, self.hardware)
        )

    @property
    def data_parallel(self) -> int:
        """Attention replicas (data-parallel size): each reads the always-read weights for its share of the batch."""
        return 1 if self.parallelism is None or self.parallelism.data is None else self.parallelism.data


def parse_cases(data: Any, where: str = "cases file") -> list[Case]:
    """Validate parsed YAML ``{cases: [...]}``; an error names the case (its id, else its index) and the field."""
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list) or not data["cases"]:
        raise InvalidInputError(f"{where}: needs a top-level 'cases:' list with at least one case", code="invalid-cases-file")
    if len(data["cases"]) > MAX_CASES:
        raise InvalidInputError(f"{where}: cases: {len(data['cases']):,} cases; allowed: at most {MAX_CASES:,}", code="too-many-cases")
    cases = []
    for index, raw in enumerate(data["cases"]):
        name = raw.get("id") if isinstance(raw, dict) else None
        label = f"case {name[:60]!r}" if isinstance(name, str) and name else f"cases[{index}]"
        cases.append(parse(Case, raw, prefix=f"{where}: {label}.", code="invalid-cases-file"))
    seen: dict[str, int] = {}
    for index, case in enumerate(cases):
        if case.id in seen:
            raise InvalidInputError(f"{where}: cases[{index}].id: duplicate case id {case.id!r} (also cases[{seen[case.id]}])", code="invalid-cases-file")
        seen[case.id] = index
    return cases


def load_cases(path: Path | str) -> list[Case]:
    """Read and validate a cases file; YAML and schema errors name the file (and the case): a wrong file is a wrong call."""
    return parse_cases(read_yaml(Path(path), InvalidInputError, MAX_CASES_FILE_BYTES, "invalid-cases-file"), str(path))


def parse_cases_text(text: str | bytes, where: str = "upload") -> list[Case]:
    """Validate a cases file given as text (the API's upload)."""
    return parse_cases(parse_yaml(text, where, InvalidInputError, code="invalid-cases-file"), where)


def _gpu_name(config: Config, hardware: str | None) -> str:
    key = (hardware or "").strip().lower()
    return config.gpu(GPU_ALIASES.get(key, key))[0]


def _board_is_complete(config: Config, hardware: str | None) -> bool:
    """Whether the case's board is known and gives memory, bandwidth and compute (a measured machine gives none): the fit needs all three."""
    try:
        board = config.gpu(_gpu_name(config, hardware))[1]
    except CalculatorError:
        return False
    return None not in (board.memory_gb, board.memory_bandwidth_tb_per_s, board.bf16_tflop_per_s)


def _board_label(config: Config, hardware: str | None) -> str:
    """The board's name in config for the report's grouping, the case's own word when the board is unknown."""
    try:
        return _gpu_name(config, hardware)
    except CalculatorError:
        return (hardware or "unknown").strip().lower()


def case_input_tokens(case: Case, model: EnergyModelFile) -> tuple[int, str | None]:
    """The case's prompt tokens and, when not given, a note saying where the number comes from."""
    if case.input_tokens is not None:
        return case.input_tokens, None
    task = model.task(case.task)
    if task is not None:
        name, config = task
        return config.input_tokens, f"input tokens not given: {config.input_tokens}, the typical prompt of task '{name}' (config/energy_model.yaml)"
    return model.default_input_tokens, f"input tokens not given: {model.default_input_tokens} assumed"


def _batch_band(batch_size: float | None) -> str:
    if batch_size is None:
        return "not given"
    return next(label for low, high, label in BATCH_BANDS if low <= batch_size < high)


# --- the methods on one case ----------------------------------------------------------


def _predict_model_aware(case: Case, config: Config, model: EnergyModelFile, input_tokens: int) -> tuple[float, list[str]]:
    if case.active_params_b is None:
        raise InvalidInputError("active_params_b is not given: the model-aware method needs the model's size")
    modele, _, stated = model_aware_modele(
        config,
        model,
        active_params_b=case.active_params_b,
        total_params_b=case.total_params_b,
        precision=case.precision,
        gpu=_gpu_name(config, case.hardware),
        batch_size=case.batch_size,
        n_gpu=case.n_gpu,
        data_parallel=case.data_parallel,
        input_tokens=input_tokens,
        output_tokens=case.output_tokens,
    )
    site = site_from_config(config, pue=case.pue)
    result = estimate(Requete(input_tokens=input_tokens, output_tokens=case.output_tokens), modele, site)
    notes = list(stated)
    if case.boundary == "server":
        notes.append(f"server = GPUs x (1 + {modele.cpu_power_w / (modele.n_gpu * modele.gpu_power_w * modele.gpu_utilisation):.3g}): host and idle reserve")
    if case.boundary == "facility":
        notes.append(
            f"facility = GPUs x (1 + host and idle reserve) x PUE {site.pue:g}"
            + (" (the case's own)" if case.pue is not None else f" (default datacentre '{site.datacenter}')")
        )
    return getattr(result, BOUNDARY_FIELD[case.boundary]) * physics.WH_PER_KWH, notes


def _predict_ecologits(case: Case, config: Config, model: EnergyModelFile) -> tuple[float, list[str]]:
    if case.active_params_b is None:
        raise InvalidInputError("active_params_b is not given: EcoLogits' formula needs the model's size")
    eco = model.ecologits
    total = case.total_params_b or case.active_params_b
    n_gpu = float(ecologits_gpu_count(total, eco.quantization_bits, eco.gpu_memory_gb, eco.memory_overhead_fraction))
    gpu_wh = n_gpu * ecologits_gpu_energy_wh(
        case.active_params_b,
        case.output_tokens,
        eco.batch_size,
        eco.gpu_energy_alpha_wh_per_token_per_b,
        eco.gpu_energy_beta_per_request,
        eco.gpu_energy_gamma_wh_per_token,
    )
    notes = [
        f"EcoLogits' formula: batch {eco.batch_size:g}, {n_gpu:g} x {eco.gpu_memory_gb:g} GB GPUs for {eco.quantization_bits}-bit weights;"
        " the case's GPUs and batch are not used"
    ]
    if case.boundary == "gpu":
        return float(gpu_wh), notes
    server_wh = ecologits_server_energy_wh(
        case.active_params_b,
        case.output_tokens,
        eco.batch_size,
        n_gpu,
        eco.latency_alpha_s_per_token_per_b,
        eco.latency_beta_s_per_token_per_request,
        eco.latency_gamma_s_per_token,
        eco.server_power_w,
        eco.server_gpu_count,
    )
    it_wh = float(gpu_wh + server_wh)
    if case.boundary == "server":
        return it_wh, notes
    site = site_from_config(config, pue=case.pue)
    return it_wh * site.pue, [*notes, f"facility = server x PUE {site.pue:g}"]


def _predict_parameter(case: Case, config: Config) -> tuple[float, list[str]]:
    if case.active_params_b is None:
        raise InvalidInputError("active_params_b is not given: the parameter method needs the model's size")
    method = config.models_file().parameter_method
    energy_wh = methods.parameter.energy_wh(case.output_tokens, case.active_params_b, method.alpha_wh_per_token_per_b_params, method.beta_wh_per_token)
    return energy_wh, [f"one energy with no boundary split (the parameter method): compared as is with a {case.boundary}-boundary figure"]


def _predict_seed_quadratic(case: Case, config: Config, input_tokens: int) -> tuple[float, list[str]]:
    hardware, modele = modele_from_config(config)
    site = site_from_config(config, pue=case.pue)
    result = estimate(Requete(input_tokens=input_tokens, output_tokens=case.output_tokens), modele, site, SEED_QUADRATIC_METHOD)
    return getattr(result, BOUNDARY_FIELD[case.boundary]) * physics.WH_PER_KWH, [
        f"default hardware preset '{hardware}' ({modele.decode_tokens_per_s:g} tokens/s); the case's model, GPUs and batch are not used"
    ]


def predict(case: Case, method: str, config: Config, model: EnergyModelFile) -> dict[str, Any]:
    """One case under one method: predicted and published Wh per request, their ratio, or why it was skipped."""
    input_tokens, input_note = case_input_tokens(case, model)
    defaults = [] if input_note is None else [input_note]
    row: dict[str, Any] = {
        "id": case.id,
        "method": method,
        "boundary": case.boundary,
        "model": case.model,
        "task": case.task,
        "board": _board_label(config, case.hardware),
        "batch_size": case.batch_size,
        "published_wh_per_request": case.published_wh,
    }
    try:
        if method == MODEL_AWARE:
            predicted_wh, notes = _predict_model_aware(case, config, model, input_tokens)
        elif method == ECOLOGITS:
            predicted_wh, notes = _predict_ecologits(case, config, model)
            defaults = []
        elif method == PARAMETER:
            predicted_wh, notes = _predict_parameter(case, config)
            defaults = []
        elif method == SEED_QUADRATIC_METHOD:
            predicted_wh, notes = _predict_seed_quadratic(case, config, input_tokens)
        else:
            methods.get(method, "validate")  # raises: a one-line error naming the allowed methods
            raise InvalidInputError(f"method: {method!r} has no prediction for a case", code="unknown-method")
    except CalculatorError as error:
        if error.code == "unknown-method":
            raise
        return {**row, "status": "skipped", "reason": str(error)}
    ratio = predicted_wh / case.published_wh
    if not (math.isfinite(ratio) and ratio > 0):  # not reached within the figures' bounds; never an ok row without a ratio
        return {**row, "status": "skipped", "reason": f"predicted / published is not a finite positive number ({predicted_wh:g} Wh / {case.published_wh:g} Wh)"}
    return {
        **row,
        "status": "ok",
        "predicted_wh_per_request": predicted_wh,
        "ratio": ratio,
        "error_factor": max(ratio, 1 / ratio),
        "notes": defaults + notes,
    }


# --- summaries ---------------------------------------------------------------------------


def error_factor(ratios: Any) -> float:
    """Geometric mean of max(r, 1/r): 1 is perfect, 2 means off by a factor 2 on (geometric) average."""
    ratios = np.asarray(ratios, dtype=float)
    return float(np.exp(np.mean(np.abs(np.log(ratios))))) if ratios.size else float("nan")


def ratio_stats(ratios: Any) -> dict[str, Any]:
    """Error factor, bias (geometric mean of the ratios), share beyond 2x and count beyond 3x of a set of ratios."""
    ratios = np.asarray(ratios, dtype=float)
    off = np.abs(np.log(ratios))
    return {
        "n_cases": int(ratios.size),
        "error_factor": error_factor(ratios),
        "bias": float(np.exp(np.mean(np.log(ratios)))) if ratios.size else float("nan"),
        "share_beyond_2x": float(np.mean(off > np.log(2))) if ratios.size else float("nan"),
        "n_beyond_3x": int(np.sum(off > np.log(3))),
        "worst_factor": float(np.exp(off.max())) if ratios.size else float("nan"),
    }


def _group(rows: Sequence[dict[str, Any]], key: Callable[[dict[str, Any]], str], order: Sequence[str] = ()) -> dict[str, dict[str, Any]]:
    """Statistics of the rows' ratios by ``key``, in ``order`` first (then alphabetical)."""
    groups: dict[str, list[float]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row["ratio"])
    names = [name for name in order if name in groups] + sorted(name for name in groups if name not in order)
    return {name: ratio_stats(groups[name]) for name in names}


def breakdown(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Error statistics of the estimated rows by task, board, model and batch band."""
    return {
        "by_task": _group(rows, lambda row: row["task"] or "not given"),
        "by_board": _group(rows, lambda row: row["board"]),
        "by_model": _group(rows, lambda row: row["model"] or row["id"]),
        "by_batch_band": _group(rows, lambda row: _batch_band(row["batch_size"]), [label for _, _, label in BATCH_BANDS]),
    }


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Error factor, spread, breakdowns and worst cases of one method's rows (skipped cases listed, not counted)."""
    done = [row for row in rows if row["status"] == "ok"]
    worst = sorted(done, key=lambda row: row["error_factor"], reverse=True)
    stats = ratio_stats([row["ratio"] for row in done])
    return {
        "cases": rows,
        "error_factor": stats["error_factor"] if done else None,
        "worst_case": worst[0] if done else None,
        "n_cases": len(done),
        "share_beyond_2x": stats["share_beyond_2x"] if done else None,
        "n_beyond_3x": stats["n_beyond_3x"],
        "worst_cases": [{"id": row["id"], "ratio": row["ratio"], "error_factor": row["error_factor"]} for row in worst[:WORST_CASES_LISTED]],
        **(breakdown(done) if done else {"by_task": {}, "by_board": {}, "by_model": {}, "by_batch_band": {}}),
        "skipped": [{"id": row["id"], "reason": row["reason"]} for row in rows if row["status"] == "skipped"],
    }


def validate(
    cases: list[Case], config: Config, model: EnergyModelFile, methods: tuple[str, ...] = VALIDATION_METHODS, cross_validate: bool = False
) -> dict[str, Any]:
    """Every case under every method; the first method's summary is the headline (top-level keys).

    ``cross_validate`` adds ``leave_one_model_out``: the model-aware coefficients refitted on the file's measured
    GPU-boundary cases without each model in turn, and each model's cases predicted by the refit that did not see it.
    """
    results = {method: summarise([predict(case, method, config, model) for case in cases]) for method in methods}
    headline = methods[0]
    out = {"method": headline, **results[headline], "methods": results, "fit": model.fit.provenance}
    if cross_validate:
        out["leave_one_model_out"] = cross_validation_report(cases, config, model)
    return out


# --- fitting the model-aware coefficients -----------------------------------------------


FITTED = ("memory_j_per_byte", "flop_energy_factor", "moe_flop_energy_factor_per_gpu", "step_overhead_s_per_sqrt_b", "token_overhead_s_per_sqrt_b")
"""The energy coefficients fitted on the measured energies (SI units, as :func:`serving` takes them)."""

FIT_START = {
    "memory_j_per_byte": 2e-10,
    "flop_energy_factor": 1.5,
    "moe_flop_energy_factor_per_gpu": 2.0,
    "step_overhead_s_per_sqrt_b": 3e-4,
    "token_overhead_s_per_sqrt_b": 1e-5,
}
"""Where the fit starts (physical orders of magnitude: 0.2 nJ per HBM byte, a board at full power doing its peak)."""

POWER_START = {"draw_fraction_small_batch": 0.5, "draw_half_batch": 100.0}


def least_squares_log(residuals: Callable[[Any], Any], start: Sequence[float], iterations: int = 200) -> Any:
    """Levenberg-Marquardt on the logarithms of positive parameters: the ``x > 0`` minimising sum(residuals(x)^2).

    Deterministic (forward-difference Jacobian, a fixed damping schedule), numpy only.
    """
    x = np.log(np.asarray(start, dtype=float))
    r = residuals(np.exp(x))
    cost = float(r @ r)
    damping = 1e-2
    step_size = 1e-6
    for _ in range(iterations):
        jacobian = np.stack([(residuals(np.exp(x + step)) - r) / step_size for step in np.eye(len(x)) * step_size], axis=1)
        normal, gradient = jacobian.T @ jacobian, jacobian.T @ r
        improved = False
        while damping < 1e10:
            step = np.linalg.solve(normal + damping * np.diag(np.diag(normal) + 1e-12), -gradient)
            trial = residuals(np.exp(x + step))
            trial_cost = float(trial @ trial)
            if trial_cost < cost:
                improved = cost - trial_cost > 1e-14 * cost
                x, r, cost = x + step, trial, trial_cost
                damping = max(damping / 3, 1e-9)
                break
            damping *= 4
        if not improved:
            break
    return np.exp(x)


def case_columns(cases: list[Case], config: Config, model: EnergyModelFile) -> dict[str, Any]:
    """The measured cases as numpy columns for :func:`serving`, with the published and measured figures."""
    precisions = [model.precision(case.precision)[1] for case in cases]
    gpus = [config.gpu(_gpu_name(config, case.hardware))[1] for case in cases]
    return {
        "active_params_b": np.array([case.active_params_b for case in cases], dtype=float),
        "total_params_b": np.array([case.total_params_b or case.active_params_b for case in cases], dtype=float),
        "bytes_per_param": np.array([p.bytes_per_param for p in precisions]),
        "batch_size": np.array([case.batch_size for case in cases], dtype=float),
        "input_tokens": np.array([case_input_tokens(case, model)[0] for case in cases], dtype=float),
        "output_tokens": np.array([case.output_tokens for case in cases], dtype=float),
        "n_gpu": np.array([case.n_gpu for case in cases], dtype=float),
        "gpu_memory_gb": np.array([g.memory_gb for g in gpus], dtype=float),
        "gpu_power_w": np.array([g.power_w for g in gpus], dtype=float),
        "bf16_tflop_per_s": np.array([g.bf16_tflop_per_s for g in gpus], dtype=float),
        "data_parallel": np.array([case.data_parallel for case in cases], dtype=float),
        "published_j_per_token": np.array([case.published_wh * J_PER_WH / case.output_tokens for case in cases]),
        "measured_power_w": np.array([np.nan if case.gpu_power_w is None else case.gpu_power_w for case in cases]),
    }


def predicted_j_per_token(columns: dict[str, Any], coefficient_values: dict[str, Any]) -> Any:
    """GPU energy per output token (J) of each case column for the given coefficients (arrays broadcast)."""
    c = columns
    return serving(
        c["active_params_b"],
        c["total_params_b"],
        c["bytes_per_param"],
        c["batch_size"],
        c["input_tokens"],
        c["output_tokens"],
        c["n_gpu"],
        c["gpu_memory_gb"],
        c["gpu_power_w"],
        c["bf16_tflop_per_s"],
        c["data_parallel"],
        **coefficient_values,
    )["energy_per_output_token_j"]


def _subset(columns: dict[str, Any], keep: Any) -> dict[str, Any]:
    return {name: values[keep] for name, values in columns.items()}


def fit_energy_coefficients(columns: dict[str, Any], model: EnergyModelFile, start: dict[str, float] | None = None) -> dict[str, float]:
    """Least squares on log(predicted / published) energy per output token: the five :data:`FITTED` coefficients."""
    start = FIT_START if start is None else start
    fixed = {key: value for key, value in coefficients(model).items() if key not in FITTED}
    published = columns["published_j_per_token"]

    def residuals(x: Any) -> Any:
        return np.log(predicted_j_per_token(columns, {**fixed, **dict(zip(FITTED, x, strict=True))}) / published)

    return {name: float(value) for name, value in zip(FITTED, least_squares_log(residuals, [start[name] for name in FITTED]), strict=True)}


def fit_power_curve(columns: dict[str, Any]) -> dict[str, float]:
    """Least squares on log(predicted / measured) draw of the cases that give ``gpu_power_w``: the draw curve's two coefficients."""
    known = ~np.isnan(columns["measured_power_w"])
    if not known.any():
        raise InvalidInputError("no case gives gpu_power_w: the draw curve cannot be fitted", code="invalid-cases-file")
    c = _subset(columns, known)
    measured = c["measured_power_w"] / (c["n_gpu"] * c["gpu_power_w"])

    def residuals(x: Any) -> Any:
        return np.log(power_fraction(c["batch_size"], np.minimum(x[0], 1.0), x[1]) / measured)

    fraction, half = least_squares_log(residuals, [POWER_START["draw_fraction_small_batch"], POWER_START["draw_half_batch"]])
    return {"draw_fraction_small_batch": float(min(fraction, 1.0)), "draw_half_batch": float(half)}


def leave_one_model_out(columns: dict[str, Any], groups: Sequence[str], model: EnergyModelFile) -> tuple[Any, dict[str, dict[str, float]]]:
    """Ratio predicted / published of each case by a fit on the other models' cases, and each refit's coefficients."""
    labels = np.asarray(groups)
    fixed = {key: value for key, value in coefficients(model).items() if key not in FITTED}
    ratios = np.empty(len(labels))
    fits = {}
    for name in sorted(set(labels.tolist())):
        left_out = labels == name
        fitted = fit_energy_coefficients(_subset(columns, ~left_out), model)
        test = _subset(columns, left_out)
        ratios[left_out] = predicted_j_per_token(test, {**fixed, **fitted}) / test["published_j_per_token"]
        fits[name] = fitted
    return ratios, fits


def cross_validation_report(cases: list[Case], config: Config, model: EnergyModelFile) -> dict[str, Any]:
    """Leave-one-model-out ratios of the measured GPU-boundary cases, with their statistics overall and by task, board, model and batch band."""
    measured = [case for case in cases if case.measured and _board_is_complete(config, case.hardware)]
    names = [case.model or case.id for case in measured]
    if len(set(names)) < 2:
        return {"n_cases": len(measured), "skipped": "needs measured gpu-boundary cases of at least two models"}
    if len(set(names)) > MAX_CROSS_VALIDATION_MODELS:
        raise InvalidInputError(
            f"cross_validate: the measured cases name {len(set(names)):,} models (one refit each); allowed: at most {MAX_CROSS_VALIDATION_MODELS:,}",
            code="too-many-models",
        )
    ratios, fits = leave_one_model_out(case_columns(measured, config, model), names, model)
    rows = [
        {
            "id": case.id,
            "ratio": float(ratio),
            "model": case.model,
            "task": case.task,
            "board": _board_label(config, case.hardware),
            "batch_size": case.batch_size,
        }
        for case, ratio in zip(measured, ratios, strict=True)
    ]
    spread = {name: [min(fit[name] for fit in fits.values()), max(fit[name] for fit in fits.values())] for name in FITTED}
    return {**ratio_stats(ratios), **breakdown(rows), "cases": rows, "coefficient_ranges": spread}


def gpus_needed_check(cases: list[Case], config: Config, model: EnergyModelFile) -> list[tuple[str, int, int]]:
    """(id, GPUs the memory rule gives, GPUs the case used) for cases that state their GPU count."""
    out = []
    for case in cases:
        if case.n_gpu is None or case.active_params_b is None:
            continue
        gpu = config.gpu(_gpu_name(config, case.hardware))[1]
        bytes_per_param = model.precision(case.precision)[1].bytes_per_param
        rule = int(gpus_for_weights(case.total_params_b or case.active_params_b, bytes_per_param, gpu.memory_gb, model.memory.overhead_fraction))
        out.append((case.id, rule, case.n_gpu))
    return out


# --- the model-aware default's range against the measurements ------------------------------------------

COVERAGE_TASKS = ("chat", "reasoning")
"""The tasks whose measurements the default range is checked against (the code task's prompt length is a guess)."""


def default_range_coverage(cases: Sequence[Case], config: Config, model: EnergyModelFile) -> dict[str, Any]:
    """Whether each measured case lies within the range of its model's default estimate (the model named alone).

    The estimate is the one ``--model NAME`` gives with the case's tokens (its prompt: the task's typical one)
    at the case's boundary; the case's board, GPU count, precision and batch are not used: the deployment's
    ranges stand for them. Checked: the cases whose model the data pack resolves, on the chat and reasoning
    tasks, configured for at most the range's largest batch (``max_num_seqs``); the others are listed with
    their reason (those above the largest batch are estimated too, in ``beyond_largest_batch``). Returns every
    checked case (measured, low, central and high Wh), counts by model and task, and the excluded cases.
    """
    from .schemas import NamedRequest, estimate_named  # the interfaces' estimate, exactly as a user gets it

    largest = model.deployment.batch_size.high
    rows: list[dict[str, Any]] = []
    beyond: list[dict[str, Any]] = []
    excluded: list[dict[str, Any]] = []
    for case in cases:
        task = model.task(case.task)
        try:
            name = config.llm(str(case.model))[0] if case.model is not None else None
        except CalculatorError:
            name = None
        if name is None:
            reason = f"model {case.model!r} is not in the data pack"
        elif task is None or task[0] not in COVERAGE_TASKS:
            reason = f"task {case.task!r}: only {' and '.join(COVERAGE_TASKS)} are checked (the code task's prompt length is a guess)"
        elif case.max_num_seqs is not None and case.max_num_seqs > largest:
            reason = f"configured for up to {case.max_num_seqs:,} requests at once, above the range's largest batch ({largest:g}, vLLM's default cap)"
        else:
            reason = None
        if reason is not None:
            excluded.append({"id": case.id, "model": case.model, "reason": reason})
        if name is None or task is None or task[0] not in COVERAGE_TASKS:
            continue
        input_tokens, _ = case_input_tokens(case, model)
        result = estimate_named(config, NamedRequest(model=name, input_tokens=input_tokens, output_tokens=case.output_tokens)).to_dict()
        field = BOUNDARY_FIELD[case.boundary]
        low, central, high = (result[key] * physics.WH_PER_KWH for key in (f"{field}_min", field, f"{field}_max"))
        measured = case.published_wh
        row = {
            "id": case.id,
            "model": name,
            "task": task[0],
            "batch_size": case.batch_size,
            "measured_wh": measured,
            "low_wh": low,
            "central_wh": central,
            "high_wh": high,
            "inside": low <= measured <= high,
        }
        (beyond if reason is not None else rows).append(row)
    by_model: dict[str, dict[str, dict[str, int]]] = {}
    for row in rows:
        counts = by_model.setdefault(row["model"], {}).setdefault(row["task"], {"n_cases": 0, "inside": 0})
        counts["n_cases"] += 1
        counts["inside"] += int(row["inside"])
    return {
        "cases": rows,
        "n_cases": len(rows),
        "inside": sum(row["inside"] for row in rows),
        "by_model": by_model,
        "excluded": excluded,
        "beyond_largest_batch": beyond,
    }
