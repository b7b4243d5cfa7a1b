"""Request logs on DuckDB: the estimate against DuckDB's own minimal query, and peak memory (not part of the tests).

    python benchmarks/bench_logs.py                         # 5M-row CSV and Parquet; 20M-row CSV for memory
    python benchmarks/bench_logs.py --rows 1000000 --rounds 3 --skip-memory
    python benchmarks/bench_logs.py --folder /tmp/logs      # keep the generated logs for the next run
    python benchmarks/bench_logs.py --engine library        # time traitement.logs.estimate_log in a process

Method. A log of ``--rows`` rows (timestamp, input and output tokens,
hardware, region, model; 90 days of 2025, 4 x 5 x 3 setups) is written by
DuckDB from a fixed formula (the same file every time), as CSV and as its
Parquet copy. Each measure is a whole process, started fresh: Python, its
imports and the work. The estimate is ``python interface.py batch FILE`` (its
text answer; no progress bar, stderr is not a terminal; ``--engine library``:
a process that imports ``traitement`` and prints ``estimate_log``'s JSON), for
the totals and with ``--group-by day region hardware``. The reference is DuckDB's own minimal query on the same file in a
process of its own: group sums of ``input_tokens`` and ``output_tokens`` by
hardware, region and model, min and max of the timestamp, and a count of the
rows breaking the token rules (CSV types detected by DuckDB's sniffer). The
commands run interleaved, ``--rounds`` times; the figures are medians and the
ratios medians of the per-round ratios, of wall time and of CPU time (user +
system, all threads: less moved by other jobs on a shared machine, but blind to
how well the cores are used). Peak memory is the resident set size
of the whole process (``os.wait4``), for a ``--memory-rows`` CSV. The Python
files are byte-compiled first (as an installed package is).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MINIMAL = """
import sys, duckdb
path = sys.argv[1]
source = f"read_parquet('{path}')" if path.endswith(".parquet") else f"read_csv('{path}')"
rows = duckdb.connect().execute(f'''
    SELECT hardware, region, model, sum(input_tokens), sum(output_tokens), min(timestamp), max(timestamp),
           count(*) FILTER (WHERE input_tokens IS NULL OR input_tokens < 1 OR input_tokens > 10000000
                            OR output_tokens IS NULL OR output_tokens < 1 OR output_tokens > 10000000)
    FROM {source} GROUP BY ALL''').fetchall()
