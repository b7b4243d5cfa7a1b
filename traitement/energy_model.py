"""Model-aware energy model: GPU energy from the model's size, precision, GPU board, GPU count and batch.

The physics (docs/validation.md): a decode step of a batch of ``B`` requests
costs energy for the bytes it reads from memory (the weights it touches and the
batch's KV cache), for the arithmetic it does (``2 x active parameters x B``
FLOP), and a fixed time of board power per step and per token for the work
that grows with the model's depth rather than its width (kernel launches,
synchronisation, norms, sampling). Prefill costs ``2 x active parameters`` FLOP
per prompt token. The GPUs' draw rises with the batch and saturates; with the
energy it gives the step's duration. Every function takes floats or numpy
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

from .base import INTEGER, NUMBER, Frozen, parse
from .config import Config, Uncertain, config_dir, read_yaml, validate_file, within
from .core import MAX_PREFILL_TOKENS_PER_S, BatchSize, Modele
from .errors import InvalidInputError, UnknownNameError
from .reference import pack_version
from .reference.schemas import GpuEntry

ENERGY_MODEL_FILE = "energy_model.yaml"
BYTES_PER_GB = 1e9
FLOP_PER_TFLOP = 1e12
PARAMS_PER_B = 1e9
J_PER_PJ = 1e-12
S_PER_MS = 1e-3
S_PER_US = 1e-6
J_PER_WH = 3600.0
HOST_POWER_LIMIT_W = 5000.0
"""Upper bound of ``Modele.cpu_power_w`` (core.py): one host's power."""

Positive = Annotated[float, Field(gt=0), NUMBER]
Efficiency = Annotated[float, Field(gt=0, le=1), NUMBER]
Fraction = Annotated[float, Field(ge=0, le=1), NUMBER]


class PrecisionConfig(Frozen):
    bytes_per_param: Annotated[float, Field(gt=0, le=8), NUMBER]
    source: str


class MemoryConfig(Frozen):
    overhead_fraction: Annotated[float, Field(ge=0, le=5), NUMBER]
    usable_fraction: Efficiency


class KvCacheConfig(Frozen):
    bytes_per_token_coefficient: Positive
    bytes_per_token_exponent: Annotated[float, Field(ge=0, le=2), NUMBER]


class MoeConfig(Frozen):
    routed_share: Annotated[float, Field(gt=0, lt=1), NUMBER]
    gpu_count_cap: Annotated[int, Field(ge=1, le=1024), INTEGER]


class TaskConfig(Frozen):
    input_tokens: Annotated[int, Field(ge=1, le=10_000_000), INTEGER]
    labels: Annotated[list[str], Field(min_length=1)]
    source: str


class EcologitsConfig(Frozen):
    """EcoLogits' published LLM formula (its constants as shipped), a reference row of ``validate``."""

    gpu_energy_alpha_wh_per_token_per_b: Positive
    gpu_energy_beta_per_request: Annotated[float, NUMBER]
    gpu_energy_gamma_wh_per_token: Annotated[float, Field(ge=0), NUMBER]
    latency_alpha_s_per_token_per_b: Annotated[float, Field(ge=0), NUMBER]
    latency_beta_s_per_token_per_request: Annotated[float, Field(ge=0), NUMBER]
    latency_gamma_s_per_token: Annotated[float, Field(ge=0), NUMBER]
    batch_size: Annotated[float, Field(ge=1), NUMBER]
    quantization_bits: Annotated[int, Field(ge=1, le=64), INTEGER]
    gpu_memory_gb: Positive
    memory_overhead_fraction: Annotated[float, Field(ge=0, le=5), NUMBER]
    server_power_w: Annotated[float, Field(ge=0), NUMBER]
    server_gpu_count: Annotated[int, Field(ge=1), INTEGER]
    source: str


class BoundaryConfig(Frozen):
    """From the GPUs' energy to the server's: host CPUs and memory, and machines held idle in reserve."""

    host_share_of_gpu_energy: Annotated[float, Field(ge=0, le=5), NUMBER]
    idle_reserve_share_of_gpu_energy: Annotated[float, Field(ge=0, le=5), NUMBER]
    source: str


