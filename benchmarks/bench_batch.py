"""Speed and memory of request-log estimates (not part of the test suite).

    python benchmarks/bench_batch.py            # all three measures
    python benchmarks/bench_batch.py --rows-csv 2000000 --skip-parquet

1. Parquet, 1,000,000 rows: best of 7 (interleaved) of ``pandas.read_parquet`` alone versus
   the whole estimate (``traitement.batch.estimate_log``, grouped by day and
   region), in the same process; target ratio <= 2.
2. CSV, 20,000,000 rows (about 0.8 GB, written to a temporary folder by
   blocks): ``python interface.py batch`` in a child process; its peak
   resident memory (``getrusage(RUSAGE_CHILDREN).ru_maxrss``); target < 1 GiB.
3. ``traitement.footprint`` over 100,000 rows: one call on numpy columns
   versus a Python loop of scalar calls, in the same process.

The logs are generated from a fixed seed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import traitement  # noqa: E402
from traitement.batch import estimate_log  # noqa: E402

HARDWARE = np.array(["h100", "a100", "h200", "l4"])
REGIONS = np.array(["france", "usa", "germany", "sweden", "ireland"])
MODELS = np.array(["llama-3.1-70b", "llama-3.1-8b", "mistral-large"])


def log_table(rows: int, seed: int, start_row: int = 0):
    """A pyarrow table of ``rows`` requests over 90 days of 2025."""
    import pyarrow as pa

    rng = np.random.default_rng(seed + start_row)
    seconds = np.sort(rng.integers(0, 90 * 86400, rows)) + np.datetime64("2025-01-01T00:00:00", "s").astype(np.int64)
    return pa.table(
        {
            "timestamp": pa.array(seconds.astype("datetime64[s]")),
            "input_tokens": rng.integers(200, 8000, rows),
            "output_tokens": rng.integers(20, 1000, rows),
            "hardware": pa.array(HARDWARE[rng.integers(0, len(HARDWARE), rows)]).dictionary_encode(),
            "region": pa.array(REGIONS[rng.integers(0, len(REGIONS), rows)]).dictionary_encode(),
            "model": pa.array(MODELS[rng.integers(0, len(MODELS), rows)]).dictionary_encode(),
        }
    )


def best_of(repeats: int, work) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_parquet(rows: int, folder: Path) -> dict:
    import pandas as pd
    import pyarrow.parquet as pq

    path = folder / "log.parquet"
    pq.write_table(log_table(rows, seed=1), path, row_group_size=1 << 20)
    config = traitement.load_config()
    estimate_log(path, config)  # warm imports and caches for both sides
    pd.read_parquet(path)
    # Interleaved, best of 7 each: the three see the same machine load (other processes share the cores).
    times: dict[str, list[float]] = {"read": [], "total": [], "grouped": []}
    for _ in range(7):
        times["read"].append(best_of(1, lambda: pd.read_parquet(path)))
        times["total"].append(best_of(1, lambda: estimate_log(path, config)))
        times["grouped"].append(best_of(1, lambda: estimate_log(path, config, group_by=["day", "region", "hardware", "model"])))
    read_s, total_s, grouped_s = (min(times[name]) for name in ("read", "total", "grouped"))
    return {
        "rows": rows,
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "pandas_read_parquet_s": round(read_s, 3),
        "estimate_totals_s": round(total_s, 3),
        "estimate_grouped_s": round(grouped_s, 3),
        "ratio_totals": round(total_s / read_s, 2),
        "ratio_grouped": round(grouped_s / read_s, 2),
    }


def write_csv(path: Path, rows: int, block: int = 1_000_000) -> None:
    """Write the CSV log by blocks: memory stays at one block."""
    import pyarrow.csv as pacsv

    with open(path, "wb") as handle:
        for start in range(0, rows, block):
            table = log_table(min(block, rows - start), seed=2, start_row=start)
            table = table.set_column(0, "timestamp", table["timestamp"].cast("string"))
            table = table.set_column(3, "hardware", table["hardware"].cast("string"))
            table = table.set_column(4, "region", table["region"].cast("string"))
            table = table.set_column(5, "model", table["model"].cast("string"))
            pacsv.write_csv(table, handle, write_options=pacsv.WriteOptions(include_header=start == 0, quoting_style="none"))


def bench_csv(rows: int, folder: Path) -> dict:
    path = folder / "log.csv"
    start = time.perf_counter()
    write_csv(path, rows)
    written_s = time.perf_counter() - start
    command = [sys.executable, str(ROOT / "interface.py"), "batch", str(path), "--group-by", "day", "region", "--json", "--quiet"]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    run_s = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"batch failed: {done.stderr.strip()}")
    result = json.loads(done.stdout)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # Linux: KiB
    return {
        "rows": rows,
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "write_s": round(written_s, 1),
        "estimate_s": round(run_s, 1),
        "requests_estimated": result["totals"]["requests"],
        "groups": len(result["groups"]),
        "peak_rss_mib": round(peak_kib / 1024, 1),
    }


def bench_loop(rows: int) -> dict:
    config = traitement.load_config()
    _, modele = traitement.modele_from_config(config)
    site = traitement.site_from_config(config, "france")
    rng = np.random.default_rng(3)
    tokens_in = rng.integers(200, 8000, rows).astype(float)
    tokens_out = rng.integers(20, 1000, rows).astype(float)
    ones = np.ones(rows)
    vector_s = best_of(3, lambda: traitement.footprint(tokens_in, tokens_out, ones, modele, site)["energy_kwh"].sum())
    pairs = list(zip(tokens_in.tolist(), tokens_out.tolist(), strict=True))
    loop_s = best_of(1, lambda: sum(traitement.footprint(i, o, 1, modele, site)["energy_kwh"] for i, o in pairs))
    same = np.isclose(
        traitement.footprint(tokens_in, tokens_out, ones, modele, site)["energy_kwh"].sum(),
        sum(traitement.footprint(i, o, 1, modele, site)["energy_kwh"] for i, o in pairs[:rows]),
        rtol=1e-9,
    )
    return {"rows": rows, "vectorised_s": round(vector_s, 4), "loop_s": round(loop_s, 3), "speed_up": round(loop_s / vector_s, 1), "same_total": bool(same)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows-parquet", type=int, default=1_000_000)
    parser.add_argument("--rows-csv", type=int, default=20_000_000)
    parser.add_argument("--rows-loop", type=int, default=100_000)
    parser.add_argument("--skip-parquet", action="store_true")
    parser.add_argument("--skip-csv", action="store_true")
    parser.add_argument("--skip-loop", action="store_true")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, numpy {np.__version__}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as folder:
        if not args.skip_loop:
            print("footprint, vectorised vs loop:", json.dumps(bench_loop(args.rows_loop)), flush=True)
        if not args.skip_parquet:
            print("parquet:", json.dumps(bench_parquet(args.rows_parquet, Path(folder))), flush=True)
        if not args.skip_csv:
            print("csv:", json.dumps(bench_csv(args.rows_csv, Path(folder))), flush=True)


if __name__ == "__main__":
    main()
