"""The hostile-input sweep (docs/reliability.md): hostile values to every estimate flag, random requests with invariants,
OpenAPI fuzzing, CLI-API parity. Prints what failed, one line each, and the counts; exit code 1 when something failed.

    python scripts/hostile_sweep.py                 # everything, the sizes of docs/reliability.md
    python scripts/hostile_sweep.py cli core        # some parts
    python scripts/hostile_sweep.py --examples 50   # smaller (the tests run it so)

The request logs (batch) are out of it: they have their own (tests/test_logs.py).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import random
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HOSTILE_NUMBERS = [
    "NaN", "nan", "Infinity", "inf", "-0", "1e308", "1e-320", "1" + "0" * 400, "-5", "0", "true", "True", "12abc", "١٢٣", "１２", " 12 ", "",
    "  ", "null", "[1]", "1e3", "1.5", "2.0", "10000000", "10000001", "1e7", "0x10", "1_000", "+5", "5e-1", "10000000000000", "10000000000001",
]  # fmt: skip
HOSTILE_NAMES = [
    "", " ", "\u200b", "usa\u200b", "\u202eusa", "../../etc/passwd", "%s%n", "{0}", ".*", "'; DROP TABLE x;--", "USA", "u", "x" * 1_000_000,
    "a\nb", "a\x00b", "\x1b[31m", "é", "E\u0301", "ＵＳＡ", "aws:", ":", "aws:us-east-1", "gcp:EUROPE-WEST9", "US-CA", "us_ca",
]  # fmt: skip
NUMBER_FLAGS = [
    "--in_tok", "--out_tok", "--count", "--cached-input-tokens", "--reasoning-tokens", "--batch-size", "--gpu-utilisation", "--pue",
    "--intensity", "--active-params-b", "--total-params-b",
]  # fmt: skip
NAME_FLAGS = ["--region", "--datacenter", "--hardware", "--model", "--profile", "--method", "--mix", "--precision"]


def _walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")
    else:
        yield path, value


def invariants(answer: dict[str, Any]) -> list[str]:
    """What is physically wrong in an estimate's JSON dict: a figure not finite or negative, a range not holding its value."""
    problems = []
    for path, value in _walk(answer):
        if isinstance(value, float) and not math.isfinite(value):
            problems.append(f"{path} is not finite")
        elif isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
            problems.append(f"{path} = {value} < 0")
    for key, low in answer.items():
        name = key.removesuffix("_min")
        if key.endswith("_min") and name in answer and f"{name}_max" in answer:
            central, high = answer[name], answer[f"{name}_max"]
            if not low <= central * (1 + 1e-9) or not central <= high * (1 + 1e-9):
                problems.append(f"{name}: not min <= central <= max ({low} <= {central} <= {high})")
    share = answer.get("reasoning_energy_share")
    if share is not None and not 0 <= share <= 1 + 1e-12:
        problems.append(f"reasoning_energy_share = {share}")
    return problems


def _cli(argv: list[str]) -> tuple[int, str, str]:
    from genai_carbon.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def sweep_cli(examples: int, fail: Callable[[str], None]) -> int:
    """Every estimate flag with every hostile value: exit 0 or 2, one line on stderr, valid JSON (all of them: ``examples`` is not used)."""
    runs = [[flag, value] for flag in NUMBER_FLAGS for value in HOSTILE_NUMBERS] + [[flag, value] for flag in NAME_FLAGS for value in HOSTILE_NAMES]
    for pair in runs:
        for argv in (["estimate", *pair, "--json"], ["estimate", *pair]):
            code, out, err = _cli(argv)
            shown = repr(argv)[:120]
            if code not in (0, 2):
                fail(f"cli {shown}: exit code {code}")
            elif code == 2 and (err.count("\n") != 1 or "Traceback" in err):
                fail(f"cli {shown}: not one line: {err[:200]!r}")
            elif code == 0 and "--json" in argv:
                answer = json.loads(out, parse_constant=lambda text, shown=shown: fail(f"cli {shown}: {text} in the JSON"))
                for problem in invariants(answer):
                    fail(f"cli {shown}: {problem}")
    return len(runs) * 2


def _random_request(rng: random.Random, config: Any) -> dict[str, Any]:
    """A random request of the estimate, mostly valid (the cross-field rules kept), its numbers often at their range's ends."""

    def pick(low: float, high: float, integer: bool = False, log: bool = False) -> float:
        roll = rng.random()
        value = low if roll < 0.2 else high if roll < 0.4 else math.exp(rng.uniform(math.log(low), math.log(high))) if log else rng.uniform(low, high)
        return round(value) if integer else value

    body: dict[str, Any] = {}
    options = {
        "region": lambda: rng.choice(["usa", "france", "sweden", "aws:us-east-1", "US-CA", "india", "world", "poland"]),
        "datacenter": lambda: rng.choice(sorted(config.site.datacenters)),
        "hardware": lambda: rng.choice([*config.model.hardware, "a10g", "l40s", "mi325x", "t4", "v100"]),
        "batch_size": lambda: pick(1, 100_000, log=True),
        "pue": lambda: pick(1, 3),
        "carbon_intensity_gco2eq_per_kwh": lambda: pick(0, 2000),
        "profile": lambda: rng.choice(sorted(config.model.profiles)),
        "input_tokens": lambda: pick(1, 10_000_000, integer=True, log=True),
        "output_tokens": lambda: pick(1, 10_000_000, integer=True, log=True),
        "count": lambda: pick(1, 10**13, integer=True, log=True),
        "model": lambda: rng.choice(["llama-3.1-70b", "gpt-4o", "mistral-large-2", "llama-3.1-8b", "deepseek-r1", "mixtral-8x7b", "llama-3.1-405b"]),
        "active_params_b": lambda: pick(0.1, 100_000, log=True),
        "precision": lambda: rng.choice(["bf16", "fp16", "fp8", "int8", "mxfp4", "int4"]),
    }
    for name, draw in options.items():
        if rng.random() < 0.35:
            body[name] = draw()
    body["method"] = rng.choice([None, "hardware", "model-aware", "parameter", "seed-quadratic"])
    if body["method"] == "parameter":
        for name in ("hardware", "datacenter", "batch_size", "pue", "active_params_b", "precision", "carbon_intensity_gco2eq_per_kwh"):
            body.pop(name, None)
        body.setdefault("model", "gpt-4o")
    if "input_tokens" in body and rng.random() < 0.5:
        body["cached_input_tokens"] = rng.randint(0, body["input_tokens"]) if body["method"] != "seed-quadratic" else 0
    if "output_tokens" in body and rng.random() < 0.5:
        body["reasoning_tokens"] = rng.randint(0, body["output_tokens"])
    if "precision" in body and "active_params_b" not in body:
        body.setdefault("model", "llama-3.1-8b")
    return {name: value for name, value in body.items() if value is not None}