class FitConfig(Frozen):
    memory_pj_per_byte: Annotated[float, Field(gt=0, le=10_000), NUMBER]
    flop_energy_factor: Annotated[float, Field(gt=0, le=100), NUMBER]
    moe_flop_energy_factor_per_gpu: Annotated[float, Field(gt=0, le=100), NUMBER]
    step_overhead_ms_per_sqrt_b: Annotated[float, Field(ge=0, le=1000), NUMBER]
    token_overhead_us_per_sqrt_b: Annotated[float, Field(ge=0, le=1_000_000), NUMBER]
    draw_fraction_small_batch: Efficiency
    draw_half_batch: Annotated[float, Field(ge=0, le=1_000_000), NUMBER]
    residual_factor: Annotated[float, Field(ge=1, le=100), NUMBER]
    provenance: str


class OlderBoardConfig(Frozen):
    """A board of an older generation that also serves the models up to a size (``deployment.older_boards``)."""

    board: str = Field(description="a GPU board of config_model.yaml or of the data pack")
    models_up_to_total_params_b: Annotated[float, Field(gt=0, le=100_000), NUMBER] = Field(description="the largest model it serves, in billions of parameters")
    max_batch_size: Annotated[float, Field(ge=1, le=100_000), NUMBER] | None = Field(None, description="the most requests it runs at once (null: the range's)")


class DeploymentConfig(Frozen):
    """``deployment:``: how a model named without its serving setup is served (the model-aware default's ranges)."""

    boards: Annotated[list[str], Field(min_length=1)] = Field(description="the GPU boards models are served on")
    older_boards: list[OlderBoardConfig] = Field(default_factory=list, description="boards that also serve the smaller models")
    node_gpus: Annotated[int, Field(ge=1, le=1024), INTEGER] = Field(description="the most GPUs of a serving instance that fits in memory with fewer")
    precisions: Annotated[list[str], Field(min_length=1)] = Field(description="weight precisions when the data pack does not know the model's")
    batch_size: Annotated[Uncertain, within(BatchSize)] = Field(description="mean running batch per serving instance: central value and range")
    kv_cache_low_factor: Efficiency = Field(description="the low estimate's share of the KV-cache formula (latent attention, sliding windows)")
    central_board: str = Field(description="the board of the central (typical) deployment")
    central_precision: str = Field(description="the central precision when the data pack does not know the model's")
    server_from_hardware: str = Field(description="the serving setup of config_model.yaml whose host embodied carbon per GPU and lifetime are used")
    source: str


class EnergyModelFile(Frozen):
    """``config/energy_model.yaml``."""

    precisions: dict[str, PrecisionConfig]
    default_precision: str
    memory: MemoryConfig
    kv_cache: KvCacheConfig
    moe: MoeConfig
    tasks: dict[str, TaskConfig]
    default_input_tokens: Annotated[int, Field(ge=1, le=10_000_000), INTEGER]
    ecologits: EcologitsConfig
    boundaries: BoundaryConfig
    deployment: DeploymentConfig
    fit: FitConfig

    @model_validator(mode="after")
    def _names_exist(self) -> EnergyModelFile:
        if self.default_precision not in self.precisions:
            raise ValueError(f"default_precision: unknown precision {self.default_precision!r}; known: {', '.join(self.precisions)}")
        labels = [label.strip().lower() for task in self.tasks.values() for label in task.labels]
        duplicates = sorted({label for label in labels if labels.count(label) > 1})
        if duplicates:
            raise ValueError(f"tasks: the label {duplicates[0]!r} names two tasks")
        deployment = self.deployment
        for name in (*deployment.precisions, deployment.central_precision):
            if name not in self.precisions:
                raise ValueError(f"deployment: unknown precision {name!r}; known: {', '.join(self.precisions)}")
        return self

    def precision(self, name: str | None) -> tuple[str, PrecisionConfig]:
        """The precision ``name`` (case-insensitive), or the default one when ``None``."""
        key = (self.default_precision if name is None else name).strip().lower()
        if not key:
            known = ", ".join(sorted(self.precisions))
            raise InvalidInputError(f"precision: must not be empty (got {name!r}); allowed: one of {known}", code="empty-precision")
        if key not in self.precisions:
            raise UnknownNameError(f"precision: unknown precision {name!r}; known: {', '.join(sorted(self.precisions))}", code="unknown-precision")
        return key, self.precisions[key]

    def task(self, label: str | None) -> tuple[str, TaskConfig] | None:
        """The task one of whose labels is ``label`` (case-insensitive), or ``None`` when none is."""
        key = (label or "").strip().lower()
        for name, task in self.tasks.items():
            if key in (item.strip().lower() for item in task.labels):
                return name, task
        return None


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


