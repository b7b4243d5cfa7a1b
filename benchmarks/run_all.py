"""Every performance figure of the project, as ratios measured in one run.

    python benchmarks/run_all.py            # about a minute on 2 cores
    python benchmarks/run_all.py --quick    # fewer repetitions, for a smoke test

Each figure is a ratio against a baseline measured in the same run, on the same
machine, interleaved where it can be, so that other load on the machine moves
both sides alike:

1. The one-off CLI estimate, ``python interface.py --in_tok 2000 --out_tok 500 --region usa``,
   as a whole process, against the same one-off estimate with EcoLogits
   (``python -c "from ecologits.tracers.utils import llm_impacts; ..."``): the
   median of the per-run ratios of interleaved runs; target <= 0.75x.
2. The vectorised core (``traitement.footprint`` over numpy columns, central
   value and range) against a per-row Python loop over ``traitement.estimate``.
3. The API (``benchmarks/load_test.py``): ``POST /calculate-raw`` against
   FastAPI's conventional echo of the same pydantic body (``benchmarks/echo_app.py``),
   without uvicorn's access log and with it (as ``uvicorn api:app`` runs by
   default); target >= 0.85x.
4. One ``estimate_named``/``estimate_raw`` call against a bare ``footprint()``
   (what the value objects, presets and assumptions add to the formulas).
5. Request logs: ``benchmarks/bench_logs.py`` (``python interface.py batch`` against
   DuckDB's own minimal query on a 5,000,000-row log, as whole processes, and the
   peak memory of a 20,000,000-row CSV; ``--quick``: 1,000,000 rows, no memory run).
6. One estimate against the ``ecologits`` package's per-request estimate, in process.

EcoLogits is in requirements.txt: figures 1 and 6 need it.

Any other ``benchmarks/bench_*.py`` script is run too and its output printed.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import logging
import statistics
import subprocess
import sys
import time
from contextlib import redirect_stderr
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import load_test  # noqa: E402

import traitement  # noqa: E402


def _best(function, repeat: int) -> float:
    """Fastest of ``repeat`` runs, in seconds (the least disturbed by other load)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


ECOLOGITS_ONE_OFF = "from ecologits.tracers.utils import llm_impacts; print(llm_impacts('openai', 'gpt-4o', 400, 2.0, 'USA').energy)"
"""The same one-off estimate with EcoLogits: the baseline of the CLI's start."""


def cli_start(runs: int) -> dict:
    python = sys.executable
    commands = {
        "cli": [python, "interface.py", "--in_tok", "2000", "--out_tok", "500", "--region", "usa"],
        "ecologits": [python, "-c", ECOLOGITS_ONE_OFF],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):  # interleaved
        for name, command in commands.items():
            start = time.perf_counter()
            subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            times[name].append(time.perf_counter() - start)
    ratios = [cli / eco for cli, eco in zip(times["cli"], times["ecologits"], strict=True)]
    return {
        "runs": runs,
        "cli_s": statistics.median(times["cli"]),
        "ecologits_s": statistics.median(times["ecologits"]),
        "ratio": statistics.median(ratios),
        "ratio_quartiles": load_test._quartiles(ratios),
    }


def vectorised_core(rows: int, loop_rows: int, repeat: int) -> dict:
    import numpy as np

    config = traitement.load_config()
    _, modele = traitement.modele_from_config(config)
    site = traitement.site_from_config(config, "usa")
    generator = np.random.default_rng(0)
    input_tokens = generator.integers(1, 20_000, rows).astype(np.float64)
    output_tokens = generator.integers(1, 4_000, rows).astype(np.float64)
    count = np.ones(rows)

    def vectorised() -> None:  # central value and both ends of the range, like estimate()
        traitement.footprint(input_tokens, output_tokens, count, modele, site)
        traitement.footprint(input_tokens, output_tokens, count, modele.at("low"), site.at("low"))
        traitement.footprint(input_tokens, output_tokens, count, modele.at("high"), site.at("high"))

    pairs = list(zip(input_tokens[:loop_rows].astype(int).tolist(), output_tokens[:loop_rows].astype(int).tolist(), strict=True))

    def loop() -> None:
        for tokens_in, tokens_out in pairs:
            traitement.estimate(traitement.Requete(input_tokens=tokens_in, output_tokens=tokens_out), modele, site)

    vector_s = _best(vectorised, repeat)
    loop_s = _best(loop, repeat)
    per_row_vector, per_row_loop = vector_s / rows, loop_s / loop_rows
    return {"rows": rows, "vectorised_s": vector_s, "loop_rows": loop_rows, "loop_s": loop_s, "speedup": per_row_loop / per_row_vector}


