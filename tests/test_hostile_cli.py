"""Hostile command lines (besides ``batch`` and ``report``), found by the hardening sweep.

* an option that takes one value, given twice (``--in_tok 2000 --in_tok 3000``, or
  under two of its spellings), silently kept the last; it is now a usage error
  naming the option (exit 2), as the API refuses a query parameter given twice.
"""

from __future__ import annotations

import json

import pytest

import interface
from traitement.paths import DATA_DIR

SAMPLE = str(DATA_DIR / "sample-daily-analytics.yaml")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = interface.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["--in_tok", "2000", "--in_tok", "3000"], "--in_tok/--in-tok/--input-tokens"),
        (["--in_tok", "2000", "--input-tokens", "2000"], "--in_tok/--in-tok/--input-tokens"),
        (["--in-tok=5", "--in_tok=6", "--json"], "--in_tok/--in-tok/--input-tokens"),
        (["estimate", "--region", "usa", "--region", "france"], "--region"),
        (["--model", "gpt-4o", "--model", "llama-3.1-8b"], "--model"),
        (["regions", "--provider", "aws", "--provider", "gcp"], "--provider"),
        (["analytics", SAMPLE, "--topic-chars", "2000", "--topic-chars", "3000"], "--topic-chars"),
    ],
)
def test_an_option_given_twice_is_a_usage_error(capsys, argv, option) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"error: argument {option}: given more than once; allowed: one value" in err


def test_flags_and_list_options_may_repeat(capsys) -> None:
    code, out, _ = run(capsys, "--in_tok", "2000", "--json", "--json")
    assert code == 0 and json.loads(out)["input_tokens"] == 2000
    code, out, _ = run(capsys, "validate", "--method", "parameter", "--method", "ecologits", "--json")
    assert code == 0 and list(json.loads(out)["methods"]) == ["parameter", "ecologits"]


def test_version_with_other_arguments_is_a_usage_error(capsys) -> None:
    code, out, err = run(capsys, "--version", "--in_tok", "5")
    assert code == 2 and out == ""
    assert err == "interface.py: error: --version takes no other argument (got '--in_tok 5'); allowed: interface.py --version alone\n"
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("interface.py ")


# --- compare --from-json: flags that contradict the saved run ---------------------------------------------------------

RUN = {
    "method": "measured",
    "region": "FRA",
    "input_tokens": 100,
    "output_tokens": 400,
    "energy_kwh": 0.003287795900070758,
    "carbon_gco2eq": 0.003287795900070758 * 56.039,
    "intensity_gco2eq_per_kwh": 56.039,
    "sensors": {"cpu": "CPU-load model"},
}


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--out_tok", "5"], "--out_tok: 5 is not the saved run's output_tokens (400); allowed: leave it out"),
        (["--in_tok", "99"], "--in_tok: 99 is not the saved run's input_tokens (100); allowed: leave it out"),
        (["--region", "USA"], "--region: 'USA' (USA) is not the saved run's region (FRA); allowed: leave it out, or the same region"),
    ],
)
def test_compare_refuses_a_flag_that_contradicts_the_saved_run(tmp_path, capsys, flags, expected) -> None:
    """The API model was estimated for the flag's tokens while the local energy was the run's: a silent mismatch."""
    path = tmp_path / "run.json"
    path.write_text(json.dumps(RUN))
    code, out, err = run(capsys, "compare", "--from-json", str(path), "--model", "gpt-4o", *flags)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"interface.py: error: {expected}")


@pytest.mark.parametrize("flags", [[], ["--out_tok", "400"], ["--out_tok", "4e2"], ["--region", "france"], ["--region", "FR"]])
def test_compare_takes_flags_that_agree_with_the_saved_run(tmp_path, capsys, flags) -> None:
    path = tmp_path / "run.json"
    path.write_text(json.dumps(RUN))
    code, out, _ = run(capsys, "compare", "--from-json", str(path), "--model", "gpt-4o", "--json", *flags)
    assert code == 0
    assert (json.loads(out)["input_tokens"], json.loads(out)["output_tokens"]) == (100, 400)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["analytics", "a\x00b"], "'a\\x00b': a file name cannot hold a NUL character; allowed: a path"),
        (["validate", "a\x00b"], "'a\\x00b': a file name cannot hold a NUL character; allowed: a path"),
        (["compare", "--model", "gpt-4o", "--from-json", "a\x00b"], "--from-json: 'a\\x00b': a file name cannot hold a NUL character"),
        (["analytics", SAMPLE, "--csv", "a\x00b.csv"], "--csv: 'a\\x00b.csv' cannot hold a NUL character; allowed: a file name to write"),
        (["analytics", SAMPLE, "--plot", "a\x00b.png"], "--plot: 'a\\x00b.png' cannot hold a NUL character; allowed: a file name to write"),
    ],
)
def test_a_file_name_with_a_nul_character_is_one_line(capsys, argv, expected) -> None:
    """A command line cannot hold NUL, but main(argv) can: open() raised ValueError, a traceback."""
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"interface.py: error: {expected}")