def always_read_params_b(active_params_b, total_params_b, routed_share):
    """Parameters (billions) read at every step whatever the batch: all of a dense model's.

    A mixture of experts (total > active) reads its attention, embeddings and
    shared experts every step: the active parameters outside the routed experts,
    (1 - routed_share) x active.
    """
    return np.where(total_params_b > active_params_b, (1 - routed_share) * active_params_b, active_params_b)


def params_read_per_step_b(active_params_b, total_params_b, batch_size, routed_share, data_parallel=1.0):
    """Parameters (billions) read from memory by one decode step of ``batch_size`` tokens.

    Dense model: all of them. Mixture of experts: the always-read part (once per
    data-parallel attention replica), plus the routed experts the batch touches.
    Each token uses a share f = routed active / routed total of them; with B tokens
    an expert parameter stays unread with probability (1 - f)^B, so the step reads
    routed total x (1 - (1 - f)^B): the active experts at batch 1, all of them at
    a large batch.
    """
    dense = always_read_params_b(active_params_b, total_params_b, routed_share)
    routed = total_params_b - dense
    share = np.where(routed > 0, (active_params_b - dense) / np.maximum(routed, 1e-12), 0.0)
    return dense * data_parallel + routed * (1 - (1 - share) ** batch_size)


def kv_cache_bytes_per_token(active_params_b, coefficient, exponent):
    """KV cache bytes per token of context: coefficient x active_params_b ^ exponent (bf16 cache)."""
    return coefficient * active_params_b**exponent


def free_memory_bytes(n_gpu, gpu_memory_gb, usable_fraction, weight_bytes):
    """Memory left for the KV cache, in bytes: the usable share of the GPUs' memory less the weights (at least 0)."""
    return np.maximum(n_gpu * gpu_memory_gb * BYTES_PER_GB * usable_fraction - weight_bytes, 0.0)


def kv_cache_read_bytes(batch_size, context_tokens, bytes_per_token, n_gpu, gpu_memory_gb, usable_fraction, weight_bytes):
    """KV cache read by one decode step: the batch's contexts, at most what the memory left after the weights holds."""
    return np.minimum(batch_size * context_tokens * bytes_per_token, free_memory_bytes(n_gpu, gpu_memory_gb, usable_fraction, weight_bytes))


def batch_capacity(free_bytes, context_tokens, bytes_per_token):
    """Requests whose KV cache the free memory holds at once: free bytes / (mean context x bytes per token).

    A server cannot run more requests at once than their caches fit in memory
    (vLLM queues the others): a long prompt lowers the batch and raises the
    energy each request is charged for the weights read at every step.
    """
    return free_bytes / (context_tokens * bytes_per_token)


def context_tokens(input_tokens, output_tokens):
    """Mean context of a request during decode, in tokens: the prompt plus half the answer."""
    return input_tokens + output_tokens / 2


def flop_energy_j(gpu_power_w, bf16_tflop_per_s, flop_energy_factor):
    """Energy of one dense FLOP in joules: factor x board power / peak bf16 FLOP/s.

    A factor of 1 is a board at full power doing its datasheet's dense bf16
    rate; the fit gives the factor. Every precision is charged the bf16 rate.
    """
    return flop_energy_factor * gpu_power_w / (bf16_tflop_per_s * FLOP_PER_TFLOP)


def moe_flop_multiplier(active_params_b, total_params_b, n_gpu, factor_per_gpu, gpu_count_cap):
    """How many times a dense FLOP's energy a mixture of experts' FLOP costs: factor x GPU count (1 when dense).

    Grouped expert matrix products with few tokens per expert, and the exchange
    of tokens between GPUs, keep every GPU drawing power for work that does not
    shrink when the experts are spread over more GPUs. The GPU count is held at
    ``gpu_count_cap``, the largest group measured: not extrapolated beyond.
    """
    return np.where(total_params_b > active_params_b, factor_per_gpu * np.minimum(n_gpu, gpu_count_cap), 1.0)


