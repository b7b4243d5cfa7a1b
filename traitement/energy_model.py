"""Model-aware energy model: GPUs, speeds and power from the model's size, precision, GPU and batch.

The physics (docs/validation.md): a decode step of a batch of ``B`` requests
reads the weights it touches and the batch's KV cache from memory, and does
``2 x active parameters x B`` floating-point operations; it lasts the longer of
the two at a fitted fraction of the GPUs' bandwidth and compute. The GPUs draw
an idle share of their board power plus a share that rises with the batch and
saturates. Prefill is compute-bound. Every function takes floats or numpy
arrays, so the fit evaluates all cases and all candidate coefficients at once.

The coefficients come from ``config/energy_model.yaml``, read once at the edge
by :func:`load_energy_model`; the functions here take them as arguments.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import Field, model_validator

from . import physics
from .base import Frozen, parse
from .config import Config, config_dir, read_yaml, validate_file
from .core import Modele
from .errors import InvalidInputError, UnknownNameError

ENERGY_MODEL_FILE = "energy_model.yaml"
BYTES_PER_GB = 1e9
FLOP_PER_TFLOP = 1e12
BYTES_PER_TB = 1e12
PARAMS_PER_B = 1e9

Positive = Annotated[float, Field(gt=0)]
Efficiency = Annotated[float, Field(gt=0, le=1)]
Fraction = Annotated[float, Field(ge=0, le=1)]


class PrecisionConfig(Frozen):
    bytes_per_param: Annotated[float, Field(gt=0, le=8)]
    compute_factor: Annotated[float, Field(gt=0, le=16)]
    source: str


class MemoryConfig(Frozen):
    overhead_fraction: Annotated[float, Field(ge=0, le=5)]
    usable_fraction: Efficiency


class KvCacheConfig(Frozen):
    bytes_per_token_coefficient: Positive
    bytes_per_token_exponent: Annotated[float, Field(ge=0, le=2)]


class FitConfig(Frozen):
    bandwidth_efficiency: Efficiency
    compute_efficiency: Efficiency
    idle_power_fraction: Fraction
    batch_half_activity: Positive
    idle_power_fraction_min: Fraction
    idle_power_fraction_max: Fraction
    residual_factor: Annotated[float, Field(ge=1, le=100)]
    provenance: str

    @model_validator(mode="after")
    def _ordered(self) -> FitConfig:
        if not self.idle_power_fraction_min <= self.idle_power_fraction <= self.idle_power_fraction_max:
            raise ValueError("need idle_power_fraction_min <= idle_power_fraction <= idle_power_fraction_max")
        return self


class EnergyModelFile(Frozen):
    """``config/energy_model.yaml``."""

    precisions: dict[str, PrecisionConfig]
    default_precision: str
    memory: MemoryConfig
    kv_cache: KvCacheConfig
    default_input_tokens: Annotated[int, Field(ge=1, le=10_000_000)]
    fit: FitConfig

    @model_validator(mode="after")
    def _default_precision_exists(self) -> EnergyModelFile:
        if self.default_precision not in self.precisions:
            raise ValueError(f"default_precision: unknown precision {self.default_precision!r}; known: {', '.join(self.precisions)}")
        return self

    def precision(self, name: str | None) -> tuple[str, PrecisionConfig]:
        """The precision ``name`` (case-insensitive), or the default one when ``None``."""
        key = (name or self.default_precision).strip().lower()
        if key not in self.precisions:
            raise UnknownNameError(f"unknown precision {name!r}; known: {', '.join(sorted(self.precisions))}", code="unknown-precision")
        return key, self.precisions[key]


@lru_cache(maxsize=8)
def _load(path: Path) -> EnergyModelFile:
    return validate_file(EnergyModelFile, read_yaml(path), path)


def load_energy_model(directory: Path | str | None = None) -> EnergyModelFile:
    """Read and validate ``energy_model.yaml`` from the config folder (cached per path)."""
    return _load(Path(directory or config_dir()) / ENERGY_MODEL_FILE)


# --- physics: one function per quantity, floats or numpy arrays -----------------


def gpus_for_weights(total_params_b, bytes_per_param, gpu_memory_gb, overhead_fraction):
    """GPUs needed to hold the model: ceil(weights x (1 + overhead) / memory), rounded up to a power of two.

    Tensor parallelism splits a model over 1, 2, 4 or 8 GPUs (a power of two
    divides the attention heads evenly).
    """
    needed = np.ceil(total_params_b * PARAMS_PER_B * bytes_per_param * (1 + overhead_fraction) / (gpu_memory_gb * BYTES_PER_GB))
    return 2.0 ** np.ceil(np.log2(np.maximum(needed, 1.0)))


def params_read_per_step_b(active_params_b, total_params_b, batch_size):
    """Parameters (billions) read from memory by one decode step of ``batch_size`` tokens.

    Dense model: all of them. Mixture of experts: each token uses a share
    f = active / total of the parameters; with B tokens a parameter is left
    untouched with probability (1 - f)^B, so total x (1 - (1 - f)^B): the
    active ones at batch 1, all of them at a large batch.
    """
    share = active_params_b / total_params_b
    return total_params_b * (1 - (1 - share) ** batch_size)


def kv_cache_bytes_per_token(active_params_b, coefficient, exponent):
    """KV cache bytes per token of context: coefficient x active_params_b ^ exponent (bf16 cache)."""
    return coefficient * active_params_b**exponent


def kv_cache_read_bytes(batch_size, context_tokens, bytes_per_token, n_gpu, gpu_memory_gb, usable_fraction, weight_bytes):
    """KV cache read by one decode step: the batch's contexts, at most what the memory left after the weights holds."""
    free_bytes = np.maximum(n_gpu * gpu_memory_gb * BYTES_PER_GB * usable_fraction - weight_bytes, 0.0)
    return np.minimum(batch_size * context_tokens * bytes_per_token, free_bytes)


