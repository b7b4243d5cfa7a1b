"""The README's commands run, and every command and route is documented.

Each line of a ```bash block is run: ``python interface.py ...`` through
``interface.main``, ``curl`` against the app in process. Lines that start a
server, install packages or run this suite are checked for their wording only.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import api
import interface
import traitement
from genai_carbon.cli.main import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BASH_LINES = [line.strip() for block in re.findall(r"```bash\n(.*?)```", README, re.S) for line in block.splitlines() if line.strip()]
CLI_LINES = [line for line in BASH_LINES if line.startswith("python interface.py")]
COMMAND_LINES = [line for line in BASH_LINES if line.startswith("genai-carbon ")]
DOC_CLI_LINES = [
    pytest.param(line, id=f"{path.name}: {line[20:70]}")
    for path in sorted((ROOT / "docs").glob("*.md"))
    for block in re.findall(r"```bash\n(.*?)```", path.read_text(encoding="utf-8"), re.S)
    for line in (raw.strip() for raw in block.splitlines())
    if line.startswith("python interface.py")
]
CURL_LINES = [line for line in BASH_LINES if line.startswith("curl ")]


def test_readme_has_the_two_commands():
    """The first installs the runtime and runs the example; the second installs the test tools and runs the suite, as CI does."""
    setup, tests = BASH_LINES[0], BASH_LINES[1]
    assert "pip install -r requirements.txt" in setup and "requirements-dev" not in setup
    assert setup.endswith("python interface.py --in_tok 2000 --out_tok 500 --region usa")
    assert tests == "pip install -r requirements-dev.txt && python test.py"
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install --quiet -r requirements-dev.txt" in ci and "\npython test.py" in ci
    assert "pip install --quiet .\n" in ci and "genai-carbon --in_tok 2000 --out_tok 500 --region usa" in ci


@pytest.mark.parametrize("line", CLI_LINES)
def test_readme_cli_command_runs(line, capsys):
    argv = shlex.split(line)[2:]
    code = interface.main(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.strip()


@pytest.mark.parametrize("line", COMMAND_LINES)
def test_readme_console_command_runs(line, capsys):
    """The installed command takes the same arguments: run in process under its own name."""
    code = interface.main(shlex.split(line)[1:], prog="genai-carbon")
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.strip()


@pytest.mark.parametrize("line", DOC_CLI_LINES)
def test_docs_cli_command_runs(line, capsys):
    """The method pages under docs/ show commands too: each runs from the repo root."""
    code = interface.main(shlex.split(line)[2:])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.strip()


def _curl(line: str):
    words = shlex.split(line)
    method, data, url, files = "GET", None, None, {}
    index = 1
    while index < len(words):
        word = words[index]
        if word == "-X":
            method, index = words[index + 1], index + 2
        elif word == "-H":
            index += 2
        elif word in ("-d", "--data"):
            data, index = words[index + 1], index + 2
        elif word == "-F":
            name, value = words[index + 1].split("=", 1)
            assert value.startswith("@"), "only file uploads (-F name=@path) are supported here"
            files[name] = (Path(value[1:]).name, (ROOT / value[1:]).read_bytes())
            method, index = "POST" if method == "GET" else method, index + 2
        else:
            url, index = word, index + 1
    path = re.sub(r"^https?://[^/]+", "", url)
    return method, path, data, files


@pytest.mark.parametrize("line", CURL_LINES)
def test_readme_curl_example_runs(line):
    method, path, data, files = _curl(line)
    client = TestClient(api.app)
    if files:
        response = client.request(method, path, files=files)
    else:
        response = client.request(method, path, json=json.loads(data) if data else None)
    assert response.status_code == 200, response.text


def test_every_cli_command_is_documented():
    for name in COMMANDS:
        if name != "estimate":
            assert f"python interface.py {name}" in README, name


def test_every_method_is_documented():
    for name in traitement.methods.REGISTRY:
        assert f"`{name}`" in README, name


def test_every_route_is_documented():
    paths = TestClient(api.app).get("/openapi.json").json()["paths"]
    assert len(paths) >= 10
    for path, operations in paths.items():
        for method in operations:
            assert f"`{method.upper()} {path}`" in README, f"{method.upper()} {path}"