def overhead_energy_j(gpu_power_w, active_params_b, n_gpu, batch_size, step_overhead_s_per_sqrt_b, token_overhead_s_per_sqrt_b):
    """Energy of one decode step's depth-bound work, in joules.

    Each step holds every GPU for step_overhead x sqrt(active_params_b) seconds,
    and each token in it one board for token_overhead x sqrt(active_params_b)
    seconds, at board power: launches, synchronisation, norms and sampling grow
    with the number of layers (about sqrt(size)), not with the matrices' width.
    """
    depth = np.sqrt(active_params_b)
    return gpu_power_w * depth * (n_gpu * step_overhead_s_per_sqrt_b + batch_size * token_overhead_s_per_sqrt_b)


def decode_step_energy_j(read_bytes, flop, flop_j, memory_j_per_byte, overhead_j):
    """GPU energy of one decode step in joules: bytes read + arithmetic + depth-bound overhead."""
    return memory_j_per_byte * read_bytes + flop_j * flop + overhead_j


def prefill_energy_j(active_params_b, input_tokens, flop_j):
    """GPU energy of reading one prompt in joules: 2 x active parameters FLOP per input token."""
    return flop_j * 2 * active_params_b * PARAMS_PER_B * input_tokens


def cached_prefill_energy_j(cached_tokens, bytes_per_token, memory_j_per_byte):
    """GPU energy of the cached part of a prompt in joules: its KV cache read once (bytes per token x energy per byte).

    A prefix served from the cache (prompt caching, prefix caching) is not
    recomputed: the new tokens' attention reads its keys and values. At the
    fit's 211 pJ per byte that is about 1/2,000 of recomputing it (Llama-3.1-70B:
    306 kB per token, 65 uJ, against 0.14 J for 2 x 70.6 G FLOP on an H100).
    """
    return cached_tokens * bytes_per_token * memory_j_per_byte


def power_fraction(batch_size, small_batch_fraction, half_batch):
    """Mean GPU draw as a fraction of board power: f0 + (1 - f0) x B / (B + B_half), rising with the batch and saturating."""
    return small_batch_fraction + (1 - small_batch_fraction) * batch_size / (batch_size + half_batch)


