"""The load test runs end to end (a tiny one): the server starts, every endpoint answers, the figures are complete.

No timing is asserted: the figures themselves come from ``python benchmarks/load_test.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import load_test  # noqa: E402


def test_load_test_smoke() -> None:
    figures = load_test.run_load_test(requests=40, connections=4, rounds=2)
    for label in load_test.ENDPOINTS:
        assert figures[label]["errors"] == 0, label
        assert figures[label]["requests_per_s"] > 0
    for name in ("calculate_over_echo", "echo_over_health"):
        low, high = figures[f"{name}_quartiles"]
        assert 0 < low <= figures[name] <= high
    text = load_test.report(figures)
    assert "calculate-raw / echo" in text and "FastAPI's conventional echo" in text


def test_ratios_are_taken_round_by_round() -> None:
    def run(per_s: float) -> load_test.Run:
        return load_test.Run("x", requests=int(per_s), wall_s=1.0, server_cpu_s=1.0, client_cpu_s=0.1)

    runs = {"a": [run(100), run(300)], "b": [run(200), run(400)]}
    assert load_test._ratios(runs, "a", "b", lambda r: r.per_s) == [0.5, 0.75]
    assert load_test._quartiles([0.5, 0.75]) == (0.5625, 0.6875)
    assert load_test._quartiles([0.5]) == (0.5, 0.5)
