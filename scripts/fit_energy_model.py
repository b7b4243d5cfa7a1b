"""Fit the model-aware energy model's coefficients on the published measurements.

    python scripts/fit_energy_model.py                 # print the fit, residuals, leave-one-out
    python scripts/fit_energy_model.py --write         # also store the coefficients in config/energy_model.yaml
    python scripts/fit_energy_model.py --cases FILE    # another file of the same schema

Fits four coefficients (memory-bandwidth and compute efficiency, idle draw,
batch at half activity) by least squares on log(predicted / published) over
the measured GPU-boundary cases (the others are validation only), then refits
leaving each case out to report the error on cases the fit has not seen.
"""

from __future__ import annotations

import argparse
import datetime
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import traitement  # noqa: E402
from traitement.energy_model import ENERGY_MODEL_FILE, coefficients, load_energy_model  # noqa: E402
from traitement.validation import case_columns, error_factor, fit_coefficients, gpus_needed_check, leave_one_out, load_cases, predicted_wh  # noqa: E402

DEFAULT_CASES = Path(__file__).resolve().parent.parent / "data" / "validation" / "published_cases.yaml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=str(DEFAULT_CASES), help="cases file (default: data/validation/published_cases.yaml)")
    parser.add_argument("--write", action="store_true", help="store the fitted coefficients in config/energy_model.yaml")
    args = parser.parse_args(argv)
    config = traitement.load_config()
    model = load_energy_model()
    cases = load_cases(args.cases)
    measured = [case for case in cases if case.measured]
    print(f"{len(measured)} measured gpu-boundary cases of {len(cases)} in {args.cases} (the others are not fitted on)")
    for case_id, rule, used in gpus_needed_check(cases, config, model):
        print(f"  GPUs from memory: {case_id}: rule {rule}, case {used}" + ("" if rule == used else "  <- differs"))
    columns = case_columns(measured, config, model)
    fitted = fit_coefficients(columns, model)
    fixed = {key: value for key, value in coefficients(model).items() if key not in fitted}
    ratios = predicted_wh(columns, {**fixed, **fitted}) / columns["published_wh"]
    print("\nFitted coefficients:")
    for name, value in fitted.items():
        print(f"  {name:22s} {value:.4g}")
    print("\nResiduals (fit on all measured cases):")
    print(f"  {'case':42s} {'predicted J/tok':>15s} {'published J/tok':>15s} {'ratio':>7s} {'leave-one-out':>13s}")
    loo_ratios, loo_fits = leave_one_out(columns, model)
    for case, ratio, loo in zip(measured, ratios, loo_ratios, strict=True):
        published = case.energy_j_per_output_token
        print(f"  {case.id:42s} {ratio * published:15.3f} {published:15.3f} {ratio:7.3f} {loo:13.3f}")
    fit_ef, loo_ef = error_factor(ratios), error_factor(loo_ratios)
    worst_loo = float(np.max(np.maximum(loo_ratios, 1 / loo_ratios)))
    print(f"\nerror factor (fit): {fit_ef:.3f}; worst {float(np.max(np.maximum(ratios, 1 / ratios))):.3f}x")
    print(f"error factor (leave-one-out): {loo_ef:.3f}; worst {worst_loo:.3f}x")
    idle = [fit["idle_power_fraction"] for fit in loo_fits]
    spread = "; ".join(f"{name} {min(f[name] for f in loo_fits):.3g}-{max(f[name] for f in loo_fits):.3g}" for name in fitted)
    print(f"leave-one-out coefficient spread: {spread}")
    if args.write:
        path = Path(traitement.config.config_dir()) / ENERGY_MODEL_FILE
        today = datetime.date.today().isoformat()
        block = (
            "fit:\n"
            f"  bandwidth_efficiency: {fitted['bandwidth_efficiency']:.4g}\n"
            f"  compute_efficiency: {fitted['compute_efficiency']:.4g}\n"
            f"  idle_power_fraction: {fitted['idle_power_fraction']:.4g}\n"
            f"  batch_half_activity: {fitted['batch_half_activity']:.4g}\n"
            f"  idle_power_fraction_min: {min(min(idle), fitted['idle_power_fraction']):.4g}  # leave-one-out refits\n"
            f"  idle_power_fraction_max: {max(max(idle), fitted['idle_power_fraction']):.4g}\n"
            f"  residual_factor: {worst_loo:.4g}  # worst leave-one-out miss: the decode-speed range of an estimate\n"
            f'  provenance: "scripts/fit_energy_model.py, {today}, {len(measured)} measured gpu-boundary cases of {Path(args.cases).name}; '
            f'error factor {fit_ef:.3f} (fit), {loo_ef:.3f} (leave-one-out), worst leave-one-out {worst_loo:.2f}x"\n'
        )
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"^fit:\n(?:  .*\n?)*", block, text, flags=re.MULTILINE)
        path.write_text(text, encoding="utf-8")
        print(f"\nwrote the fit: section of {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
