"""Bounded load test of the API on loopback: a fixed number of requests over a fixed number of connections.

    python benchmarks/load_test.py                      # uvloop + httptools, 60 rounds of 300 requests per endpoint
    python benchmarks/load_test.py --loop asyncio --http h11 --requests 2000

It starts uvicorn (one worker, on 127.0.0.1) on ``benchmarks/echo_app.py``: the
project's app plus ``POST /echo``, FastAPI's conventional echo of the same body,
then drives it with a raw asyncio HTTP/1.1 keep-alive client: the request bytes
are written by hand and the answers parsed by their ``content-length``, so the
client spends far less CPU per request than the server (an httpx client tops out
near 700 requests/s on 2 cores). It measures, in the same run and interleaved by
round:

* ``GET /health``: a trivial route (the ceiling of the framework, for reference);
* ``POST /echo``: the seed's ``/calculate-raw`` body taken as a pydantic body
  parameter and returned through its response model (FastAPI's usual path);
* ``POST /calculate-raw``: the same body, estimated.

It prints requests/s (median over rounds), errors, and the CPU used by the
server and by the client as a share of one core: a server near 100% and a client
well below it show that the server, not the generator, is the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # loopback only
SEED_RAW_BODY = {  # the seed README's /calculate-raw example
    "region": {"pue": 1.2, "carbon_intensity": 55},
    "hardware": {"power_gpu": 400, "power_cpu": 100, "eta_cpu": 0.2},
    "profile": {"name": "test", "input_size": 1000, "output_size": 200, "throughput": 60, "count": 1},
}
ENDPOINTS = {  # label: (method, path, body)
    "health": ("GET", "/health", None),
    "echo": ("POST", "/echo", SEED_RAW_BODY),  # the baseline: FastAPI's conventional echo of the same body
    "calculate-raw": ("POST", "/calculate-raw", SEED_RAW_BODY),
}
TARGET_OVER_ECHO = 0.85
"""calculate-raw must serve at least this share of the echo's requests per second."""
CLK_TCK = os.sysconf("SC_CLK_TCK")


def request_bytes(method: str, path: str, body: dict | None, port: int) -> bytes:
    """One HTTP/1.1 keep-alive request, written by hand."""
    payload = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
    head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
    return (head + "\r\n").encode() + payload


async def _connection(port: int, request: bytes, count: int, depth: int, statuses: dict[int, int], sample: list[bytes]) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        remaining = count
        while remaining:
            batch = min(depth, remaining)
            writer.write(request * batch)  # pipelined when depth > 1
            for _ in range(batch):
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                lower = head.lower()
                start = lower.index(b"content-length:") + 15
                length = int(lower[start : lower.index(b"\r\n", start)])
                body = await reader.readexactly(length)
                statuses[status] = statuses.get(status, 0) + 1
                if not sample:
                    sample.append(body)
            remaining -= batch
    finally:
        writer.close()


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


@dataclass
class Run:
    label: str
    requests: int
    wall_s: float
    server_cpu_s: float
    client_cpu_s: float
    statuses: dict[int, int] = field(default_factory=dict)
    sample: bytes = b""

    @property
    def per_s(self) -> float:
        return self.requests / self.wall_s

    @property
    def per_server_cpu_s(self) -> float:
        """Requests per second of server CPU; CPU time is read in clock ticks, so a round under one tick counts as one."""
        return self.requests / max(self.server_cpu_s, 1 / CLK_TCK)

    @property
    def errors(self) -> int:
        return self.requests - self.statuses.get(200, 0)


