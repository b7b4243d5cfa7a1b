"""How the command line behaves for a person: readable numbers, a quiet closed pipe, aliases, hints, examples in --help."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import interface
from genai_carbon.cli import formatting
from genai_carbon.cli.main import COMMANDS, build_parser

ROOT = Path(__file__).resolve().parent.parent
SCIENTIFIC = re.compile(r"\d[eE][+-]?\d")


# --- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [
        (150_000_000, 3, "150,000,000"),
        (1.5e8, 3, "150,000,000"),
        (2250.3, 3, "2,250"),
        (1.249e-05, 3, "0.0000125"),
        (0.31384, 3, "0.314"),
        (0.2300, 4, "0.23"),
        (12.5, 3, "12.5"),
        (999.96, 3, "1,000"),
        (-0.5, 3, "-0.5"),
        (0.0, 3, "0"),
        (7, 3, "7"),
    ],
)
def test_number(value, digits, text):
    assert formatting.number(value, digits) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(8.91e-05, "0.0000891"), (1500000.0, "1,500,000"), (44.2, "44.2"), (1.57, "1.57"), (700, "700"), (1e22, "10,000,000,000,000,000,000,000"), (3.0, "3")],
)
def test_exact(value, text):
    assert formatting.exact(value) == text


@pytest.mark.parametrize(
    ("value", "units", "text"),
    [
        (0.00031384, formatting.ENERGY_UNITS_KWH, "0.314 Wh"),
        (1.249e-08, formatting.ENERGY_UNITS_KWH, "0.0000125 Wh"),
        (12.5, formatting.ENERGY_UNITS_KWH, "12.5 kWh"),
        (4955.7, formatting.ENERGY_UNITS_KWH, "4.96 MWh"),
        (0.12, formatting.CARBON_UNITS_G, "0.12 gCO2e"),
        (1500.0, formatting.CARBON_UNITS_G, "1.5 kgCO2e"),
        (1.14e6, formatting.CARBON_UNITS_G, "1.14 tCO2e"),
        (0.00134, formatting.WATER_UNITS_L, "1.34 mL"),
        (2.5, formatting.WATER_UNITS_L, "2.5 L"),
        (3200.0, formatting.WATER_UNITS_L, "3.2 m3"),
    ],
)
def test_scaled_units(value, units, text):
    assert formatting.scaled(value, units) == text


TEXT_COMMANDS = [
    "--in_tok 2000 --out_tok 500 --region usa",
    "--in_tok 300 --out_tok 50 --method seed-quadratic --count 100000000",
    "--profile chatbot --count 100000000 --region germany",
    "--model mistral-large-2 --out_tok 400 --count 10000000",
    "--active-params-b 70 --hardware h100 --batch-size 64 --out_tok 350 --in_tok 500",
    "regions",
    "hardware",
    "profiles",
    "models",
    "methods",
    "validate",
    "analytics",
    "batch data/sample_requests.csv --group-by region --quiet",
]


@pytest.mark.parametrize("line", TEXT_COMMANDS)
def test_text_output_has_no_scientific_notation(line, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert interface.main(shlex.split(line)) == 0
    out = capsys.readouterr().out
    assert out.strip()
    assert not SCIENTIFIC.search(out), SCIENTIFIC.search(out)


def test_json_keeps_the_numbers_unrounded(capsys):
    assert interface.main(["--in_tok", "2000", "--out_tok", "500", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["energy_kwh"] == pytest.approx(1785 * 12.9 / 32 / 3.6e6 * 1.57, rel=1e-12)


def test_large_counts_are_grouped(capsys):
    assert interface.main(["--profile", "chatbot", "--count", "100000000", "--region", "germany"]) == 0
    out = capsys.readouterr().out
    assert "x100,000,000" in out and "for 100,000,000 requests" in out


# --- options ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("alias", "canonical"), [("--in-tok", "--in_tok"), ("--out-tok", "--out_tok")])
def test_dash_aliases_are_accepted(alias, canonical, capsys):
    assert interface.main([alias, "1234", "--json"]) == 0
    with_alias = json.loads(capsys.readouterr().out)
    assert interface.main([canonical, "1234", "--json"]) == 0
    assert with_alias == json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["--in-toks", "2000"], "did you mean --in_tok?"),
        (["--out_toks", "2000"], "did you mean --out_tok?"),
        (["--regoin", "usa"], "did you mean --region?"),
        (["regions", "--jsn"], "did you mean --json?"),
        (["validate", "--metod", "parameter"], "did you mean --method?"),
        (["measure", "--regin", "FRA", "--", "true"], "did you mean --region?"),
    ],
)
def test_unknown_option_suggests_the_closest(argv, hint, capsys):
    assert interface.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("interface.py: error: unrecognized arguments: ") and hint in captured.err


def test_an_unknown_option_far_from_all_gets_no_guess(capsys):
    assert interface.main(["--zzzzzzzz"]) == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments: --zzzzzzzz" in err and "did you mean" not in err


@pytest.mark.parametrize("region", ["usa", "USA", "us", "FRA", "france", "FR"])
def test_region_names_and_codes_reach_the_config(region, capsys):
    """The CLI passes --region through as typed: the data pack resolves names, ISO alpha-3 and alpha-2 codes to its ids."""
    assert interface.main(["--region", region, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["region"] in ("USA", "FRA")


# --- help -----------------------------------------------------------------------------------


def _examples(help_text: str) -> list[str]:
    block = help_text.split("examples:\n", 1)[1]
    return [line.strip() for line in block.splitlines() if line.startswith("  python interface.py ")]


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_shows_examples_that_run(command, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert interface.main([command, "--help"] if command else ["--help"]) == 0
    examples = _examples(capsys.readouterr().out)
    assert examples, f"{command or 'main'} --help shows no example"
    for example in examples:
        argv = shlex.split(example)[2:]
        if argv[-1] == "--help" or argv[0] in ("measure", "compare"):
            continue  # measure and compare run a command: test_measure.py runs them
        assert interface.main(argv) == 0, example
        capsys.readouterr()


def test_help_examples_use_the_programs_name(capsys):
    assert interface.main(["--help"], prog="genai-carbon") == 0
    out = capsys.readouterr().out
    assert "  genai-carbon --in_tok 2000 --out_tok 500 --region usa" in out and "python interface.py" not in out


def test_every_command_has_examples():
    for name, command in COMMANDS.items():
        assert command.examples, name
    parser, parsers = build_parser()
    assert set(parsers) == set(COMMANDS)


# --- a closed pipe --------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["regions"], ["analytics", "--json"], ["--help"]])
def test_a_closed_pipe_ends_quietly(argv):
    """The reader stops after a few bytes (``| head -c 10``): no BrokenPipeError traceback, exit code 0."""
    process = subprocess.Popen([sys.executable, str(ROOT / "interface.py"), *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.read(10)
    process.stdout.close()
    code = process.wait(timeout=120)
    err = process.stderr.read().decode()
    assert code == 0 and err == "", err


def test_head_after_the_first_line_is_quiet():
    result = subprocess.run(
        f"{shlex.quote(sys.executable)} interface.py regions | head -1; exit ${{PIPESTATUS[0]}}",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("Regions")