def sweep_core(examples: int, fail: Callable[[str], None]) -> int:
    """Random requests through the core: a one-line refusal, or an answer that keeps the invariants (numpy warnings are errors)."""
    import warnings

    import traitement
    from traitement.errors import CalculatorError

    config = traitement.load_config()
    rng = random.Random(15)
    for _ in range(examples):
        body = _random_request(rng, config)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", RuntimeWarning)
                answer = traitement.estimate_named(config, traitement.parse(traitement.NamedRequest, body)).to_dict()
        except CalculatorError as error:
            if "\n" in str(error):
                fail(f"core {body}: not one line: {error}")
            continue
        except Exception as error:  # noqa: BLE001 - the sweep reports any other exception as a bug
            fail(f"core {body}: {type(error).__name__}: {error}")
            continue
        for problem in invariants(answer):
            fail(f"core {body}: {problem}")
    return examples


def _fuzz_operation(operation: Any, examples: int, fail: Callable[[str], None]) -> int:
    """``examples`` generated calls of one operation, each checked; the number of calls."""
    from hypothesis import HealthCheck, given, settings
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    calls = 0

    @given(case=operation.as_strategy())
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True)
    def check(case: Any) -> None:
        nonlocal calls
        calls += 1
        response = case.call()
        where = f"api {operation.method.upper()} {operation.path} {str(getattr(case, 'body', ''))[:100]} {case.query}"
        if response.status_code >= 500:
            fail(f"{where}: {response.status_code} {response.text[:200]}")
            return
        try:
            case.validate_response(response, excluded_checks=[positive_data_acceptance])
        except Exception as error:  # noqa: BLE001 - Schemathesis raises its own failure types
            fail(f"{where}: {str(error)[:300]}")
        if response.status_code == 200 and "json" in str(response.headers.get("content-type", "")):
            answer = response.json()
            for problem in invariants(answer) if isinstance(answer, dict) else []:
                fail(f"{where}: {problem}")

    check()
    return calls


def sweep_api(examples: int, fail: Callable[[str], None]) -> int:
    """Schemathesis on the app's own OpenAPI (in process): no 5xx, answers as documented, figures that keep the invariants."""
    import schemathesis

    import api

    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app)
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if "batch" not in operation.path:
            calls += _fuzz_operation(operation, examples, fail)
    return calls


def sweep_parity(examples: int, fail: Callable[[str], None]) -> int:
    """The same random requests through the CLI and ``POST /calculate``: the same answer, or an error from both."""
    from fastapi.testclient import TestClient

    import api
    import traitement
    from genai_carbon.cli.estimate import FLAGS

    client = TestClient(api.app, raise_server_exceptions=False)
    config = traitement.load_config()
    rng = random.Random(16)
    for _ in range(examples):
        body = _random_request(rng, config)
        words = [(FLAGS[name], repr(value) if isinstance(value, float) else str(value)) for name, value in body.items()]
        argv = ["estimate", "--json", *[word for pair in words for word in pair]]
        code, out, _ = _cli(argv)
        response = client.post("/calculate", json=body)
        if code == 0 and response.status_code == 200:
            if json.loads(out) != response.json():
                fail(f"parity {body}: the CLI and the API differ")
        elif (code == 0) != (response.status_code == 200):
            fail(f"parity {body}: CLI exit {code}, API {response.status_code}")
    return examples


PARTS = {"cli": sweep_cli, "core": sweep_core, "api": sweep_api, "parity": sweep_parity}
DEFAULT_EXAMPLES = {"cli": 0, "core": 5000, "api": 200, "parity": 200}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="*", choices=[*PARTS, []], help="parts to run (default: all)")
    parser.add_argument("--examples", type=int, help="examples per part (default: the sizes of docs/reliability.md)")
    args = parser.parse_args(argv)
    failures: list[str] = []

    def fail(message: str) -> None:
        if len(failures) < 200:
            print(f"FAIL {message}", flush=True)
        failures.append(message)

    for name in args.parts or list(PARTS):
        count = PARTS[name](args.examples if args.examples is not None else DEFAULT_EXAMPLES[name], fail)
        print(f"{name}: {count} tried", flush=True)
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
