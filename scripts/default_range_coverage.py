"""How many published measurements fall within the range of their model's default estimate (the model named alone).

    python scripts/default_range_coverage.py                 # the shipped ML.ENERGY v3 cases
    python scripts/default_range_coverage.py CASES.yaml --json

For each case whose model the data pack resolves (chat and reasoning tasks, configured for at most the
deployment range's largest batch), the estimate of ``--model NAME --in_tok I --out_tok O`` (the case's
tokens; the prompt is the task's typical one) is compared at the case's boundary with the measured
energy. Prints the count inside the range by model and task, the range's width, the central value's
bias, and the excluded cases by reason (docs/validation.md, "The default deployment").
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from traitement import load_config  # noqa: E402
from traitement.energy_model import load_energy_model  # noqa: E402
from traitement.validation import DEFAULT_CASES, default_range_coverage, load_cases  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="?", default=str(DEFAULT_CASES), help="a cases file (default: the shipped ML.ENERGY v3 cases)")
    parser.add_argument("--json", action="store_true", help="every checked case and every exclusion as JSON")
    args = parser.parse_args(argv)
    config = load_config()
    result = default_range_coverage(load_cases(args.cases), config, load_energy_model(config.directory))
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{result['inside']} of {result['n_cases']} checked cases within the default range")
    print(f"{'model':<22} {'task':<10} {'inside':>9}")
    for model, tasks in result["by_model"].items():
        for task, counts in tasks.items():
            print(f"{model:<22} {task:<10} {counts['inside']:>4} / {counts['n_cases']:<3}")
    cases = result["cases"]
    if cases:
        width = np.median([case["high_wh"] / case["low_wh"] for case in cases])
        bias = np.exp(np.mean([np.log(case["central_wh"] / case["measured_wh"]) for case in cases]))
        print(f"range width (high / low), median: {width:.1f}; central / measured, geometric mean: {bias:.2f}")
    reasons = Counter(entry["reason"].split(":")[0] if entry["reason"].startswith("task") else entry["reason"] for entry in result["excluded"])
    beyond = result["beyond_largest_batch"]
    print(f"above the largest batch, estimated anyway: {sum(row['inside'] for row in beyond)} of {len(beyond)} within the range")
    print(f"excluded: {len(result['excluded'])}")
    for reason, count in reasons.most_common():
        print(f"  {count:>4}  {reason}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
