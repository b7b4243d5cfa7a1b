"""Validation against published measurements, and the fit of the model-aware energy model.

A cases file (``data/validation/published_cases.yaml`` or any file of the
same schema) lists published energy figures with the conditions they were
measured under. :func:`validate` estimates each case with the project's
methods under the case's own boundary (a GPU-only figure is compared with the
GPU-only part of the estimate) and returns per-case ratios and the error
factor: the geometric mean of max(r, 1/r). :func:`fit_coefficients` fits the
model-aware coefficients on the measured GPU-boundary cases.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from . import methods, physics
from .base import Frozen, parse
from .config import Config, parse_yaml, read_yaml
from .core import Requete, estimate
from .energy_model import EnergyModelFile, coefficients, gpu_energy_per_request_kwh, gpus_for_weights, model_aware_modele, serving
from .errors import CalculatorError, ConfigError, InvalidInputError
from .presets import modele_from_config, site_from_config

MODEL_AWARE = methods.model_aware.NAME
PARAMETER = methods.parameter.NAME
SEED_QUADRATIC_METHOD = methods.seed_quadratic.NAME
VALIDATION_METHODS = methods.names("validate")
J_PER_WH = 3600.0

# What each boundary compares: the part of the estimate that holds the same energy.
BOUNDARY_FIELD = {"gpu": "energy_gpu_kwh", "server": "energy_it_kwh", "facility": "energy_kwh"}

# Hardware names used by published cases for the boards of config/config_model.yaml.
GPU_ALIASES = {"h100-sxm": "h100", "h100-sxm5": "h100", "a100-sxm": "a100", "a100-sxm4": "a100", "h200-sxm": "h200"}

class Case(Frozen):
    """One published figure and the conditions it was measured under."""

    id: str = Field(min_length=1, max_length=200)
    model: str | None = None
    active_params_b: Annotated[float, Field(ge=0.1, le=100_000)] | None = None
    total_params_b: Annotated[float, Field(ge=0.1, le=100_000)] | None = None
    precision: str | None = None
    hardware: str | None = None
    n_gpu: Annotated[int, Field(ge=1, le=1024)] | None = None
    batch_size: Annotated[float, Field(ge=1, le=100_000)] | None = None
    input_tokens: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    output_tokens: Annotated[int, Field(ge=1, le=10_000_000)]
    boundary: Literal["gpu", "server", "facility"]
    energy_j_per_output_token: Annotated[float, Field(gt=0)] | None = None
    energy_wh_per_request: Annotated[float, Field(gt=0)] | None = None
    pue: Annotated[float, Field(ge=1, le=3)] | None = None
    kind: str | None = None
    source: str | None = None

    @model_validator(mode="after")
    def _has_figure(self) -> Case:
        if self.energy_j_per_output_token is None and self.energy_wh_per_request is None:
            raise ValueError("needs energy_j_per_output_token or energy_wh_per_request")
        if self.active_params_b is not None and self.total_params_b is not None and self.total_params_b < self.active_params_b:
            raise ValueError(f"total_params_b ({self.total_params_b}) must be >= active_params_b ({self.active_params_b})")
        return self

    @property
    def published_wh(self) -> float:
        """The published energy per request, in Wh (from the per-token figure where given: it is the measured one)."""
        if self.energy_j_per_output_token is not None:
            return self.energy_j_per_output_token * self.output_tokens / J_PER_WH
        assert self.energy_wh_per_request is not None  # _has_figure: one of the two figures is given
        return self.energy_wh_per_request

    @property
    def measured(self) -> bool:
        """A measurement (not a modelled figure) at the GPU boundary with every serving condition given: usable for fitting."""
        return (
            self.boundary == "gpu"
            and self.kind != "modelled"
            and None not in (self.active_params_b, self.n_gpu, self.batch_size, self.energy_j_per_output_token, self.hardware)
        )


def parse_cases(data: Any, where: str = "cases file") -> list[Case]:
    """Validate parsed YAML ``{cases: [...]}``; an error names the case (its id, else its index) and the field."""
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list) or not data["cases"]:
        raise InvalidInputError(f"{where}: needs a top-level 'cases:' list with at least one case", code="invalid-cases-file")
    cases = []
    for index, raw in enumerate(data["cases"]):
        name = raw.get("id") if isinstance(raw, dict) else None
        label = f"case {name!r}" if name else f"cases[{index}]"
        cases.append(parse(Case, raw, prefix=f"{where}: {label}.", code="invalid-cases-file"))
    ids = [case.id for case in cases]
    duplicates = sorted({case_id for case_id in ids if ids.count(case_id) > 1})
    if duplicates:
        raise InvalidInputError(f"{where}: duplicate case id {duplicates[0]!r}", code="invalid-cases-file")
    return cases


def load_cases(path: Path | str) -> list[Case]:
    """Read and validate a cases file; YAML and schema errors name the file (and the case): a wrong file is a wrong call."""
    try:
        data = read_yaml(Path(path))
    except ConfigError as error:
        raise InvalidInputError(str(error), code="invalid-cases-file") from None
    return parse_cases(data, str(path))


def parse_cases_text(text: str | bytes, where: str = "upload") -> list[Case]:
    """Validate a cases file given as text (the API's upload)."""
    return parse_cases(parse_yaml(text, where, InvalidInputError, code="invalid-cases-file"), where)


def _gpu_name(config: Config, hardware: str | None) -> str:
    key = (hardware or "").strip().lower()
    return config.gpu(GPU_ALIASES.get(key, key))[0]


# --- the three methods on one case ----------------------------------------------------


def _predict_model_aware(case: Case, config: Config, model: EnergyModelFile, input_tokens: int) -> tuple[float, list[str]]:
    if case.active_params_b is None:
        raise InvalidInputError("active_params_b is not given: the model-aware method needs the model's size")
    modele, _, model_notes = model_aware_modele(
        config,
        model,
        active_params_b=case.active_params_b,
        total_params_b=case.total_params_b,
        precision=case.precision,
        gpu=_gpu_name(config, case.hardware),
        batch_size=case.batch_size,
        n_gpu=case.n_gpu,
        input_tokens=input_tokens,
        output_tokens=case.output_tokens,
    )
    site = site_from_config(config, pue=case.pue)
    result = estimate(Requete(input_tokens=input_tokens, output_tokens=case.output_tokens), modele, site)
    notes = list(model_notes)
    if case.boundary == "server":
        notes.append(f"server = GPUs + host CPU share ({modele.cpu_power_w:g} W at {modele.cpu_utilisation:.0%}) from the default hardware preset")
    if case.boundary == "facility":
        notes.append(
            f"facility = (GPUs + host CPU) x PUE {site.pue:g}" + (" (the case's own)" if case.pue is not None else f" (default datacentre '{site.datacenter}')")
        )
    return getattr(result, BOUNDARY_FIELD[case.boundary]) * physics.WH_PER_KWH, notes


def _predict_parameter(case: Case, config: Config) -> tuple[float, list[str]]:
    if case.active_params_b is None:
        raise InvalidInputError("active_params_b is not given: the parameter method needs the model's size")
    method = config.models_file().parameter_method
    energy_wh = methods.parameter.energy_wh(case.output_tokens, case.active_params_b, method.alpha_wh_per_token_per_b_params, method.beta_wh_per_token)
    return energy_wh, [f"one energy with no boundary split (seed 003): compared as is with a {case.boundary}-boundary figure"]


def _predict_seed_quadratic(case: Case, config: Config, input_tokens: int) -> tuple[float, list[str]]:
    hardware, modele = modele_from_config(config)
    site = site_from_config(config, pue=case.pue)
    result = estimate(Requete(input_tokens=input_tokens, output_tokens=case.output_tokens), modele, site, SEED_QUADRATIC_METHOD)
    return getattr(result, BOUNDARY_FIELD[case.boundary]) * physics.WH_PER_KWH, [
        f"default hardware preset '{hardware}' ({modele.decode_tokens_per_s:g} tokens/s); the case's model, GPUs and batch are not used"
    ]


def predict(case: Case, method: str, config: Config, model: EnergyModelFile) -> dict[str, Any]:
    """One case under one method: predicted and published Wh per request, their ratio, or why it was skipped."""
    input_tokens = case.input_tokens if case.input_tokens is not None else model.default_input_tokens
    defaults = [] if case.input_tokens is not None else [f"input tokens not given: {input_tokens} assumed"]
    row: dict[str, Any] = {"id": case.id, "method": method, "boundary": case.boundary, "published_wh_per_request": case.published_wh}
    try:
        if method == MODEL_AWARE:
            predicted_wh, notes = _predict_model_aware(case, config, model, input_tokens)
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
    return {
        **row,
        "status": "ok",
        "predicted_wh_per_request": predicted_wh,
        "ratio": ratio,
        "error_factor": max(ratio, 1 / ratio),
        "notes": defaults + notes,
    }


def error_factor(ratios: Any) -> float:
    """Geometric mean of max(r, 1/r): 1 is perfect, 2 means off by a factor 2 on (geometric) average."""
    ratios = np.asarray(ratios, dtype=float)
    return float(np.exp(np.mean(np.abs(np.log(ratios))))) if ratios.size else float("nan")


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Error factor and worst case of one method's rows (skipped cases listed, not counted)."""
    done = [row for row in rows if row["status"] == "ok"]
    worst = max(done, key=lambda row: row["error_factor"]) if done else None
    return {
        "cases": rows,
        "error_factor": error_factor([row["ratio"] for row in done]) if done else None,
        "worst_case": worst,
        "n_cases": len(done),
        "skipped": [{"id": row["id"], "reason": row["reason"]} for row in rows if row["status"] == "skipped"],
    }


def validate(cases: list[Case], config: Config, model: EnergyModelFile, methods: tuple[str, ...] = VALIDATION_METHODS) -> dict[str, Any]:
    """Every case under every method; the first method's summary is the headline (top-level keys)."""
    results = {method: summarise([predict(case, method, config, model) for case in cases]) for method in methods}
    headline = methods[0]
    return {"method": headline, **results[headline], "methods": results, "fit": model.fit.provenance}


# --- fitting the model-aware coefficients -----------------------------------------------


FIT_GRID = {
    "bandwidth_efficiency": np.arange(0.2, 1.0001, 0.025),
    "compute_efficiency": np.arange(0.1, 1.0001, 0.05),
    "idle_power_fraction": np.arange(0.1, 0.9001, 0.05),
    "batch_half_activity": np.geomspace(1, 2048, 23),
}
"""Coarse grid of the fitted coefficients: physical ranges (efficiencies up to 1, idle draw 10 to 90% of board power)."""


def case_columns(cases: list[Case], config: Config, model: EnergyModelFile) -> dict[str, Any]:
    """The measured cases as numpy columns for :func:`serving`."""
    precisions = [model.precision(case.precision)[1] for case in cases]
    gpus = [config.gpu(_gpu_name(config, case.hardware))[1] for case in cases]
    input_tokens = np.array([case.input_tokens or model.default_input_tokens for case in cases], dtype=float)
    output_tokens = np.array([case.output_tokens for case in cases], dtype=float)
    return {
        "active_params_b": np.array([case.active_params_b for case in cases], dtype=float),
        "total_params_b": np.array([case.total_params_b or case.active_params_b for case in cases], dtype=float),
        "bytes_per_param": np.array([p.bytes_per_param for p in precisions]),
        "compute_factor": np.array([p.compute_factor for p in precisions]),
        "batch_size": np.array([case.batch_size for case in cases], dtype=float),
        "n_gpu": np.array([case.n_gpu for case in cases], dtype=float),
        "gpu_memory_gb": np.array([g.memory_gb for g in gpus]),
        "bandwidth_tb_per_s": np.array([g.memory_bandwidth_tb_per_s for g in gpus]),
        "bf16_tflop_per_s": np.array([g.bf16_tflop_per_s for g in gpus]),
        "gpu_power_w": np.array([g.power_w for g in gpus]),
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "context_tokens": input_tokens + output_tokens / 2,
        "published_wh": np.array([case.published_wh for case in cases]),
    }


def predicted_wh(columns: dict[str, Any], coefficient_values: dict[str, Any]) -> Any:
    """GPU energy per request (Wh) of each case column for the given coefficients (arrays broadcast)."""
    c = columns
    speeds = serving(
        c["active_params_b"],
        c["total_params_b"],
        c["bytes_per_param"],
        c["compute_factor"],
        c["batch_size"],
        c["context_tokens"],
        c["n_gpu"],
        c["gpu_memory_gb"],
        c["bandwidth_tb_per_s"],
        c["bf16_tflop_per_s"],
        **coefficient_values,
    )
    energy_kwh = gpu_energy_per_request_kwh(speeds, c["n_gpu"], c["gpu_power_w"], c["input_tokens"], c["output_tokens"], c["batch_size"])
    return energy_kwh * physics.WH_PER_KWH


def _grid_search(columns: dict[str, Any], fixed: dict[str, float], grid: dict[str, Any]) -> dict[str, float]:
    names = list(grid)
    mesh = np.meshgrid(*(np.asarray(grid[name], dtype=float) for name in names), indexing="ij")
    candidates = {name: axis.reshape(-1, 1) for name, axis in zip(names, mesh, strict=True)}
    log_ratio = np.log(predicted_wh(columns, {**fixed, **candidates}) / columns["published_wh"])
    best = int(np.argmin(np.sum(log_ratio**2, axis=1)))
    return {name: float(candidates[name][best, 0]) for name in names}


def fit_coefficients(columns: dict[str, Any], model: EnergyModelFile, grid: dict[str, Any] | None = None, refinements: int = 2) -> dict[str, float]:
    """Least squares on log(predicted / published): a coarse grid, then ``refinements`` finer grids around the best point."""
    grid = FIT_GRID if grid is None else grid
    fixed = {key: value for key, value in coefficients(model).items() if key not in grid}
    best = _grid_search(columns, fixed, grid)
    steps = {name: (np.max(values) - np.min(values)) / max(len(values) - 1, 1) for name, values in grid.items()}
    for _ in range(refinements):
        finer = {}
        for name, values in grid.items():
            low, high = float(np.min(values)), float(np.max(values))
            finer[name] = np.clip(np.linspace(best[name] - steps[name], best[name] + steps[name], 9), low, high)
            steps[name] = steps[name] / 4
        best = _grid_search(columns, fixed, finer)
    return best


def leave_one_out(columns: dict[str, Any], model: EnergyModelFile, grid: dict[str, Any] | None = None) -> tuple[Any, list[dict[str, float]]]:
    """Ratio predicted / published of each case by a fit on all the other cases, and each refit's coefficients."""
    n = len(columns["published_wh"])
    ratios, fits = [], []
    for left_out in range(n):
        keep = np.arange(n) != left_out
        train = {name: values[keep] for name, values in columns.items()}
        test = {name: values[~keep] for name, values in columns.items()}
        fitted = fit_coefficients(train, model, grid)
        fixed = {key: value for key, value in coefficients(model).items() if key not in fitted}
        ratios.append(float(predicted_wh(test, {**fixed, **fitted})[0] / test["published_wh"][0]))
        fits.append(fitted)
    return np.array(ratios), fits


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