def serving(
    active_params_b,
    total_params_b,
    bytes_per_param,
    batch_size,
    input_tokens,
    output_tokens,
    n_gpu,
    gpu_memory_gb,
    gpu_power_w,
    bf16_tflop_per_s,
    data_parallel=1.0,
    cached_input_tokens=0.0,
    *,
    memory_j_per_byte,
    flop_energy_factor,
    moe_flop_energy_factor_per_gpu,
    step_overhead_s_per_sqrt_b,
    token_overhead_s_per_sqrt_b,
    draw_fraction_small_batch,
    draw_half_batch,
    kv_coefficient,
    kv_exponent,
    usable_fraction,
    routed_share,
    moe_gpu_count_cap,
):
    """Energies, draw and speeds of a model served at ``batch_size`` (floats or numpy arrays).

    Returns the decode step's and one prompt's GPU energy (J), the GPUs' draw,
    and the per-request speeds that give that energy at that draw with the
    project's formula (energy = power x (prefill + decode time) / batch).
    """
    weights = params_read_per_step_b(active_params_b, total_params_b, batch_size, routed_share, data_parallel) * PARAMS_PER_B * bytes_per_param
    kv_per_token = kv_cache_bytes_per_token(active_params_b, kv_coefficient, kv_exponent)
    kv_bytes = kv_cache_read_bytes(
        batch_size,
        context_tokens(input_tokens, output_tokens),
        kv_per_token,
        n_gpu,
        gpu_memory_gb,
        usable_fraction,
        total_params_b * PARAMS_PER_B * bytes_per_param,
    )
    flop_j = flop_energy_j(gpu_power_w, bf16_tflop_per_s, flop_energy_factor) * moe_flop_multiplier(
        active_params_b, total_params_b, n_gpu, moe_flop_energy_factor_per_gpu, moe_gpu_count_cap
    )
    overhead_j = overhead_energy_j(gpu_power_w, active_params_b, n_gpu, batch_size, step_overhead_s_per_sqrt_b, token_overhead_s_per_sqrt_b)
    step_j = decode_step_energy_j(weights + kv_bytes, 2 * active_params_b * PARAMS_PER_B * batch_size, flop_j, memory_j_per_byte, overhead_j)
    prompt_j = prefill_energy_j(active_params_b, input_tokens - cached_input_tokens, flop_j) + cached_prefill_energy_j(
        cached_input_tokens, kv_per_token, memory_j_per_byte
    )
    utilisation = power_fraction(batch_size, draw_fraction_small_batch, draw_half_batch)
    power_w = n_gpu * gpu_power_w * utilisation
    step_s = step_j / power_w
    # One request's prompt costs prompt_j: at the GPUs' draw shared by the batch, its prefill lasts prompt_j x B / power.
    # A prompt that costs nothing (a refit on a few cases may set the FLOP energy to 0) is read at infinite speed.
    with np.errstate(divide="ignore"):
        prefill_tokens_per_s = power_w * input_tokens / (batch_size * prompt_j)
    return {
        "decode_step_energy_j": step_j,
        "prefill_energy_j": prompt_j,
        "energy_per_output_token_j": step_j / batch_size + prompt_j / output_tokens,
        "gpu_utilisation": utilisation,
        "decode_step_s": step_s,
        "decode_tokens_per_s": 1 / step_s,
        "prefill_tokens_per_s": prefill_tokens_per_s,
        "weight_read_gb": weights / BYTES_PER_GB,
        "kv_cache_read_gb": kv_bytes / BYTES_PER_GB,
    }


def coefficients(model: EnergyModelFile, **overrides: Any) -> dict[str, float]:
    """The keyword arguments of :func:`serving` from the config, in SI units (``overrides`` replace any)."""
    fit = model.fit
    values = {
        "memory_j_per_byte": fit.memory_pj_per_byte * J_PER_PJ,
        "flop_energy_factor": fit.flop_energy_factor,
        "moe_flop_energy_factor_per_gpu": fit.moe_flop_energy_factor_per_gpu,
        "step_overhead_s_per_sqrt_b": fit.step_overhead_ms_per_sqrt_b * S_PER_MS,
        "token_overhead_s_per_sqrt_b": fit.token_overhead_us_per_sqrt_b * S_PER_US,
        "draw_fraction_small_batch": fit.draw_fraction_small_batch,
        "draw_half_batch": fit.draw_half_batch,
        "kv_coefficient": model.kv_cache.bytes_per_token_coefficient,
        "kv_exponent": model.kv_cache.bytes_per_token_exponent,
        "usable_fraction": model.memory.usable_fraction,
        "routed_share": model.moe.routed_share,
        "moe_gpu_count_cap": model.moe.gpu_count_cap,
    }
    values.update(overrides)
    return values


# --- EcoLogits' published formula (a reference row of validate) -------------------


def ecologits_gpu_count(total_params_b, quantization_bits, gpu_memory_gb, overhead_fraction):
    """EcoLogits' GPU count: ceil((1 + overhead) x total x bits / 8 / GPU memory), rounded up to a power of two."""
    return gpus_for_weights(total_params_b, quantization_bits / 8, gpu_memory_gb, overhead_fraction)


def ecologits_gpu_energy_wh(active_params_b, output_tokens, batch_size, alpha, beta, gamma):
    """EcoLogits' energy of ONE GPU for a request in Wh: output_tokens x (alpha x exp(beta x batch) x active + gamma)."""
    return output_tokens * (alpha * np.exp(beta * batch_size) * active_params_b + gamma)


def ecologits_server_energy_wh(active_params_b, output_tokens, batch_size, n_gpu, latency_alpha, latency_beta, latency_gamma, server_power_w, server_gpu_count):
    """EcoLogits' server energy without the GPUs in Wh: latency x server power x its GPU share / batch."""
    latency_s = output_tokens * (latency_alpha * active_params_b + latency_beta * batch_size + latency_gamma)
    return latency_s / J_PER_WH * server_power_w * (n_gpu / server_gpu_count) / batch_size


