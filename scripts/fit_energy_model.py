"""Fit the model-aware energy model's coefficients on the published measurements.

    python scripts/fit_energy_model.py                 # print the fit, the in-sample and leave-one-model-out figures
    python scripts/fit_energy_model.py --write         # also store the coefficients in config/energy_model.yaml
    python scripts/fit_energy_model.py --cases FILE    # another file of the same schema

Fits five energy coefficients (energy per byte read, per dense FLOP, the mixture
of experts' FLOP factor per GPU, the depth-bound overhead per step and per
token) by least squares on log(predicted / published) energy per output token
over the measured GPU-boundary cases, and the GPUs' draw curve on the cases'
measured ``gpu_power_w``; then refits the energy coefficients leaving each
model out (all its configurations) and predicts it: the headline figure.
"""

from __future__ import annotations

import argparse
import datetime
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import traitement  # noqa: E402
from traitement.energy_model import ENERGY_MODEL_FILE, J_PER_PJ, S_PER_MS, S_PER_US, coefficients, load_energy_model, power_fraction  # noqa: E402
from traitement.validation import (  # noqa: E402
    ECOLOGITS,
    FITTED,
    case_columns,
    fit_energy_coefficients,
    fit_power_curve,
    gpus_needed_check,
    leave_one_model_out,
    load_cases,
    predict,
    predicted_j_per_token,
    ratio_stats,
)

DEFAULT_CASES = Path(__file__).resolve().parent.parent / "data" / "validation" / "mlenergy_v3_cases.yaml"
SIGNIFICANT = "{:.4g}"
"""The coefficients are stored with four significant digits."""
RESIDUAL_PERCENTILE = 90
"""The estimate's range spans the leave-one-model-out error that nine unseen cases in ten stay within."""

# config key of the fit: section <- (the serving() keyword, its unit in SI)
CONFIG_UNITS = {
    "memory_pj_per_byte": ("memory_j_per_byte", J_PER_PJ),
    "flop_energy_factor": ("flop_energy_factor", 1.0),
    "moe_flop_energy_factor_per_gpu": ("moe_flop_energy_factor_per_gpu", 1.0),
    "step_overhead_ms_per_sqrt_b": ("step_overhead_s_per_sqrt_b", S_PER_MS),
    "token_overhead_us_per_sqrt_b": ("token_overhead_s_per_sqrt_b", S_PER_US),
}


def rounded(value: float) -> float:
    return float(SIGNIFICANT.format(value))


def run_fit(cases_path: Path | str) -> dict[str, Any]:
    """Everything the script prints and writes: the rounded coefficients (config units) and the figures they give."""
    config = traitement.load_config()
    model = load_energy_model()
    cases = load_cases(cases_path)
    measured = [case for case in cases if case.measured]
    columns = case_columns(measured, config, model)
    fitted = fit_energy_coefficients(columns, model)
    draw = fit_power_curve(columns)
    stored = {key: rounded(fitted[name] / unit) for key, (name, unit) in CONFIG_UNITS.items()}
    stored.update({name: rounded(value) for name, value in draw.items()})
    values = coefficients(model, **{name: stored[key] * unit for key, (name, unit) in CONFIG_UNITS.items()}, **{name: stored[name] for name in draw})
    ratios = predicted_j_per_token(columns, values) / columns["published_j_per_token"]
    names = [case.model or case.id for case in measured]
    loo_ratios, loo_fits = leave_one_model_out(columns, names, model)
    stored["residual_factor"] = rounded(float(np.exp(np.percentile(np.abs(np.log(loo_ratios)), RESIDUAL_PERCENTILE))))
    known = ~np.isnan(columns["measured_power_w"])
    draw_ratios = (
        power_fraction(columns["batch_size"][known], stored["draw_fraction_small_batch"], stored["draw_half_batch"])
        * columns["n_gpu"][known]
        * columns["gpu_power_w"][known]
        / columns["measured_power_w"][known]
    )
    eco = np.array([predict(case, ECOLOGITS, config, model)["ratio"] for case in measured])
    return {
        "cases": cases,
        "measured": measured,
        "fitted": fitted,
        "stored": stored,
        "ratios": ratios,
        "loo_ratios": loo_ratios,
        "loo_fits": loo_fits,
        "draw_ratios": draw_ratios,
        "ecologits_ratios": eco,
        "gpu_check": gpus_needed_check(measured, config, model),
    }


def _by(label: str, keys: list[str], ratios: np.ndarray) -> list[str]:
    lines = [f"  by {label}:"]
    array = np.asarray(keys)
    for key in sorted(set(keys)):
        stats = ratio_stats(ratios[array == key])
        lines.append(
            f"    {key:52s} {stats['n_cases']:4d} cases  error factor {stats['error_factor']:.3f}  bias {stats['bias']:.2f}"
            f"  beyond 2x {stats['share_beyond_2x']:5.1%}  worst {stats['worst_factor']:.2f}x"
        )
    return lines