async def _drive(port: int, server_pid: int, label: str, requests: int, connections: int, depth: int) -> Run:
    method, path, body = ENDPOINTS[label]
    request = request_bytes(method, path, body, port)
    statuses: dict[int, int] = {}
    sample: list[bytes] = []
    share, extra = divmod(requests, connections)
    counts = [share + (i < extra) for i in range(connections)]
    cpu0, client0, wall0 = _cpu_s(server_pid), time.process_time(), time.perf_counter()
    results = await asyncio.gather(*(_connection(port, request, n, depth, statuses, sample) for n in counts if n), return_exceptions=True)
    wall = time.perf_counter() - wall0
    run = Run(label, requests, wall, _cpu_s(server_pid) - cpu0, time.process_time() - client0, statuses, sample[0] if sample else b"")
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        statuses[-1] = statuses.get(-1, 0) + requests - sum(statuses.values())
    return run


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(loop: str, http: str, port: int, access_log: bool = False) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "benchmarks"), str(ROOT)])}
    command = [sys.executable, "-m", "uvicorn", "echo_app:app", "--host", HOST, "--port", str(port), "--loop", loop, "--http", http, "--workers", "1"]
    if access_log:  # uvicorn's defaults, as `uvicorn api:app` runs: an access-log line per request (written to /dev/null here)
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    else:  # the strictest measurement: no per-request logging, which would add the same cost to every endpoint
        server = subprocess.Popen([*command, "--log-level", "warning", "--no-access-log"], cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"uvicorn exited with code {server.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("uvicorn did not start within 30 s")


def _ratios(runs: dict[str, list[Run]], top: str, bottom: str, per: Any) -> list[float]:
    """``per(run)`` of ``top`` over ``bottom``, round by round (the two ran seconds apart, on the same machine state)."""
    return [per(a) / per(b) for a, b in zip(runs[top], runs[bottom], strict=True)]


def _quartiles(values: list[float]) -> tuple[float, float]:
    """First and third quartiles (both the value itself when there is one)."""
    if len(values) < 2:
        return values[0], values[0]
    low, _, high = statistics.quantiles(values, n=4, method="inclusive")
    return low, high


def run_load_test(
    requests: int = 300,
    connections: int = 16,
    depth: int = 1,
    rounds: int = 60,
    loop: str = "uvloop",
    http: str = "httptools",
    access_log: bool = False,
) -> dict:
    """Start the server, measure every endpoint ``rounds`` times (interleaved), stop it; returns the figures.

    Each round measures every endpoint once, in an order rotated from round to
    round; a ratio is the median of its per-round ratios. These shared machines
    change speed from second to second (one endpoint alone ranged over 1.4x
    between runs), so endpoints are compared within a round, over many short
    rounds (60 rounds of 300 requests gave repeatable ratios where 15 rounds
    of 1,500 did not).
    """
    port = _free_port()
    server = start_server(loop, http, port, access_log)
    try:
        client_loop = asyncio.new_event_loop()
        if loop == "uvloop":
            try:
                import uvloop

                client_loop.close()
                client_loop = uvloop.new_event_loop()
            except ImportError:
                pass
        runs: dict[str, list[Run]] = {label: [] for label in ENDPOINTS}
        for label in ENDPOINTS:  # warm-up: imports, validators, caches
            client_loop.run_until_complete(_drive(port, server.pid, label, min(500, requests), connections, depth))
        labels = list(ENDPOINTS)
        for round_index in range(rounds):
            shift = round_index % len(labels)
            for label in labels[shift:] + labels[:shift]:
                runs[label].append(client_loop.run_until_complete(_drive(port, server.pid, label, requests, connections, depth)))
        client_loop.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    figures: dict = {
        "requests": requests,
        "connections": connections,
        "pipeline_depth": depth,
        "rounds": rounds,
        "loop": loop,
        "http": http,
        "access_log": access_log,
    }
    for label, measured in runs.items():
        figures[label] = {
            "requests_per_s": statistics.median(r.per_s for r in measured),
            "requests_per_server_cpu_s": statistics.median(r.per_server_cpu_s for r in measured),
            "errors": sum(r.errors for r in measured),
            "server_cpu_share": statistics.median(r.server_cpu_s / r.wall_s for r in measured),
            "client_cpu_share": statistics.median(r.client_cpu_s / r.wall_s for r in measured),
        }
    sample = json.loads(runs["calculate-raw"][0].sample)
    assert "energy_kwh" in sample and "covers" in sample, "calculate-raw answered an unexpected body"
    echo = json.loads(runs["echo"][0].sample)
    assert echo["profile"]["input_size"] == SEED_RAW_BODY["profile"]["input_size"], "echo answered an unexpected body"

    def per_s(run: Run) -> float:
        return run.per_s

    def per_cpu_s(run: Run) -> float:
        return run.per_server_cpu_s

    for name, top, bottom in (("calculate_over_echo", "calculate-raw", "echo"), ("echo_over_health", "echo", "health")):
        ratios = _ratios(runs, top, bottom, per_s)
        figures[name] = statistics.median(ratios)
        figures[f"{name}_quartiles"] = _quartiles(ratios)
        # The same ratio per second of server CPU: what it would be with a core to itself (robust to other load).
        figures[f"cpu_{name}"] = statistics.median(_ratios(runs, top, bottom, per_cpu_s))
    return figures


def report(figures: dict) -> str:
    lines = [
        f"uvicorn api:app (--loop {figures['loop']} --http {figures['http']}, 1 worker, "
        f"{'access log on, as uvicorn runs by default' if figures.get('access_log') else 'no access log'}) on {HOST}; "
        f"{figures['requests']:,} requests x {figures['rounds']} rounds per endpoint over {figures['connections']} keep-alive connections, "
        f"pipeline depth {figures['pipeline_depth']}",
        f"  {'endpoint':16s}{'requests/s':>12s}{'per CPU-s':>11s}{'errors':>8s}{'server CPU':>12s}{'client CPU':>12s}",
    ]
    for label in ENDPOINTS:
        f = figures[label]
        lines.append(
            f"  {label:16s}{f['requests_per_s']:12,.0f}{f['requests_per_server_cpu_s']:11,.0f}{f['errors']:8d}"
            f"{f['server_cpu_share']:12.0%}{f['client_cpu_share']:12.0%}"
        )
    lines.append("  ratios: median of the per-round ratios [first - third quartile]")
    low, high = figures["calculate_over_echo_quartiles"]
    lines.append(
        f"  calculate-raw / echo = {figures['calculate_over_echo']:.2f}x requests/s [{low:.2f} - {high:.2f}], "
        f"{figures['cpu_calculate_over_echo']:.2f}x per server CPU-s (target >= {TARGET_OVER_ECHO})"
    )
    low, high = figures["echo_over_health_quartiles"]
    lines.append(f"  reference: FastAPI's conventional echo / health = {figures['echo_over_health']:.2f}x requests/s [{low:.2f} - {high:.2f}]")
    lines.append("  (server CPU: share of one core used by uvicorn; below ~95% means other processes took the core, then read the per CPU-s ratios)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per endpoint per round (default 300)")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections (default 16)")
    parser.add_argument("--pipeline", type=int, default=1, help="requests in flight per connection (default 1: no pipelining)")
    parser.add_argument("--rounds", type=int, default=60, help="rounds, each measuring every endpoint once, in a rotated order (default 60)")
    parser.add_argument("--loop", default="uvloop", choices=["uvloop", "asyncio"], help="uvicorn's event loop (default uvloop)")
    parser.add_argument("--http", default="httptools", choices=["httptools", "h11"], help="uvicorn's HTTP parser (default httptools)")
    parser.add_argument("--access-log", action="store_true", help="keep uvicorn's default logging (an access-log line per request), as `uvicorn api:app` runs")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if min(args.requests, args.connections, args.pipeline, args.rounds) < 1 or args.requests > 1_000_000 or args.connections > 1000:
        parser.error("--requests 1 to 1,000,000, --connections 1 to 1,000, --pipeline and --rounds >= 1")
    figures = run_load_test(args.requests, args.connections, args.pipeline, args.rounds, args.loop, args.http, args.access_log)
    print(json.dumps(figures, indent=2) if args.json else report(figures))
    errors = sum(figures[label]["errors"] for label in ENDPOINTS)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