# --- a serving setup (Modele) for one model ------------------------------------------

MAX_GPUS = 1024
"""Most GPUs of a serving setup (``Modele.n_gpu``)."""


def _setup_modele(**values: Any) -> Modele:
    return parse(Modele, values)



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
    data_parallel: int = 1,
    input_tokens: float,
    output_tokens: float,
    cached_input_tokens: float = 0,
) -> tuple[Modele, dict[str, Any], tuple[str, ...]]:
    """The serving setup of a model on a hardware preset's GPU board, with ranges.

    ``gpu`` replaces the preset's board. Returns the ``Modele`` (GPU count from memory unless given, draw and
    speeds from the physics above), the assumptions to record and notes on the defaults used. The host
    (CPUs, memory and machines held in reserve) draws ``boundaries`` shares of the GPUs' power; embodied carbon
    and lifetime come from the hardware preset, the server's embodied carbon scaled to the GPU count. Range: the
    decode speed spans the fit's residual factor, widened by the preset's batch range when no batch is given.
    """
    size_field = "active_params_b" if total_params_b is None else "total_params_b"  # what an error about the model's size names
    total_params_b = active_params_b if total_params_b is None else total_params_b
    notes = []
    if total_params_b < active_params_b:
        raise InvalidInputError(f"total_params_b: must be >= active_params_b ({active_params_b}), got {total_params_b}")
    precision_name, precision_config = model.precision(precision)
    if precision is None:
        notes.append(f"precision not given: {precision_name} assumed")
    preset_name, preset = config.hardware(hardware)
    gpu_name, board = config.gpu(gpu or preset.gpu)
    tensor_tflop_per_s = board.tensor16_tflop_per_s
    if board.memory_gb is None or board.memory_bandwidth_tb_per_s is None or tensor_tflop_per_s is None:
        raise InvalidInputError(
            f"gpu {gpu_name!r}: its memory, bandwidth or compute is unknown (a measured machine); "
            "allowed: a GPU board of config_model.yaml or of the data pack, which give all three",
            code="incomplete-gpu",
        )
    if board.embodied_kgco2eq is None:
        notes.append(f"embodied carbon of the {gpu_name} boards not counted: no source in the data pack gives it (the server's is)")
    if n_gpu is None:
        n_gpu = int(gpus_for_weights(total_params_b, precision_config.bytes_per_param, board.memory_gb, model.memory.overhead_fraction))
        if n_gpu > MAX_GPUS:
            raise InvalidInputError(
                f"{size_field}: the weights ({total_params_b * precision_config.bytes_per_param:,.0f} GB in {precision_name}) need {n_gpu:,} x {gpu_name}, "
                f"more than {MAX_GPUS:,}; allowed: a smaller model (total_params_b, active_params_b, model), a lower precision (precision) "
                "or hardware whose GPU has more memory (hardware)",
                code="model-too-large",
            )
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
    if total_params_b > active_params_b and n_gpu > model.moe.gpu_count_cap:
        notes.append(f"mixture of experts on {n_gpu} GPUs: its FLOP energy is taken at {model.moe.gpu_count_cap} GPUs, the most measured (not extrapolated)")
    weights_gb = total_params_b * precision_config.bytes_per_param
    if weights_gb * (1 + model.memory.overhead_fraction) > n_gpu * board.memory_gb:
        notes.append(f"the weights ({weights_gb:g} GB) do not fit in {n_gpu} x {board.memory_gb:g} GB: the estimate is optimistic")
    coefficient_values = coefficients(model)
    per_batch = [
        serving(
            active_params_b,
            total_params_b,
            precision_config.bytes_per_param,
            batch,
            input_tokens,
            output_tokens,
            n_gpu,
            board.memory_gb,
            board.power_w,
            tensor_tflop_per_s,
            data_parallel,
            cached_input_tokens,
            **coefficient_values,
        )
        for batch in batches
    ]
    central = per_batch[len(batches) // 2]
    kv_per_token = kv_cache_bytes_per_token(active_params_b, model.kv_cache.bytes_per_token_coefficient, model.kv_cache.bytes_per_token_exponent)
    context = context_tokens(input_tokens, output_tokens)
    kv_needed_gb, kv_held_gb = batch_size * context * kv_per_token / BYTES_PER_GB, float(central["kv_cache_read_gb"])
    if kv_needed_gb > kv_held_gb * (1 + 1e-9):
        notes.append(
            f"the KV cache of {batch_size:g} requests of {context:,.0f} tokens ({kv_needed_gb:,.3g} GB) does not fit in the memory left "
            f"after the weights ({kv_held_gb:,.3g} GB on {n_gpu} x {gpu_name}): it is clipped to that, and the estimate is optimistic; "
            "a smaller batch_size fits"
        )
    # Decode energy per output token at each batch, relative to the central batch; the spread goes into the decode-speed range.
    relative = [float(s["decode_step_energy_j"] / b) for s, b in zip(per_batch, batches, strict=True)]
    reference = float(central["decode_step_energy_j"] / batch_size)
    decode = float(central["decode_tokens_per_s"])
    k = model.fit.residual_factor
    decode_bounds = (decode * reference / max(relative) / k, decode * reference / min(relative) * k)
    utilisation = float(central["gpu_utilisation"])
    host_share = model.boundaries.host_share_of_gpu_energy + model.boundaries.idle_reserve_share_of_gpu_energy
    host_power_w = host_share * n_gpu * board.power_w * utilisation
    if host_power_w > HOST_POWER_LIMIT_W:
        notes.append(f"host power {host_power_w:.0f} W capped at {HOST_POWER_LIMIT_W:.0f} W (the calculator's limit for one host): server energy understated")
        host_power_w = HOST_POWER_LIMIT_W
    prefill_speed = float(central["prefill_tokens_per_s"])
    if prefill_speed > MAX_PREFILL_TOKENS_PER_S:  # a prompt read almost all from the cache, on a small model
        notes.append(
            f"prefill speed {prefill_speed:,.0f} tokens/s capped at {MAX_PREFILL_TOKENS_PER_S:,.0f} (the calculator's limit): "
            "the cached prompt's energy is overstated"
        )
        prefill_speed = MAX_PREFILL_TOKENS_PER_S
    try:
        modele = _setup_modele(
            n_gpu=n_gpu,
            gpu_power_w=board.power_w,
            gpu_utilisation=utilisation,
            cpu_power_w=host_power_w,
            cpu_utilisation=1.0,
            prefill_tokens_per_s=prefill_speed,
            decode_tokens_per_s=decode,
            batch_size=batch_size,
            gpu_embodied_kgco2eq=board.embodied_kgco2eq.value if board.embodied_kgco2eq is not None else 0.0,
            server_embodied_kgco2eq=preset.server_embodied_kgco2eq.value * n_gpu / preset.n_gpu,
            lifetime_years=preset.lifetime_years.value,
            bounds={"decode_tokens_per_s": decode_bounds},
        )
    except InvalidInputError as error:  # a field derived from the model's size: name what the user can change
        raise InvalidInputError(
            f"{size_field}: the serving setup derived for this model is out of range ({error}); allowed: a smaller model "
            "(total_params_b, active_params_b, model), a lower precision (precision), another hardware preset (hardware) or batch_size",
            code="model-too-large",
        ) from None
    assumptions = {
        "hardware": preset_name,
        "energy_model": "model-aware",
        "gpu": gpu_name,
        **({"gpu_source": f"{board.source} ({board.year})", "data_pack_version": pack_version()} if isinstance(board, GpuEntry) else {}),
        "active_params_b": active_params_b,
        "total_params_b": total_params_b,
        "precision": precision_name,
        "decode_step_s": float(central["decode_step_s"]),
        "decode_step_energy_j": float(central["decode_step_energy_j"]),
        "prefill_energy_j": float(central["prefill_energy_j"]),
        "weight_read_gb": float(central["weight_read_gb"]),
        "kv_cache_read_gb": float(central["kv_cache_read_gb"]),
        "host_share_of_gpu_energy": host_share,
    }
    return modele, assumptions, tuple(notes)
