#!/usr/bin/env python3
"""GPU energy per output token of the Llama-3.1-8B architecture across batch sizes.

Measures, with NVML, the GPU energy of LLM inference (prefill and decode
separately) for a model with the real Llama-3.1-8B shapes, built from
``transformers.LlamaConfig`` with random bf16 weights (no weights can be
downloaded on the measurement machine).  For a fixed number of generated
tokens, the work done (matrix shapes, kernels, memory traffic) does not depend
on the weights' values, so neither do time nor energy; the generated tokens
themselves are meaningless.

Generation is a manual greedy loop with the Hugging Face KV cache
(``DynamicCache``, as ``generate`` uses by default) and SDPA attention:
one prefill forward pass over the prompt produces output token 1, then
``output_tokens - 1`` decode steps produce the rest.  EOS is never checked, so
every sequence has exactly ``output_tokens`` new tokens.

Energy: ``nvmlDeviceGetTotalEnergyConsumption`` (mJ since driver load) read
before and after each phase, with ``torch.cuda.synchronize()`` on both sides.
Power: ``nvmlDeviceGetPowerUsage`` sampled in a background thread.

Usage (on a CUDA machine):
    PYTHONUNBUFFERED=1 python3 benchmarks/gpu_energy_sweep.py --out OUTDIR
Logic check without a GPU (tiny model, CPU, no NVML):
    python3 benchmarks/gpu_energy_sweep.py --dry-run --out /tmp/sweep

This script never changes clocks, power limits or any GPU setting.
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import gc
import json
import math
import os
import platform
import threading
import time

import torch

# Llama-3.1-8B shapes (meta-llama/Llama-3.1-8B config.json).
LLAMA31_8B = dict(
    vocab_size=128256,
    hidden_size=4096,
    intermediate_size=14336,
    num_hidden_layers=32,
    num_attention_heads=32,
    num_key_value_heads=8,
    head_dim=128,
    max_position_embeddings=131072,
    rms_norm_eps=1e-5,
    tie_word_embeddings=False,
    bos_token_id=128000,
    eos_token_id=128001,
)
LLAMA31_ROPE = {
    "rope_type": "llama3",
    "rope_theta": 500000.0,
    "factor": 8.0,
    "low_freq_factor": 1.0,
    "high_freq_factor": 4.0,
    "original_max_position_embeddings": 8192,
}
TINY = dict(
    vocab_size=1000,
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=16,
    max_position_embeddings=16384,
    rms_norm_eps=1e-5,
    tie_word_embeddings=False,
    bos_token_id=1,
    eos_token_id=2,
)

TDP_W = 700.0  # H100 SXM board power (the divisor the project uses for utilisation)


# --------------------------------------------------------------------------- NVML
class Nvml:
    """Thin wrapper that degrades to NaN when NVML is not available."""

    def __init__(self, index: int = 0):
        self.ok = False
        self.handle = None
        self.err = None
        try:
            import pynvml  # nvidia-ml-py

            pynvml.nvmlInit()
            self.nv = pynvml
            self.handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            self.ok = True
        except Exception as e:  # no driver, no package, no GPU
            self.err = repr(e)

    def _try(self, fn, *a, default=None):
        if not self.ok:
            return default
        try:
            return fn(*a)
        except Exception:
            return default

    def energy_mj(self) -> float:
        v = self._try(lambda: self.nv.nvmlDeviceGetTotalEnergyConsumption(self.handle))
        return float(v) if v is not None else math.nan

    def power_w(self) -> float:
        v = self._try(lambda: self.nv.nvmlDeviceGetPowerUsage(self.handle))
        return v / 1000.0 if v is not None else math.nan

    def metadata(self) -> dict:
        if not self.ok:
            return {"nvml_available": False, "nvml_error": self.err}
        nv, h = self.nv, self.handle

        def s(x):
            return x.decode() if isinstance(x, bytes) else x

        md = {"nvml_available": True}
        md["gpu_name"] = self._try(lambda: s(nv.nvmlDeviceGetName(h)))
        md["driver_version"] = self._try(lambda: s(nv.nvmlSystemGetDriverVersion()))
        md["nvml_version"] = self._try(lambda: s(nv.nvmlSystemGetNVMLVersion()))
        md["cuda_driver_version"] = self._try(lambda: nv.nvmlSystemGetCudaDriverVersion_v2())
        md["vbios_version"] = self._try(lambda: s(nv.nvmlDeviceGetVbiosVersion(h)))
        md["power_management_limit_w"] = self._try(
            lambda: nv.nvmlDeviceGetPowerManagementLimit(h) / 1000.0)
        md["enforced_power_limit_w"] = self._try(
            lambda: nv.nvmlDeviceGetEnforcedPowerLimit(h) / 1000.0)
        md["default_power_limit_w"] = self._try(
            lambda: nv.nvmlDeviceGetPowerManagementDefaultLimit(h) / 1000.0)
        cons = self._try(lambda: nv.nvmlDeviceGetPowerManagementLimitConstraints(h))
        if cons:
            md["power_limit_constraints_w"] = [cons[0] / 1000.0, cons[1] / 1000.0]
        mem = self._try(lambda: nv.nvmlDeviceGetMemoryInfo(h))
        if mem is not None:
            md["memory_total_mib"] = mem.total / 2**20
        md["max_sm_clock_mhz"] = self._try(
            lambda: nv.nvmlDeviceGetMaxClockInfo(h, nv.NVML_CLOCK_SM))
        md["max_mem_clock_mhz"] = self._try(
            lambda: nv.nvmlDeviceGetMaxClockInfo(h, nv.NVML_CLOCK_MEM))
        md["persistence_mode"] = self._try(lambda: nv.nvmlDeviceGetPersistenceMode(h))
        md["compute_mode"] = self._try(lambda: nv.nvmlDeviceGetComputeMode(h))
        md["temperature_c_at_start"] = self._try(
            lambda: nv.nvmlDeviceGetTemperature(h, nv.NVML_TEMPERATURE_GPU))
        return md

    def clocks(self) -> dict:
        if not self.ok:
            return {}
        nv, h = self.nv, self.handle
        return {
            "sm_clock_mhz": self._try(lambda: nv.nvmlDeviceGetClockInfo(h, nv.NVML_CLOCK_SM)),
            "mem_clock_mhz": self._try(lambda: nv.nvmlDeviceGetClockInfo(h, nv.NVML_CLOCK_MEM)),
            "temperature_c": self._try(
                lambda: nv.nvmlDeviceGetTemperature(h, nv.NVML_TEMPERATURE_GPU)),
        }


class PowerSampler(threading.Thread):
    """Samples board power every `interval_s`, tagging each sample with the current phase."""

    def __init__(self, nvml: Nvml, interval_s: float = 0.02):
        super().__init__(daemon=True)
        self.nvml, self.interval_s = nvml, interval_s
        self.phase = "idle"
        self.samples: list[tuple[float, str, float]] = []
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            p = self.nvml.power_w()
            self.samples.append((time.perf_counter(), self.phase, p))
            time.sleep(self.interval_s)

    def stop(self):
        self._halt.set()

    def stats(self, t0: float, t1: float) -> tuple[float, float, int]:
        vals = [p for (t, _, p) in self.samples if t0 <= t <= t1 and not math.isnan(p)]
        if not vals:
            return math.nan, math.nan, 0
        return sum(vals) / len(vals), max(vals), len(vals)


# --------------------------------------------------------------------------- model
def build_model(shapes: dict, device: torch.device, dtype: torch.dtype, attn: str):
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig(**shapes, rope_parameters=dict(LLAMA31_ROPE))
    # older 4.x configs use rope_theta / rope_scaling; setting them is harmless on 5.x
    if not getattr(cfg, "rope_parameters", None):
        cfg.rope_theta = LLAMA31_ROPE["rope_theta"]
        cfg.rope_scaling = {k: v for k, v in LLAMA31_ROPE.items() if k != "rope_theta"}
    cfg._attn_implementation = attn
    prev = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with device:
            model = LlamaForCausalLM(cfg)
    finally:
        torch.set_default_dtype(prev)
    model.to(device=device, dtype=dtype)
    model.eval()
    model.generation_config.eos_token_id = None  # never stop early (not used by the manual loop)
    return model, cfg


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.inference_mode()
def prefill(model, ids):
    out = model(input_ids=ids, use_cache=True, logits_to_keep=1)
    tok = out.logits[:, -1, :].argmax(dim=-1, keepdim=True)
    return out.past_key_values, tok


@torch.inference_mode()
def decode(model, cache, tok, steps):
    for _ in range(steps):
        out = model(input_ids=tok, past_key_values=cache, use_cache=True, logits_to_keep=1)
        cache = out.past_key_values
        tok = out.logits[:, -1, :].argmax(dim=-1, keepdim=True)
    return cache, tok


def measure(fn, device, nvml, sampler, phase):
    sync(device)
    sampler.phase = phase
    e0, t0 = nvml.energy_mj(), time.perf_counter()
    res = fn()
    sync(device)
    t1, e1 = time.perf_counter(), nvml.energy_mj()
    sampler.phase = "between"
    mean_p, max_p, n = sampler.stats(t0, t1)
    return res, dict(dt=t1 - t0, e_j=(e1 - e0) / 1000.0, mean_w=mean_p, max_w=max_p, n=n)


@torch.inference_mode()
def graph_decode(model, cfg, ids, tok0, bs, args, device, nvml, sampler):
    """Decode with a StaticCache, one decode step captured in a CUDA graph and replayed.

    Removes the Python / kernel-launch overhead of eager Hugging Face decoding (as serving
    engines such as vLLM do with CUDA graphs). The first output token comes from a prefill
    into the static cache (not measured here; prefill is measured with the dynamic cache).
    Falls back to eager static-cache decoding when capture fails or there is no CUDA.
    Returns (mode, repeats, measurement, kv_len).
    """
    from transformers import StaticCache

    n_in, n_out = args.input_tokens, args.output_tokens
    steps = n_out - 1
    scache = StaticCache(config=cfg, max_cache_len=n_in + n_out)
    out = model(input_ids=ids, past_key_values=scache, use_cache=True, logits_to_keep=1,
                cache_position=torch.arange(n_in, device=device))
    first = out.logits[:, -1, :].argmax(dim=-1, keepdim=True)
    del out
    static_tok = first.clone()
    static_pos = torch.tensor([n_in], device=device, dtype=torch.long)

    static_pos_ids = static_pos.view(1, 1)
    # transformers >= 5.2x keeps the write position in each layer's `cumulative_length` tensor;
    # older 5.x reads `cache_position`: pass both, and reset both between passes.
    counters = [layer.cumulative_length for layer in getattr(scache, "layers", [])
                if isinstance(getattr(layer, "cumulative_length", None), torch.Tensor)]

    def step():
        o = model(input_ids=static_tok, past_key_values=scache, cache_position=static_pos,
                  position_ids=static_pos_ids, use_cache=True, logits_to_keep=1)
        static_tok.copy_(o.logits[:, -1, :].argmax(dim=-1, keepdim=True))
        static_pos.add_(1)

    def reset():
        static_tok.copy_(first)
        static_pos.fill_(n_in)
        for c in counters:
            c.fill_(n_in)

    mode, replay = "static-cache-eager", step
    if device.type == "cuda":
        try:
            s = torch.cuda.Stream(device)
            s.wait_stream(torch.cuda.current_stream(device))
            with torch.cuda.stream(s):
                for _ in range(3):
                    step()
            torch.cuda.current_stream(device).wait_stream(s)
            sync(device)
            reset()
            g = torch.cuda.CUDAGraph()
            with torch.cuda.graph(g):
                step()
            sync(device)
            mode, replay = "static-cache-cudagraph", g.replay
        except Exception as e:  # capture not possible: stay eager, say why
            mode = "static-cache-eager (cuda graph capture failed: " + repr(e)[:160] + ")"
            print(f"[b={bs}] {mode}", flush=True)
            sync(device)
    reset()

    def one_pass():
        reset()
        for _ in range(steps):
            replay()

    # one timed warm pass decides how many passes make a window of >= min_phase_s
    t0 = time.perf_counter()
    one_pass()
    sync(device)
    t_one = time.perf_counter() - t0
    reps = 1 if t_one >= args.min_phase_s else min(
        20, math.ceil(args.min_phase_s / max(t_one, 1e-4)))

    def passes():
        for _ in range(reps):
            one_pass()

    _, dm = measure(passes, device, nvml, sampler, f"decode_b{bs}")
    kv_len = int(static_pos.item())  # position after the last decode step
    scache = None  # free the cache (the step closure shares this cell)
    return mode, reps, dm, kv_len


def run_batch(model, cfg, bs, args, device, nvml, sampler, gen):
    n_in, n_out = args.input_tokens, args.output_tokens
    steps = n_out - 1  # prefill produces output token 1
    ids = torch.randint(0, cfg.vocab_size, (bs, n_in), device=device, generator=gen)

    # warm-up: one prefill and a few decode steps at this shape
    t_w = time.perf_counter()
    cache, tok = prefill(model, ids)
    sync(device)
    cache, tok = decode(model, cache, tok, min(args.warmup_decode_steps, steps))
    sync(device)
    del cache, tok
    # time one warm prefill (the first one above includes one-off allocations)
    t_p = time.perf_counter()
    cache, tok = prefill(model, ids)
    sync(device)
    t_prefill_once = time.perf_counter() - t_p
    del cache, tok
    warmup_s = time.perf_counter() - t_w

    # prefill: repeat short prefills so the energy counter window is >= min_phase_s
    # (NVML's energy counter and power reading move in steps of about 100 ms on the H100)
    reps = 1
    if t_prefill_once < args.min_phase_s:
        reps = min(args.max_prefill_repeats, math.ceil(args.min_phase_s / max(t_prefill_once, 1e-4)))

    def _prefill_reps():
        c = t = None
        for _ in range(reps):
            c = t = None  # free the previous cache before the next prefill
            c, t = prefill(model, ids)
        return c, t

    (cache, tok), pm = measure(_prefill_reps, device, nvml, sampler, f"prefill_b{bs}")
    if args.decode_mode == "eager":
        decode_mode, d_reps = "eager-dynamic-cache", 1
        (cache, tok), dm = measure(lambda: decode(model, cache, tok, steps), device, nvml,
                                   sampler, f"decode_b{bs}")
        kv_len = cache.get_seq_length() if hasattr(cache, "get_seq_length") else None
        del cache, tok
    else:
        del cache
        decode_mode, d_reps, dm, kv_len = graph_decode(model, cfg, ids, tok, bs, args, device,
                                                       nvml, sampler)
    clocks = nvml.clocks()

    p_dt, p_e = pm["dt"] / reps, pm["e_j"] / reps
    d_dt, d_e = dm["dt"] / d_reps, dm["e_j"] / d_reps
    idle = args._idle_w
    row = {
        "batch_size_seqs": bs,
        "status": "ok",
        "input_tokens_per_seq": n_in,
        "output_tokens_per_seq": n_out,
        "decode_steps": steps,
        "kv_len_at_end_tokens": kv_len,
        "decode_mode": decode_mode,
        "prefill_repeats_measured": reps,
        "decode_repeats_measured": d_reps,
        "duration_prefill_s": p_dt,
        "duration_decode_s": d_dt,
        "energy_prefill_j": p_e,
        "energy_decode_j": d_e,
        "energy_j_per_output_token": d_e / (bs * steps),
        "energy_j_per_output_token_incl_prefill": (p_e + d_e) / (bs * n_out),
        "energy_j_per_input_token_prefill": p_e / (bs * n_in),
        "prefill_tokens_per_s": bs * n_in / p_dt,
        "decode_tokens_per_s": bs * steps / d_dt,
        "decode_step_ms": 1000.0 * d_dt / steps,
        "mean_power_w": dm["mean_w"],
        "max_power_w": dm["max_w"],
        "power_samples_decode_n": dm["n"],
        "mean_power_from_energy_decode_w": dm["e_j"] / dm["dt"] if dm["dt"] > 0 else math.nan,
        "mean_power_prefill_w": pm["mean_w"],
        "max_power_prefill_w": pm["max_w"],
        "mean_power_from_energy_prefill_w": pm["e_j"] / pm["dt"] if pm["dt"] > 0 else math.nan,
        "gpu_utilisation_vs_tdp_fraction": dm["mean_w"] / TDP_W,
        "energy_decode_above_idle_j": d_e - idle * d_dt if not math.isnan(idle) else math.nan,
        "peak_torch_mem_gib": (torch.cuda.max_memory_allocated(device) / 2**30
                               if device.type == "cuda" else math.nan),
        "sm_clock_after_decode_mhz": clocks.get("sm_clock_mhz"),
        "temperature_after_decode_c": clocks.get("temperature_c"),
        "warmup_s": warmup_s,
        "note": "",
    }
    return row


def _json_safe(x):
    """NaN is not JSON: write null instead."""
    if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
        return None
    if isinstance(x, dict):
        return {k: _json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_safe(v) for v in x]
    return x


def skipped_row(bs, args, reason):
    return {"batch_size_seqs": bs, "status": "skipped", "input_tokens_per_seq": args.input_tokens,
            "output_tokens_per_seq": args.output_tokens, "note": reason}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    ap.add_argument("--batch-sizes", default="1,8,32,64,128,256,512")
    ap.add_argument("--input-tokens", type=int, default=512)
    ap.add_argument("--output-tokens", type=int, default=256)
    ap.add_argument("--attn", default="sdpa", choices=["sdpa", "eager"])
    ap.add_argument("--decode-mode", default="eager", choices=["eager", "graph"],
                    help="eager: HF dynamic cache, one Python forward per step (like generate); "
                         "graph: static cache, decode step captured once in a CUDA graph")
    ap.add_argument("--idle-seconds", type=float, default=3.0)
    ap.add_argument("--warmup-decode-steps", type=int, default=16)
    ap.add_argument("--min-phase-s", type=float, default=1.0,
                    help="repeat the prefill until the measured window is at least this long")
    ap.add_argument("--max-prefill-repeats", type=int, default=60)
    ap.add_argument("--time-budget-s", type=float, default=400.0,
                    help="skip remaining batch sizes whose predicted run would exceed this")
    ap.add_argument("--prefix", default="h100-llama-3.1-8b-arch-energy-sweep")
    ap.add_argument("--dry-run", action="store_true",
                    help="tiny model, short sequences; runs on CPU without NVML")
    args = ap.parse_args(argv)

    t_start = time.perf_counter()
    os.makedirs(args.out, exist_ok=True)
    if args.dry_run:
        shapes = TINY
        if args.input_tokens == 512:
            args.input_tokens = 16
        if args.output_tokens == 256:
            args.output_tokens = 8
        if args.batch_sizes == ap.get_default("batch_sizes"):
            args.batch_sizes = "1,2,4"
        args.idle_seconds = min(args.idle_seconds, 0.3)
        args.min_phase_s = min(args.min_phase_s, 0.05)
    else:
        shapes = LLAMA31_8B
    batch_sizes = [int(b) for b in args.batch_sizes.split(",") if b.strip()]

    device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    if not args.dry_run and device.type != "cuda":
        raise SystemExit("no CUDA device: use --dry-run to check the logic on CPU")
    dtype = torch.bfloat16
    if device.type == "cuda":
        torch.cuda.init()
        torch.backends.cuda.matmul.allow_tf32 = True

    nvml = Nvml(0)
    meta = {
        "what": "GPU energy per output token, Llama-3.1-8B architecture, random bf16 weights, "
                f"decode mode {args.decode_mode}, "
                "HF transformers manual greedy decode with KV cache",
        "started_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "host": platform.node(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "dry_run": args.dry_run,
        "device": str(device),
        "torch_device_name": torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu",
        "tdp_w_used_for_utilisation": TDP_W,
        "args": {k: v for k, v in vars(args).items() if not k.startswith("_")},
    }
    try:
        import transformers

        meta["transformers"] = transformers.__version__
    except Exception:
        pass
    meta.update(nvml.metadata())

    sampler = PowerSampler(nvml, 0.02)
    sampler.start()

    # idle power, before any model is loaded (CUDA context exists)
    time.sleep(0.2)
    t0 = time.perf_counter()
    e0 = nvml.energy_mj()
    time.sleep(args.idle_seconds)
    t1 = time.perf_counter()
    e1 = nvml.energy_mj()
    idle_mean, idle_max, idle_n = sampler.stats(t0, t1)
    meta["idle_power_mean_w"] = idle_mean
    meta["idle_power_max_w"] = idle_max
    meta["idle_power_samples_n"] = idle_n
    meta["idle_power_from_energy_w"] = (e1 - e0) / 1000.0 / (t1 - t0)
    meta["idle_clocks"] = nvml.clocks()
    args._idle_w = idle_mean
    print(f"[idle] {idle_mean:.1f} W mean over {idle_n} samples "
          f"({meta['idle_power_from_energy_w']:.1f} W from the energy counter)", flush=True)

    t_b = time.perf_counter()
    model, cfg = build_model(shapes, device, dtype, args.attn)
    sync(device)
    n_params = sum(p.numel() for p in model.parameters())
    meta["model_build_s"] = time.perf_counter() - t_b
    meta["model_params"] = n_params
    meta["model_config"] = {k: getattr(cfg, k, None) for k in list(shapes) + ["rope_parameters"]}
    meta["attn_implementation"] = getattr(cfg, "_attn_implementation", args.attn)
    print(f"[model] {n_params/1e9:.3f} B params built in {meta['model_build_s']:.1f} s "
          f"on {device} ({meta['attn_implementation']})", flush=True)

    gen = torch.Generator(device=device)
    gen.manual_seed(0)
    # global warm-up (cuBLAS handles, kernels) at a small shape
    wids = torch.randint(0, cfg.vocab_size, (1, min(64, args.input_tokens)), device=device,
                         generator=gen)
    c, t = prefill(model, wids)
    decode(model, c, t, 4)
    sync(device)
    del c, t

    rows = []
    last = None  # (bs, seconds)
    for bs in batch_sizes:
        elapsed = time.perf_counter() - t_start
        if last is not None:
            predicted = last[1] * bs / last[0]
            if elapsed + predicted > args.time_budget_s:
                msg = (f"time budget: predicted {predicted:.0f} s after {elapsed:.0f} s elapsed "
                       f"exceeds --time-budget-s {args.time_budget_s:.0f}")
                print(f"[b={bs}] skipped: {msg}", flush=True)
                rows.append(skipped_row(bs, args, msg))
                continue
        if device.type == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(device)
        tb = time.perf_counter()
        oom_msg = None
        try:
            row = run_batch(model, cfg, bs, args, device, nvml, sampler, gen)
        except torch.OutOfMemoryError as e:
            oom_msg = "out of GPU memory: " + str(e).split("\n")[0][:200]
        if oom_msg is not None:  # outside the except block, so the traceback's tensors are freed
            sampler.phase = "between"
            gc.collect()
            if device.type == "cuda":
                torch.cuda.empty_cache()
            print(f"[b={bs}] skipped: {oom_msg}", flush=True)
            rows.append(skipped_row(bs, args, oom_msg))
            continue
        took = time.perf_counter() - tb
        last = (bs, took)
        rows.append(row)
        print(f"[b={bs}] prefill {row['duration_prefill_s']*1000:.1f} ms "
              f"{row['energy_prefill_j']:.1f} J (x{row['prefill_repeats_measured']}) | decode "
              f"{row['duration_decode_s']:.2f} s {row['energy_decode_j']:.1f} J "
              f"{row['decode_tokens_per_s']:.0f} tok/s mean {row['mean_power_w']:.0f} W | "
              f"{row['energy_j_per_output_token']:.4f} J/tok | {row['decode_mode']} x{row['decode_repeats_measured']} | took {took:.1f} s", flush=True)

    sampler.stop()
    sampler.join(timeout=1)
    meta["total_script_s"] = time.perf_counter() - t_start
    meta["finished_utc"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")

    cols = []
    for r in rows:
        for k in r:
            if k not in cols:
                cols.append(k)
    csv_path = os.path.join(args.out, args.prefix + ".csv")
    with open(csv_path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    meta["rows"] = rows
    json_path = os.path.join(args.out, args.prefix + ".json")
    with open(json_path, "w") as f:
        json.dump(_json_safe(meta), f, indent=2, default=str)
    # power trace (compact), for later inspection
    trace_path = os.path.join(args.out, args.prefix + "-power-trace.csv")
    with open(trace_path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["t_s", "phase", "power_w"])
        t_ref = sampler.samples[0][0] if sampler.samples else 0.0
        for t, ph, p in sampler.samples:
            w.writerow([f"{t - t_ref:.3f}", ph, f"{p:.1f}"])

    print()
    print(f"GPU {meta.get('gpu_name', meta['torch_device_name'])}, driver "
          f"{meta.get('driver_version')}, power limit {meta.get('enforced_power_limit_w')} W, "
          f"idle {idle_mean:.1f} W")
    hdr = (f"{'batch':>5} {'prefill_s':>9} {'decode_s':>8} {'E_pre_J':>8} {'E_dec_J':>8} "
           f"{'J/tok':>7} {'J/tok+pf':>8} {'dec_tok/s':>9} {'mean_W':>6} {'max_W':>6} {'util':>5}")
    print(hdr)
    for r in rows:
        if r["status"] != "ok":
            print(f"{r['batch_size_seqs']:>5} skipped: {r['note']}")
            continue
        print(f"{r['batch_size_seqs']:>5} {r['duration_prefill_s']:>9.3f} "
              f"{r['duration_decode_s']:>8.2f} {r['energy_prefill_j']:>8.1f} "
              f"{r['energy_decode_j']:>8.1f} {r['energy_j_per_output_token']:>7.4f} "
              f"{r['energy_j_per_output_token_incl_prefill']:>8.4f} "
              f"{r['decode_tokens_per_s']:>9.0f} {r['mean_power_w']:>6.0f} "
              f"{r['max_power_w']:>6.0f} {r['gpu_utilisation_vs_tdp_fraction']:>5.2f}")
    print(f"\nwrote {csv_path}\n      {json_path}\n      {trace_path}\n"
          f"total {meta['total_script_s']:.0f} s")


if __name__ == "__main__":
    main()