def decode_step_s(read_bytes, flop, n_gpu, bandwidth_tb_per_s, tflop_per_s, bandwidth_efficiency, compute_efficiency):
    """Duration of one decode step in seconds: the longer of memory time and compute time (roofline)."""
    memory_s = read_bytes / (n_gpu * bandwidth_tb_per_s * BYTES_PER_TB * bandwidth_efficiency)
    compute_s = flop / (n_gpu * tflop_per_s * FLOP_PER_TFLOP * compute_efficiency)
    return np.maximum(memory_s, compute_s)


def power_fraction(batch_size, idle_power_fraction, batch_half_activity):
    """Mean GPU draw as a fraction of board power: idle + (1 - idle) x B / (B + B_half), rising with the batch and saturating."""
    return idle_power_fraction + (1 - idle_power_fraction) * batch_size / (batch_size + batch_half_activity)


def prefill_tokens_per_s(active_params_b, batch_size, n_gpu, tflop_per_s, compute_efficiency):
    """Prompt reading speed of one request when ``batch_size`` requests share the GPUs (compute-bound: 2 x params FLOP per token)."""
    return n_gpu * tflop_per_s * FLOP_PER_TFLOP * compute_efficiency / (2 * active_params_b * PARAMS_PER_B * batch_size)


def serving(
    active_params_b,
    total_params_b,
    bytes_per_param,
    compute_factor,
    batch_size,
    context_tokens,
    n_gpu,
    gpu_memory_gb,
    bandwidth_tb_per_s,
    bf16_tflop_per_s,
    *,
    bandwidth_efficiency,
    compute_efficiency,
    idle_power_fraction,
    batch_half_activity,
    kv_coefficient,
    kv_exponent,
    usable_fraction,
):
    """Per-request decode and prefill speeds and the GPU draw of a model served at ``batch_size``."""
    tflop_per_s = bf16_tflop_per_s * compute_factor
    weight_bytes = params_read_per_step_b(active_params_b, total_params_b, batch_size) * PARAMS_PER_B * bytes_per_param
    kv_bytes = kv_cache_read_bytes(
        batch_size,
        context_tokens,
        kv_cache_bytes_per_token(active_params_b, kv_coefficient, kv_exponent),
        n_gpu,
        gpu_memory_gb,
        usable_fraction,
        total_params_b * PARAMS_PER_B * bytes_per_param,
    )
    flop = 2 * active_params_b * PARAMS_PER_B * batch_size
    step_s = decode_step_s(weight_bytes + kv_bytes, flop, n_gpu, bandwidth_tb_per_s, tflop_per_s, bandwidth_efficiency, compute_efficiency)
    return {
        "decode_step_s": step_s,
        "decode_tokens_per_s": 1 / step_s,
        "prefill_tokens_per_s": prefill_tokens_per_s(active_params_b, batch_size, n_gpu, tflop_per_s, compute_efficiency),
        "gpu_utilisation": power_fraction(batch_size, idle_power_fraction, batch_half_activity),
        "weight_read_gb": weight_bytes / BYTES_PER_GB,
        "kv_cache_read_gb": kv_bytes / BYTES_PER_GB,
    }


