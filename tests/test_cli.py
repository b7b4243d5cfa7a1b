"""The CLI in process, through ``interface.main(argv)``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import interface

ROOT = Path(__file__).resolve().parent.parent


def run_json(capsys, *argv: str) -> dict:
    assert interface.main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_seed_example_text(capsys):
    assert interface.main(["--in_tok", "2000", "--out_tok", "500", "--region", "usa"]) == 0
    out = capsys.readouterr().out
    for word in ("prefill", "decode", "energy", "carbon", "water", "h100", "United States (USA)", "PUE", "pack 2026.12"):
        assert word in out


def test_seed_example_json_keys_and_numbers(capsys):
    result = run_json(capsys, "--in_tok", "2000", "--out_tok", "500", "--region", "usa")
    for key in ("method", "region", "count", "prefill_s", "decode_s", "duration_s", "energy_it_kwh", "energy_kwh", "carbon_gco2eq", "water_l", "per_request"):
        assert key in result
    assert result["method"] == "hardware" and result["region"] == "USA" and result["count"] == 1
    # h100 preset: prefill 2000/5000, decode 500/40; P = 4*700*0.6 + 350*0.3 = 1785 W; batch 32; PUE 1.57
    assert result["prefill_s"] == pytest.approx(0.4, rel=1e-9)
    assert result["decode_s"] == pytest.approx(12.5, rel=1e-9)
    assert result["energy_kwh"] == pytest.approx(1785 * 12.9 / 32 / 3.6e6 * 1.57, rel=1e-9)
    assert result["carbon_gco2eq"] == pytest.approx(1785 * 12.9 / 32 / 3.6e6 * 1.57 * 383.6, rel=1e-9)
    assert result["per_request"]["energy_kwh"] == pytest.approx(result["energy_kwh"], rel=1e-12)
    assert result["energy_kwh_min"] < result["energy_kwh"] < result["energy_kwh_max"]


def test_count_multiplies_totals_not_per_request(capsys):
    one = run_json(capsys, "--in_tok", "2000", "--out_tok", "500")
    many = run_json(capsys, "--in_tok", "2000", "--out_tok", "500", "--count", "1000")
    assert many["energy_kwh"] == pytest.approx(1000 * one["energy_kwh"], rel=1e-12)
    assert many["per_request"]["carbon_gco2eq"] == pytest.approx(one["carbon_gco2eq"], rel=1e-12)
    assert many["duration_s"] == one["duration_s"]


def test_profile_hardware_and_datacenter_options(capsys):
    h100 = run_json(capsys, "--profile", "translation", "--hardware", "h100", "--region", "FRA")
    a100 = run_json(capsys, "--profile", "translation", "--hardware", "a100", "--region", "FRA", "--datacenter", "google")
    assert h100["input_tokens"] == 625 and h100["output_tokens"] == 714
    assert a100["assumptions"]["hardware"] == "a100" and a100["assumptions"]["pue"] == 1.09
    assert h100["region"] == "FRA"


def test_seed_quadratic_is_labelled_legacy(capsys):
    result = run_json(capsys, "--in_tok", "300", "--out_tok", "50", "--method", "seed-quadratic")
    assert result["method"] == "seed-quadratic"
    assert result["duration_s"] == pytest.approx((300**2 + 50) / 40, rel=1e-9)
    assert "legacy" in result["warnings"][0]


@pytest.mark.parametrize("command", ["regions", "hardware", "profiles"])
def test_listing_commands(capsys, command):
    assert interface.main([command]) == 0
    assert capsys.readouterr().out.strip()
    data = run_json(capsys, command)
    assert data


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--in_tok", "-5", "--out_tok", "10"], "--in_tok (input_tokens)"),
        (["--in_tok", "0", "--out_tok", "10"], "--in_tok (input_tokens)"),
        (["--in_tok", "1.5", "--out_tok", "10"], "--in_tok (input_tokens)"),
        (["--in_tok", "nan", "--out_tok", "10"], "--in_tok (input_tokens)"),
        (["--in_tok", "100000000000", "--out_tok", "10"], "--in_tok (input_tokens)"),
        (["--out_tok", "abc"], "--out_tok (output_tokens)"),
        (["--count", "-1"], "--count (count)"),
        (["--region", "mars"], "unknown region 'mars'"),
        (["--hardware", "tpu"], "unknown hardware 'tpu'"),
        (["--profile", "poem"], "unknown profile 'poem'"),
        (["--datacenter", "garage"], "unknown datacenter 'garage'"),
        (["--method", "magic"], "--method (method)"),
        (["--pue", "0.9"], "--pue (pue)"),
        (["--nonsense"], "unrecognized arguments"),
        (["--in_tok"], "expected one argument"),
    ],
)
def test_bad_input_one_line_exit_2(capsys, argv, expected):
    assert interface.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert expected in lines[0]
    assert "Traceback" not in captured.err


def test_unknown_region_names_the_option_and_the_closest(capsys):
    assert interface.main(["--region", "spian"]) == 2
    err = capsys.readouterr().err
    assert err == "interface.py: error: --region (region): unknown region 'spian'; closest: Spain (ESP), Panama (PAN), Sichuan (CN-SC)\n"


def test_help_exits_zero(capsys):
    assert interface.main(["--help"]) == 0
    assert "estimate" in capsys.readouterr().out


def test_broken_config_is_a_one_line_failure(tmp_path, monkeypatch):
    (tmp_path / "config.yaml").write_text("regions: [")
    (tmp_path / "config_model.yaml").write_text("{}")
    result = subprocess.run(
        [sys.executable, str(ROOT / "interface.py"), "--in_tok", "10", "--out_tok", "10"],
        capture_output=True,
        text=True,
        env={"GENAI_CARBON_CONFIG_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "invalid YAML" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("value", ["abc", "1e6", "-1"])
def test_a_bad_setting_is_a_one_line_failure(value):
    """Issue 15, item 22: a bad GENAI_CARBON_* variable stops every command with one line naming it (exit 1)."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "interface.py"), "--in_tok", "10", "--out_tok", "10"],
        capture_output=True,
        text=True,
        env={"GENAI_CARBON_BATCH_MAX_BYTES": value, "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 1 and result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("interface.py: error: GENAI_CARBON_BATCH_MAX_BYTES: must be ")
    assert "allowed: largest request log uploaded to POST /batch in bytes" in result.stderr


def test_an_unknown_setting_is_named(monkeypatch, capsys):
    monkeypatch.setenv("GENAI_CARBON_MAX_BODY_BYTE", "10")
    assert interface.main(["regions"]) == 1
    assert "GENAI_CARBON_MAX_BODY_BYTE: no such setting; allowed: GENAI_CARBON_BATCH_MAX_BYTES" in capsys.readouterr().err


def test_one_off_estimate_imports_no_heavy_library():
    heavy = "('numpy', 'pandas', 'fastapi', 'starlette', 'seaborn', 'matplotlib', 'codecarbon', 'duckdb', 'traitement.logs', 'traitement.analytics')"
    code = f"import sys, interface; interface.main(['--in_tok', '10', '--out_tok', '10']); print(sorted(m for m in {heavy} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"