print(len(rows))
"""

LIBRARY = """
import json, sys
import traitement
from traitement.logs import estimate_log
print(json.dumps(estimate_log(sys.argv[1], traitement.load_config(), group_by=sys.argv[2:])))
"""

GENERATE = """
COPY (
    SELECT
        strftime(TIMESTAMP '2025-01-01' + to_seconds(CAST(i * 7776000 // {rows} + hash(i) % 60 AS BIGINT)), '%Y-%m-%dT%H:%M:%SZ') AS timestamp,
        CAST(200 + hash(i * 3) % 7800 AS BIGINT) AS input_tokens,
        CAST(20 + hash(i * 5) % 980 AS BIGINT) AS output_tokens,
        ['h100', 'a100', 'h200', 'l4'][CAST(1 + hash(i * 7) % 4 AS BIGINT)] AS hardware,
        ['france', 'usa', 'germany', 'sweden', 'ireland'][CAST(1 + hash(i * 11) % 5 AS BIGINT)] AS region,
        ['llama-3.1-70b', 'llama-3.1-8b', 'mistral-large'][CAST(1 + hash(i * 13) % 3 AS BIGINT)] AS model
    FROM range({rows}) AS t(i)
) TO '{path}' (FORMAT csv, HEADER)
"""


def generate(folder: Path, rows: int, parquet: bool = True) -> tuple[Path, Path]:
    """The CSV log of ``rows`` rows and its Parquet copy, written once per folder.

    Written by a child process: a process started by this one would otherwise inherit its peak memory
    (Linux carries ``ru_maxrss`` across fork).
    """
    csv_path, parquet_path = folder / f"log_{rows}.csv", folder / f"log_{rows}.parquet"
    statements = []
    if not csv_path.exists():
        statements.append(GENERATE.format(rows=rows, path=csv_path.with_suffix(".tmp")))
    if parquet and not parquet_path.exists():
        source = csv_path if csv_path.exists() else csv_path.with_suffix(".tmp")
        statements.append(f"COPY (SELECT * FROM read_csv('{source}')) TO '{parquet_path}' (FORMAT parquet)")
    if statements:
        script = "import duckdb, sys; con = duckdb.connect(); [con.execute(s) for s in sys.argv[1:]]"
        subprocess.run([sys.executable, "-c", script, *statements], check=True)
    if csv_path.with_suffix(".tmp").exists():
        csv_path.with_suffix(".tmp").rename(csv_path)
    return csv_path, parquet_path


def run(command: list[str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system, all threads) and peak resident memory (KiB) of a whole process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed: {process.stderr.read().decode()[-500:] if process.stderr else status}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def estimate_command(engine: str, path: Path, group_by: list[str], method: str | None = None) -> list[str]:
    if engine == "library":
        return [sys.executable, "-c", LIBRARY, str(path), *group_by]
    options = [*(["--group-by", *group_by] if group_by else []), *(["--method", method] if method else [])]
    return [sys.executable, "interface.py", "batch", str(path), *options]


def speed(paths: dict[str, Path], rounds: int, engine: str, method: str | None = None) -> list[dict]:
    """Interleaved rounds of (minimal, totals, grouped) per file; medians and per-round ratios."""
    grouped = ["day", "region", "hardware"]
    out = []
    for fmt, path in paths.items():
        commands = {
            "minimal": [sys.executable, "-c", MINIMAL, str(path)],
            "totals": estimate_command(engine, path, [], method),
            "grouped": estimate_command(engine, path, grouped, method),
        }
        for command in commands.values():  # warm the page cache and the bytecode
            run(command)
        times: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(rounds):
            for name, command in commands.items():
                wall_s, cpu_s, _ = run(command)
                times[name].append(wall_s)
                cpu[name].append(cpu_s)
        for name in ("totals", "grouped"):
            ratios = [a / b for a, b in zip(times[name], times["minimal"], strict=True)]
            cpu_ratios = [a / b for a, b in zip(cpu[name], cpu["minimal"], strict=True)]
            out.append(
                {
                    "file": fmt,
                    "work": name,
                    "estimate_s": round(statistics.median(times[name]), 3),
                    "minimal_s": round(statistics.median(times["minimal"]), 3),
                    "ratio_median": round(statistics.median(ratios), 3),
                    "ratio_range": [round(min(ratios), 3), round(max(ratios), 3)],
                    "cpu_estimate_s": round(statistics.median(cpu[name]), 3),
                    "cpu_minimal_s": round(statistics.median(cpu["minimal"]), 3),
                    "cpu_ratio_median": round(statistics.median(cpu_ratios), 3),
                }
            )
            print(json.dumps(out[-1]), flush=True)
    return out


def memory(path: Path, engine: str) -> dict:
    _, _, estimate_kib = run(estimate_command(engine, path, ["day", "region"]))
    _, _, minimal_kib = run([sys.executable, "-c", MINIMAL, str(path)])
    figures = {
        "file_mb": round(path.stat().st_size / 1e6),
        "estimate_peak_rss_mib": round(estimate_kib / 1024, 1),
        "minimal_peak_rss_mib": round(minimal_kib / 1024, 1),
    }
    print(json.dumps(figures), flush=True)
    return figures


def prepare(**run: object) -> dict:
    """Byte-compile the project (as an installed package is) and describe the machine and the run, for the figures' head."""
    version = subprocess.run([sys.executable, "-c", "import duckdb; print(duckdb.__version__)"], capture_output=True, text=True, check=True)
    subprocess.run([sys.executable, "-m", "compileall", "-q", "traitement", "genai_carbon", "interface.py"], cwd=ROOT, check=False, capture_output=True)
    return {
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "python": platform.python_version(),
        "duckdb": version.stdout.strip(),
        **run,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--memory-rows", type=int, default=20_000_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--engine", choices=["interface", "library"], default="interface")
    parser.add_argument("--folder", type=Path, help="where the generated logs are kept (default: a temporary folder)")
    parser.add_argument(
        "--method", help="batch's --method (default: the log's default, 'auto': the model-aware estimate for rows with a model)"
    )
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--json-out", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    machine = prepare(engine=args.engine, method=args.method or "auto", rounds=args.rounds)
    print(json.dumps(machine), flush=True)
    figures: dict = {"machine": machine}
    with tempfile.TemporaryDirectory(prefix="bench-logs-") as scratch:
        folder = args.folder or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        if not args.skip_speed:
            csv_path, parquet_path = generate(folder, args.rows)
            figures["rows"] = args.rows
            figures["csv_mb"] = round(csv_path.stat().st_size / 1e6)
            figures["speed"] = speed({"csv": csv_path, "parquet": parquet_path}, args.rounds, args.engine, args.method)
        if not args.skip_memory:
            csv_path, _ = generate(folder, args.memory_rows, parquet=False)
            figures["memory"] = {"rows": args.memory_rows, **memory(csv_path, args.engine)}
    if args.json_out:
        args.json_out.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
