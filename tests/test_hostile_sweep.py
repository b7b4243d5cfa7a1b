"""The hostile-input sweep (scripts/hostile_sweep.py) in small: each part runs and finds nothing.

The full sizes (docs/reliability.md) take minutes; here a few examples per part
keep the harness itself working.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "hostile_sweep.py"


def _sweep():
    spec = importlib.util.spec_from_file_location("hostile_sweep", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_invariants_catch_what_they_should() -> None:
    sweep = _sweep()
    assert sweep.invariants({"energy_kwh": 1.0, "energy_kwh_min": 0.5, "energy_kwh_max": 2.0, "reasoning_energy_share": 0.5}) == []
    assert sweep.invariants({"energy_kwh": 3.0, "energy_kwh_min": 0.5, "energy_kwh_max": 2.0}) == [
        "energy_kwh: not min <= central <= max (0.5 <= 3.0 <= 2.0)"
    ]
    assert sweep.invariants({"water_l": -1.0, "carbon_gco2eq": float("nan")}) == [".water_l = -1.0 < 0", ".carbon_gco2eq is not finite"]
    assert sweep.invariants({"reasoning_energy_share": 1.5}) == ["reasoning_energy_share = 1.5"]


@pytest.mark.parametrize("part", ["core", "api", "parity"])
def test_each_part_of_the_sweep_finds_nothing(part, capsys) -> None:
    assert _sweep().main([part, "--examples", "8"]) == 0
    assert capsys.readouterr().out.endswith("0 failed\n")
