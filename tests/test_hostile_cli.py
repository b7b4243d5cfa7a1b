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