def gpu_energy_per_request_kwh(speeds, n_gpu, gpu_power_w, input_tokens, output_tokens, batch_size):
    """GPU energy of one request (kWh) from :func:`serving`'s speeds, with the project's formulas (physics.py)."""
    duration_s = physics.prefill_duration_s(input_tokens, speeds["prefill_tokens_per_s"]) + physics.decode_duration_s(
        output_tokens, speeds["decode_tokens_per_s"]
    )
    power_w = physics.gpu_power_w(n_gpu, gpu_power_w, speeds["gpu_utilisation"])
    return physics.request_energy_kwh(power_w, duration_s, batch_size)


def coefficients(model: EnergyModelFile, **fit_overrides: Any) -> dict[str, float]:
    """The keyword arguments of :func:`serving` from the config (``fit_overrides`` replace fitted ones)."""
    fit = model.fit
    values = {
        "bandwidth_efficiency": fit.bandwidth_efficiency,
        "compute_efficiency": fit.compute_efficiency,
        "idle_power_fraction": fit.idle_power_fraction,
        "batch_half_activity": fit.batch_half_activity,
        "kv_coefficient": model.kv_cache.bytes_per_token_coefficient,
        "kv_exponent": model.kv_cache.bytes_per_token_exponent,
        "usable_fraction": model.memory.usable_fraction,
    }
    values.update(fit_overrides)
    return values


# --- a serving setup (Modele) for one model ------------------------------------------