def core_per_call(repeat: int, calls: int) -> dict:
    """Microseconds per ``estimate_named`` and ``estimate_raw`` call, as ratios to a bare ``footprint()`` (the formulas alone)."""
    config = traitement.load_config()
    named = traitement.NamedRequest.model_validate({"input_tokens": 2000, "output_tokens": 500, "region": "usa"})
    raw = traitement.RawRequest.model_validate(load_test.SEED_RAW_BODY)
    _, modele = traitement.modele_from_config(config)
    site = traitement.site_from_config(config, "usa")
    functions = {
        "footprint": lambda: traitement.footprint(2000, 500, 1, modele, site),
        "estimate_named": lambda: traitement.estimate_named(config, named),
        "estimate_raw": lambda: traitement.estimate_raw(config, raw),
    }
    best = {name: _best(lambda function=function: [function() for _ in range(calls)], repeat) / calls * 1e6 for name, function in functions.items()}
    return {"calls": calls, **{f"{name}_us": us for name, us in best.items()}, **{f"{name}_over_footprint": best[name] / best["footprint"] for name in best}}


def ecologits_comparison(repeat: int, calls: int) -> dict | None:
    if importlib.util.find_spec("ecologits") is None:
        return None
    from ecologits.tracers.utils import llm_impacts

    logging.getLogger("ecologits").setLevel(logging.ERROR)
    config = traitement.load_config()
    request = traitement.NamedRequest(input_tokens=2000, output_tokens=500, region="usa")

    def ours() -> None:
        for _ in range(calls):
            traitement.estimate_named(config, request)

    def theirs() -> None:
        for _ in range(calls):
            llm_impacts(provider="openai", model_name="gpt-4o-mini", output_token_count=500, request_latency=5.0, electricity_mix_zone="USA")

    with redirect_stderr(io.StringIO()):  # ecologits warns about unreleased architectures
        theirs()
        ours_s, theirs_s = _best(ours, repeat), _best(theirs, repeat)
    return {"calls": calls, "ours_us": ours_s / calls * 1e6, "ecologits_us": theirs_s / calls * 1e6, "ratio": theirs_s / ours_s}


def request_logs(quick: bool) -> dict:
    """``benchmarks/bench_logs.py``'s figures (its own interleaved runs; see its docstring)."""
    import tempfile

    options = ["--rows", "1000000", "--rounds", "3", "--skip-memory"] if quick else []
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "logs.json"
        script = Path(__file__).resolve().parent / "bench_logs.py"
        subprocess.run([sys.executable, str(script), *options, "--json-out", str(out)], cwd=ROOT, capture_output=True, check=True, timeout=1800)
        return json.loads(out.read_text())


