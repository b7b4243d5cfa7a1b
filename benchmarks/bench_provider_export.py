"""A provider's usage export against the same rows as a CSV log: wall time and peak memory (not part of the tests).

    python benchmarks/bench_provider_export.py                      # 1,000,000 rows, 5 rounds
    python benchmarks/bench_provider_export.py --rows 200000 --rounds 3
    python benchmarks/bench_provider_export.py --folder /tmp/usage  # keep the generated files for the next run

Method. ``--rows`` aggregated rows (a day, a model of three, a project of four,
1 to 50 requests, their token sums) are written by DuckDB from a fixed formula,
twice: as an OpenAI organization Usage API export for completions, JSON Lines
of pages (``object: page``; 10 daily buckets of 100 results per page, each
result with every field the API returns: ``object``, ``input_tokens``,
``input_cached_tokens``, ``output_tokens``, ``num_model_requests``, ``model``,
``project_id``, ``user_id``, ``api_key_id``, ``batch``), and as the CSV log of
the same rows (``timestamp`` in Unix seconds, the tokens of one request,
``count``, ``model``, ``project_id``). Both give the same token sums, requests
and groups, so the same answer (checked: the totals' integers are equal and
the figures agree to 1e-9). Each measure is a whole process, started fresh:
``python interface.py batch FILE`` (text answer, no progress bar), for the
totals and with ``--group-by month model``; the commands run interleaved,
``--rounds`` times; the figure is the median of the per-round ratios
export / CSV of wall time, with their range, and the peak resident memory of
each process (``os.wait4``). The Python files are byte-compiled first.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_logs import ROOT, prepare, run  # noqa: E402

ROWS = """
SELECT
    i,
    1735689600 + (i // 100 % 3650) * 86400 AS start_time,
    CAST(1 + hash(i * 17) % 50 AS BIGINT) AS requests,
    CAST(200 + hash(i * 3) % 7800 AS BIGINT) AS input_tokens,
    CAST(20 + hash(i * 5) % 980 AS BIGINT) AS output_tokens,
    ['gpt-4o-mini-2024-07-18', 'gpt-4o-2024-08-06', 'o3-mini-2025-01-31'][CAST(1 + hash(i * 13) % 3 AS BIGINT)] AS model,
    ['proj_support', 'proj_search', 'proj_agents', 'proj_batch'][CAST(1 + hash(i * 11) % 4 AS BIGINT)] AS project_id
FROM range({rows}) AS t(i)
"""
"""One aggregated row: ``requests`` requests of ``input_tokens`` in (a quarter of them cached, rounded down) and ``output_tokens`` out."""

EXPORT = """
COPY (
    SELECT 'page' AS object, list(bucket ORDER BY b) AS data, false AS has_more, NULL::VARCHAR AS next_page
    FROM (
        SELECT i // 1000 AS p, i // 100 AS b,
               {{'object': 'bucket', 'start_time': min(start_time), 'end_time': min(start_time) + 86400,
                 'results': list({{'object': 'organization.usage.completions.result',
                                  'input_tokens': input_tokens * requests,
                                  'output_tokens': output_tokens * requests,
                                  'input_cached_tokens': input_tokens // 4 * requests,
                                  'num_model_requests': requests,
                                  'project_id': project_id, 'user_id': NULL::VARCHAR, 'api_key_id': NULL::VARCHAR,
                                  'model': model, 'batch': false}} ORDER BY i)}} AS bucket
        FROM ({rows_sql}) GROUP BY ALL
    ) GROUP BY p ORDER BY p
) TO '{path}' (FORMAT json)
"""

CSV = """
COPY (
    SELECT start_time AS timestamp, input_tokens, input_tokens // 4 AS cached_input_tokens, output_tokens, requests AS count, model, project_id
    FROM ({rows_sql}) ORDER BY i
) TO '{path}' (FORMAT csv, HEADER)
"""


def generate(folder: Path, rows: int) -> tuple[Path, Path]:
    """The export (JSON Lines of pages) and the CSV log of the same ``rows`` rows, written once per folder, by a child
    process (a process started by this one would otherwise inherit its peak memory)."""
    export, csv_path = folder / f"openai_usage_{rows}.jsonl", folder / f"log_{rows}.csv"
    statements = []
    rows_sql = ROWS.format(rows=rows)
    if not export.exists():
        statements.append(EXPORT.format(rows_sql=rows_sql, path=export))
    if not csv_path.exists():
        statements.append(CSV.format(rows_sql=rows_sql, path=csv_path))
    if statements:
        script = "import duckdb, sys; con = duckdb.connect(); [con.execute(s) for s in sys.argv[1:]]"
        subprocess.run([sys.executable, "-c", script, *statements], check=True)
    return export, csv_path


SAME_ANSWER = """
import json, sys
import traitement
from traitement.logs import estimate_log

config = traitement.load_config()
a = estimate_log(sys.argv[1], config, group_by=["month", "model"])
b = estimate_log(sys.argv[2], config, group_by=["month", "model"])
integers = ("requests", "input_tokens", "cached_input_tokens", "output_tokens", "reasoning_tokens")
assert all(a["totals"][name] == b["totals"][name] for name in integers), (a["totals"], b["totals"])
assert len(a["groups"]) == len(b["groups"])
for name in ("energy_kwh", "energy_kwh_min", "energy_kwh_max", "carbon_gco2eq"):
    assert abs(a["totals"][name] - b["totals"][name]) <= 1e-9 * abs(b["totals"][name]), name
print(json.dumps({name: a["totals"][name] for name in integers} | {"groups": len(a["groups"]), "rows": a["rows"]}))
"""


def same_answer(export: Path, csv_path: Path) -> dict:
    """Both files give the same sums and figures: checked in a child process (a process started by this one would
    otherwise inherit its peak memory: Linux carries ``ru_maxrss`` across fork)."""
    done = subprocess.run([sys.executable, "-c", SAME_ANSWER, str(export), str(csv_path)], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def speed(export: Path, csv_path: Path, rounds: int) -> list[dict]:
    out = []
    for work, group_by in (("totals", []), ("grouped", ["--group-by", "month", "model"])):
        commands = {
            "export": [sys.executable, "interface.py", "batch", str(export), *group_by],
            "csv": [sys.executable, "interface.py", "batch", str(csv_path), *group_by],
        }
        for command in commands.values():  # warm the page cache and the bytecode
            run(command)
        wall: dict[str, list[float]] = {name: [] for name in commands}
        peak: dict[str, list[int]] = {name: [] for name in commands}
        for _ in range(rounds):
            for name, command in commands.items():
                wall_s, _, kib = run(command)
                wall[name].append(wall_s)
                peak[name].append(kib)
        ratios = [a / b for a, b in zip(wall["export"], wall["csv"], strict=True)]
        out.append(
            {
                "work": work,
                "export_s": round(statistics.median(wall["export"]), 3),
                "csv_s": round(statistics.median(wall["csv"]), 3),
                "ratio_median": round(statistics.median(ratios), 3),
                "ratio_range": [round(min(ratios), 3), round(max(ratios), 3)],
                "export_peak_rss_mib": round(max(peak["export"]) / 1024, 1),
                "csv_peak_rss_mib": round(max(peak["csv"]) / 1024, 1),
            }
        )
        print(json.dumps(out[-1]), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--folder", type=Path, help="where the generated files are kept (default: a temporary folder)")
    parser.add_argument("--json-out", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    machine = prepare(rows=args.rows, rounds=args.rounds)
    print(json.dumps(machine), flush=True)
    figures: dict = {"machine": machine}
    with tempfile.TemporaryDirectory(prefix="bench-usage-") as scratch:
        folder = args.folder or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        export, csv_path = generate(folder, args.rows)
        figures["files_mb"] = {"export": round(export.stat().st_size / 1e6), "csv": round(csv_path.stat().st_size / 1e6)}
        figures["same_answer"] = same_answer(export, csv_path)
        print(json.dumps({"files_mb": figures["files_mb"], "same_answer": figures["same_answer"]}), flush=True)
        figures["speed"] = speed(export, csv_path, args.rounds)
    if args.json_out:
        args.json_out.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