def model_aware_modele(
    config: Config,
    model: EnergyModelFile,
    *,
    active_params_b: float,
    total_params_b: float | None = None,
    precision: str | None = None,
    hardware: str | None = None,
    gpu: str | None = None,
    batch_size: float | None = None,
    n_gpu: int | None = None,
    input_tokens: float,
    output_tokens: float,
) -> tuple[Modele, dict[str, Any], tuple[str, ...]]:
    """The serving setup of a model on a hardware preset's GPU board, with ranges.

    ``gpu`` replaces the preset's board. Returns the ``Modele`` (GPU count from memory, speeds and draw from the
    physics above), the assumptions to record and notes on the defaults used.
    The host CPU, embodied carbon and lifetime come from the hardware preset,
    the CPU power scaled to the GPU count. Ranges: the decode speed spans the
    fit's residual factor and the preset's batch range when no batch is given;
    the GPU draw spans the idle fractions of the leave-one-out refits.
    """
    total_params_b = active_params_b if total_params_b is None else total_params_b
    notes = []
    if total_params_b < active_params_b:
        raise InvalidInputError(f"total_params_b: must be >= active_params_b ({active_params_b}), got {total_params_b}")
    precision_name, precision_config = model.precision(precision)
    if precision is None:
        notes.append(f"precision not given: {precision_name} assumed")
    preset_name, preset = config.hardware(hardware)
    gpu_name, board = config.gpu(gpu or preset.gpu)
    if board.memory_gb is None or board.memory_bandwidth_tb_per_s is None or board.bf16_tflop_per_s is None:
        raise InvalidInputError(
            f"gpu {gpu_name!r}: its memory, bandwidth or compute is unknown (a measured machine); "
            "allowed: a GPU board of config_model.yaml that gives all three",
            code="incomplete-gpu",
        )
    if n_gpu is None:
        n_gpu = int(gpus_for_weights(total_params_b, precision_config.bytes_per_param, board.memory_gb, model.memory.overhead_fraction))
        notes.append(f"GPU count not given: {n_gpu} x {gpu_name} hold the weights (x{1 + model.memory.overhead_fraction:g} for overhead)")
    if batch_size is None:
        # The preset's concurrent requests per GPU, kept on a larger or smaller server (as its CPU power and embodied carbon are).
        per_gpu = n_gpu / preset.n_gpu
        batches: tuple[float, ...] = (preset.batch_size.low * per_gpu, preset.batch_size.value * per_gpu, preset.batch_size.high * per_gpu)
        batch_size = batches[1]
        notes.append(
            f"batch size not given: {batch_size:g} (range {batches[0]:g}-{batches[2]:g}), hardware preset '{preset_name}''s "
            f"{preset.batch_size.value:g} requests per {preset.n_gpu} GPUs scaled to {n_gpu} GPUs"
        )
    else:
        batches = (batch_size,)
    weights_gb = total_params_b * precision_config.bytes_per_param
    if weights_gb * (1 + model.memory.overhead_fraction) > n_gpu * board.memory_gb:
        notes.append(f"the weights ({weights_gb:g} GB) do not fit in {n_gpu} x {board.memory_gb:g} GB: speeds are optimistic")
    context_tokens = input_tokens + output_tokens / 2
    coefficient_values = coefficients(model)
    per_batch = [
        serving(
            active_params_b,
            total_params_b,
            precision_config.bytes_per_param,
            precision_config.compute_factor,
            batch,
            context_tokens,
            n_gpu,
            board.memory_gb,
            board.memory_bandwidth_tb_per_s,
            board.bf16_tflop_per_s,
            **coefficient_values,
        )
        for batch in batches
    ]
    central = per_batch[len(batches) // 2]
    # Energy per output token at each batch, relative to the central batch; the spread goes into the decode-speed range.
    relative = [float(s["gpu_utilisation"] / s["decode_tokens_per_s"] / b) for s, b in zip(per_batch, batches, strict=True)]
    reference = float(central["gpu_utilisation"] / central["decode_tokens_per_s"] / batch_size)
    decode = float(central["decode_tokens_per_s"])
    k = model.fit.residual_factor
    decode_bounds = (decode * reference / max(relative) / k, decode * reference / min(relative) * k)
    utilisation = float(central["gpu_utilisation"])
    utilisation_bounds = (
        float(power_fraction(batch_size, model.fit.idle_power_fraction_min, model.fit.batch_half_activity)),
        float(power_fraction(batch_size, model.fit.idle_power_fraction_max, model.fit.batch_half_activity)),
    )
    bounds = {"decode_tokens_per_s": decode_bounds}
    if utilisation_bounds[0] < utilisation_bounds[1]:
        bounds["gpu_utilisation"] = utilisation_bounds
    modele = parse(
        Modele,
        dict(
            n_gpu=n_gpu,
            gpu_power_w=board.power_w,
            gpu_utilisation=utilisation,
            cpu_power_w=preset.cpu_power_w * n_gpu / preset.n_gpu,
            cpu_utilisation=preset.cpu_utilisation.value,
            prefill_tokens_per_s=float(central["prefill_tokens_per_s"]),
            decode_tokens_per_s=decode,
            batch_size=batch_size,
            gpu_embodied_kgco2eq=board.embodied_kgco2eq.value,
            server_embodied_kgco2eq=preset.server_embodied_kgco2eq.value * n_gpu / preset.n_gpu,
            lifetime_years=preset.lifetime_years.value,
            bounds=bounds,
        ),
    )
    assumptions = {
        "hardware": preset_name,
        "energy_model": "model-aware",
        "gpu": gpu_name,
        "active_params_b": active_params_b,
        "total_params_b": total_params_b,
        "precision": precision_name,
        "decode_step_s": float(central["decode_step_s"]),
        "weight_read_gb": float(central["weight_read_gb"]),
        "kv_cache_read_gb": float(central["kv_cache_read_gb"]),
    }
    return modele, assumptions, tuple(notes)
