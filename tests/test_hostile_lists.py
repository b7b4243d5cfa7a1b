"""Hostile input to the listings (``regions``, ``hardware``, ``models``; ``GET /regions``, ``/hardware``, ``/models``).

Found by the hardening sweep: a search matching nothing crashed the text output
with a traceback; an empty, blank or punctuation-only filter (``''``, ``'.*'``,
``'%'``) and an empty ``--provider`` silently listed every row; an unknown model
provider silently listed none; the CLI's search had no length cap (the API's: 200).
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

import api
import interface

client = TestClient(api.app, raise_server_exceptions=False)


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = interface.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str, field: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"interface.py: error: {field}:"), err
    return err


@pytest.mark.parametrize("command", ["regions", "hardware", "models"])
def test_a_search_matching_nothing_prints_an_empty_table(capsys, command) -> None:
    code, out, err = cli(capsys, command, "zzzqqq")
    assert (code, err) == (0, "")
    assert "(none)" in out


@pytest.mark.parametrize("command", ["regions", "hardware", "models"])
@pytest.mark.parametrize("search", ["", "  ", ".*", "%", "()", "\u200b"])
def test_a_search_without_letters_or_digits_is_refused_not_everything(capsys, command, search) -> None:
    code, _, err = cli(capsys, command, search)
    assert code == 2
    assert "holds no letter or digit" in one_line_error(err, "search")


def test_a_search_longer_than_names_is_refused(capsys) -> None:
    code, _, err = cli(capsys, "regions", "x" * 1_000_000)
    assert code == 2
    assert "at most 200 characters" in one_line_error(err, "search")


def test_model_provider_empty_or_unknown_is_refused(capsys) -> None:
    code, _, err = cli(capsys, "models", "--provider", "")
    assert code == 2
    one_line_error(err, "provider")
    code, _, err = cli(capsys, "models", "--provider", "nobody", "--json")
    assert code == 2
    assert "unknown model provider 'nobody'; allowed: " in one_line_error(err, "provider") and "anthropic" in err


def test_model_provider_prefixes_still_work(capsys) -> None:
    code, out, _ = cli(capsys, "models", "--provider", "Meta-Llama", "--json")
    assert code == 0 and "llama-3.1-405b" in out


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/regions?search=", "search"),
        ("/regions?search=%20", "search"),
        ("/regions?search=.*", "search"),
        ("/regions?search=%00", "search"),
        ("/hardware?search=%25", "search"),
        ("/models?search=()", "search"),
        ("/models?provider=", "provider"),
        ("/models?provider=nobody", "provider"),
    ],
)
def test_api_filters_that_would_keep_every_row_or_none_are_422(path, field) -> None:
    response = client.get(path)
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith(f"{field}:")


def test_api_search_matching_nothing_is_an_empty_list() -> None:
    response = client.get("/regions?search=zzzqqq")
    assert response.status_code == 200
    assert response.json()["count"] == 0