def other_scripts() -> list[tuple[str, int, str]]:
    """Run every other benchmarks/bench_*.py (other parts of the project); their output as they print it."""
    results = []
    for script in sorted(Path(__file__).resolve().parent.glob("bench_*.py")):
        if script.name == "bench_logs.py":  # run above, with its figures in the summary
            continue
        done = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=600)
        results.append((script.name, done.returncode, (done.stdout + done.stderr).strip()))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Every performance figure of the project, as ratios measured in one run.")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke test, noisier figures)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    quick = args.quick
    figures: dict = {}
    lines: list[str] = []

    figures["cli_start"] = f = cli_start(runs=5 if quick else 21)
    low, high = f["ratio_quartiles"]
    lines.append(
        f"CLI one-off        {f['ratio']:.2f}x the same one-off estimate with EcoLogits [{low:.2f} - {high:.2f}] "
        f"({f['cli_s'] * 1000:.0f} ms vs {f['ecologits_s'] * 1000:.0f} ms, median of {f['runs']} interleaved runs; target <= 0.75x)"
    )

    figures["vectorised_core"] = f = vectorised_core(rows=100_000 if quick else 1_000_000, loop_rows=500 if quick else 3000, repeat=3)
    lines.append(
        f"Vectorised core    {f['speedup']:,.0f}x faster per row than a Python loop over traitement.estimate "
        f"({f['rows']:,} rows in {f['vectorised_s'] * 1000:.0f} ms, central + range; loop {f['loop_s'] / f['loop_rows'] * 1e6:.1f} us/row)"
    )

    figures["core_per_call"] = f = core_per_call(repeat=5, calls=1000 if quick else 5000)
    lines.append(
        f"Core per call      estimate_named {f['estimate_named_us']:.0f} us ({f['estimate_named_over_footprint']:.0f}x a bare footprint()), "
        f"estimate_raw {f['estimate_raw_us']:.0f} us ({f['estimate_raw_over_footprint']:.0f}x); footprint {f['footprint_us']:.1f} us (best of 5)"
    )

    for key, access_log, how in (
        ("api", False, "no access log (the strictest)"),
        ("api_access_log", True, "access log on, as `uvicorn api:app` runs by default"),
    ):
        figures[key] = f = load_test.run_load_test(requests=300, connections=16, rounds=10 if quick else 60, access_log=access_log)
        low, high = f["calculate_over_echo_quartiles"]
        lines.append(
            f"API, {how}:\n"
            f"                   POST /calculate-raw {f['calculate_over_echo']:.2f}x FastAPI's conventional echo of the same body "
            f"[{low:.2f} - {high:.2f}] in requests/s, median of per-round ratios [quartiles]; target >= {load_test.TARGET_OVER_ECHO}"
        )
        lines.append(
            f"                   per server CPU-second {f['cpu_calculate_over_echo']:.2f}x; reference: the echo {f['echo_over_health']:.2f}x GET /health; "
            f"{f['calculate-raw']['requests_per_s']:,.0f} requests/s, server CPU {f['calculate-raw']['server_cpu_share']:.0%} of a core, "
            f"client CPU {f['calculate-raw']['client_cpu_share']:.0%}, errors {sum(f[k]['errors'] for k in load_test.ENDPOINTS)}"
        )

    figures["request_logs"] = f = request_logs(quick)
    for row in f.get("speed", []):
        lines.append(
            f"Request logs       {row['file']} {row['work']}: {row['ratio_median']:.2f}x DuckDB's own minimal query "
            f"[{row['ratio_range'][0]:.2f} - {row['ratio_range'][1]:.2f}] ({row['estimate_s']:.2f} s vs {row['minimal_s']:.2f} s; target <= 1.2x)"
        )
    if "memory" in f:
        lines.append(f"Request logs       {f['memory']['rows']:,}-row CSV: peak RSS {f['memory']['estimate_peak_rss_mib']:.0f} MiB (target <= 512 MiB)")

    figures["ecologits"] = f = ecologits_comparison(repeat=3, calls=100 if quick else 500)
    if f is None:
        lines.append("EcoLogits          skipped: the ecologits package is not installed (pip install ecologits)")
    else:
        lines.append(
            f"EcoLogits          one estimate_named() is {f['ratio']:.1f}x faster than ecologits' llm_impacts() "
            f"({f['ours_us']:.0f} us vs {f['ecologits_us']:.0f} us per request)"
        )

    for name, code, output in other_scripts():
        figures[name] = {"exit_code": code, "output": output}
        lines.append(f"\n--- {name} (exit code {code}) ---\n{output}")

    print(json.dumps(figures, indent=2, default=str) if args.json else "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