def _figures(title: str, ratios: np.ndarray, measured: list[Any], with_models: bool) -> list[str]:
    stats = ratio_stats(ratios)
    lines = [
        f"{title}: error factor {stats['error_factor']:.3f} over {stats['n_cases']} cases, bias {stats['bias']:.3f}, "
        f"{stats['share_beyond_2x']:.1%} beyond 2x, {stats['n_beyond_3x']} beyond 3x, worst {stats['worst_factor']:.2f}x"
    ]
    lines += _by("task", [case.task or "not given" for case in measured], ratios)
    lines += _by("board", [(case.hardware or "").split("-")[0] for case in measured], ratios)
    if with_models:
        lines += _by("model", [case.model or case.id for case in measured], ratios)
    return lines


def fit_block(result: dict[str, Any], cases_path: Path | str, today: str) -> str:
    """The ``fit:`` section of config/energy_model.yaml."""
    stored, measured = result["stored"], result["measured"]
    fit_ef = ratio_stats(result["ratios"])["error_factor"]
    loo = ratio_stats(result["loo_ratios"])
    draw_ef = ratio_stats(result["draw_ratios"])["error_factor"]
    n_models = len({case.model or case.id for case in measured})
    lines = ["fit:"]
    lines += [f"  {key}: {SIGNIFICANT.format(stored[key])}" for key in CONFIG_UNITS]
    lines += [
        f"  draw_fraction_small_batch: {SIGNIFICANT.format(stored['draw_fraction_small_batch'])}",
        f"  draw_half_batch: {SIGNIFICANT.format(stored['draw_half_batch'])}",
        f"  residual_factor: {SIGNIFICANT.format(stored['residual_factor'])}"
        f"  # {RESIDUAL_PERCENTILE}th percentile of the leave-one-model-out misses: the range of an estimate",
        f'  provenance: "scripts/fit_energy_model.py, {today}, {len(measured)} measured gpu-boundary cases of {n_models} models in {Path(cases_path).name}; '
        f"error factor {fit_ef:.3f} in sample, {loo['error_factor']:.3f} leaving each model out ({loo['share_beyond_2x']:.1%} beyond 2x, "
        f'worst {loo["worst_factor"]:.2f}x); draw curve on their gpu_power_w, error factor {draw_ef:.3f}"',
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=str(DEFAULT_CASES), help="cases file (default: data/validation/mlenergy_v3_cases.yaml)")
    parser.add_argument("--write", action="store_true", help="store the fitted coefficients in config/energy_model.yaml")
    args = parser.parse_args(argv)
    result = run_fit(args.cases)
    measured, stored = result["measured"], result["stored"]
    print(f"{len(measured)} measured gpu-boundary cases of {len(result['cases'])} in {args.cases} (the others are not fitted on)")
    checks = result["gpu_check"]
    matching = sum(rule == used for _, rule, used in checks)
    print(f"GPU count from memory (x1.2, power of two) equals the case's on {matching} of {len(checks)} cases (the others used more GPUs than needed)")
    print("\nFitted coefficients (stored with four significant digits):")
    for key, (name, _) in CONFIG_UNITS.items():
        print(f"  {key:32s} {SIGNIFICANT.format(stored[key]):>10s}   ({name} = {result['fitted'][name]:.6g})")
    print(f"  {'draw_fraction_small_batch':32s} {SIGNIFICANT.format(stored['draw_fraction_small_batch']):>10s}")
    print(f"  {'draw_half_batch':32s} {SIGNIFICANT.format(stored['draw_half_batch']):>10s}")
    print(f"  {'residual_factor':32s} {SIGNIFICANT.format(stored['residual_factor']):>10s}")
    print()
    print("\n".join(_figures("In sample (the stored coefficients)", result["ratios"], measured, with_models=False)))
    print()
    print("\n".join(_figures("Leave one model out (the headline)", result["loo_ratios"], measured, with_models=True)))
    spread = "; ".join(
        f"{name} {min(f[name] for f in result['loo_fits'].values()):.4g}-{max(f[name] for f in result['loo_fits'].values()):.4g}" for name in FITTED
    )
    print(f"  refits' coefficient ranges: {spread}")
    print()
    print("\n".join(_figures("EcoLogits' published formula (reference, not fitted)", result["ecologits_ratios"], measured, with_models=False)))
    draw = ratio_stats(result["draw_ratios"])
    print(f"\nDraw curve on the {draw['n_cases']} measured gpu_power_w: error factor {draw['error_factor']:.3f}, worst {draw['worst_factor']:.2f}x")
    if args.write:
        path = Path(traitement.config.config_dir()) / ENERGY_MODEL_FILE
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"^fit:\n(?:  .*\n?)*", fit_block(result, args.cases, datetime.date.today().isoformat()), text, flags=re.MULTILINE)
        path.write_text(text, encoding="utf-8")
        print(f"\nwrote the fit: section of {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
