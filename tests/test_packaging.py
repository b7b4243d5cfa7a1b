"""The package: what it declares, where it finds its files, its versions, and a wheel installed and run from another folder.

The wheel test builds from the files a clean clone has (tracked and not ignored),
installs it with ``pip install --no-deps --target`` (the dependencies are this
environment's), then runs the console command, ``import traitement``,
``python -m traitement`` and the API under uvicorn from a folder outside the
repository, so that nothing is found through the clone. ``.ci/run`` also runs
``pip install .`` and the console command from another folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

import interface
import traitement
from traitement import paths, version

ROOT = Path(__file__).resolve().parent.parent
tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]
REAL_ANALYTICS = "2025-FluidTopics-daily-analytics.yaml"
DEV_ONLY = ("pytest", "hypothesis", "schemathesis", "playwright", "ruff", "mypy", "types-pyyaml", "ecologits", "nbclient", "httpx")


def _requirements(path: Path) -> list[str]:
    """The requirement lines of a pip requirements file, without comments."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


# --- what the package declares ------------------------------------------------------------


def test_requirements_txt_is_the_packages_dependencies():
    """requirements.txt (what a clone installs) and [project.dependencies] (what pip install . installs) are the same list."""
    assert _requirements(ROOT / "requirements.txt") == PYPROJECT["project"]["dependencies"]


def test_runtime_needs_no_test_tool_and_dev_adds_them():
    runtime = {_name(line) for line in _requirements(ROOT / "requirements.txt")}
    assert not runtime & set(DEV_ONLY)
    assert {"fastapi", "uvicorn", "duckdb", "dask", "codecarbon", "jupyterlab", "ipykernel", "pandas"} <= runtime
    dev = _requirements(ROOT / "requirements-dev.txt")
    assert dev[0] == "-r requirements.txt"
    assert set(DEV_ONLY) <= {_name(line) for line in dev[1:]}


def test_every_code_package_is_listed():
    """A subpackage missing from [tool.setuptools] packages would be left out of the wheel."""
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("traitement", "genai_carbon")
        for init in (ROOT / top).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    listed = set(SETUPTOOLS["packages"])
    assert found <= listed, sorted(found - listed)
    assert listed - found == set(SETUPTOOLS["package-dir"])  # the rest are the mapped data folders


def test_config_and_data_are_mapped_from_the_top_of_the_repository():
    assert SETUPTOOLS["package-dir"] == {"traitement._shipped.config": "config", "traitement._shipped.data": "data"}
    assert PYPROJECT["project"]["scripts"] == {"genai-carbon": "genai_carbon.cli.main:run"}
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "traitement.version.__version__"}


def test_paths_in_a_clone_are_the_top_folders():
    assert not paths.INSTALLED
    assert paths.CONFIG_DIR == ROOT / "config" and paths.DATA_DIR == ROOT / "data"
    assert (paths.DATA_DIR / "validation" / "published_cases.yaml").is_file()


def test_no_code_finds_files_through_the_working_directory_or_shared():
    """Every shipped file is found through traitement.paths: no '../shared' and no path relative to the working directory."""
    for package in ("traitement", "genai_carbon"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert "../shared" not in text and "os.getcwd" not in text and "Path.cwd" not in text, path
            assert 'Path("data' not in text and 'Path("config' not in text, path


# --- versions -----------------------------------------------------------------------------


def test_version_line_without_a_pack(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(version, "PACK_MANIFEST", tmp_path / "absent" / "manifest.json")
    assert interface.main(["--version"]) == 0
    assert capsys.readouterr().out == f"interface.py {version.__version__} (no data pack)\n"


def test_version_line_with_a_pack(monkeypatch, tmp_path, capsys):
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"version": "2026.12", "tables": {}}))
    monkeypatch.setattr(version, "PACK_MANIFEST", manifest)
    assert version.data_pack_version() == "2026.12"
    assert interface.main(["--version"], prog="genai-carbon") == 0
    assert capsys.readouterr().out == f"genai-carbon {version.__version__} (data pack 2026.12)\n"


def test_a_broken_manifest_is_said_not_hidden(monkeypatch, tmp_path):
    manifest = tmp_path / "manifest.json"
    manifest.write_text("{not json")
    monkeypatch.setattr(version, "PACK_MANIFEST", manifest)
    assert version.data_pack_version().startswith(f"unreadable ({manifest}: ")


def test_version_reads_the_shipped_manifest_when_a_pack_ships():
    manifest = ROOT / "data" / "pack" / "manifest.json"
    expected = json.loads(manifest.read_text())["version"] if manifest.is_file() else None
    assert version.data_pack_version() == expected


def test_python_m_traitement_prints_the_versions(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "traitement"], capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True
    )
    assert result.stdout == version.version_text("traitement") + "\n"
    assert result.stdout.startswith(f"traitement {version.__version__} (")


def test_api_version_is_the_packages():
    from fastapi.testclient import TestClient

    import api

    assert TestClient(api.app).get("/openapi.json").json()["info"]["version"] == traitement.version.__version__


# --- a wheel, installed and run from another folder ------------------------------------------


def _clean_clone_files(destination: Path) -> None:
    """Copy what a clean clone of this working tree holds: tracked files and untracked ones git does not ignore."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, (raw.decode() for raw in listed)):
        source = ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The wheel built from a clean copy (with a real analytics export dropped in data/, which must not ship), installed with --target."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git clone: the files of a clean clone cannot be listed")
    base = tmp_path_factory.mktemp("wheel")
    source, dist, target, outside = base / "source", base / "dist", base / "site", base / "elsewhere"
    for folder in (source, dist, outside):
        folder.mkdir()
    _clean_clone_files(source)
    (source / "data" / REAL_ANALYTICS).write_text("genai: {}\n")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    built = subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(source)], capture_output=True, text=True)
    if built.returncode != 0 and "No module named" in built.stderr + built.stdout:
        pytest.skip(f"no build backend in this environment (pip install -r requirements-dev.txt): {built.stderr.strip().splitlines()[-1]}")
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = dist.glob("*.whl")
    subprocess.run([*pip, "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)], check=True)
    env = {**os.environ, "PYTHONPATH": str(target), "PATH": f"{target / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    env = {name: value for name, value in env.items() if not name.startswith("GENAI_CARBON_")}
    return {"wheel": wheel, "target": target, "cwd": outside, "env": env}


def _run(installed, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), capture_output=True, text=True, cwd=installed["cwd"], env=installed["env"], timeout=120)


def test_wheel_holds_the_code_the_config_the_data_and_the_page(installed):
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    for needed in (
        "traitement/__init__.py",
        "traitement/methods/hardware.py",
        "traitement/_shipped/config/config.yaml",
        "traitement/_shipped/config/models.yaml",
        "traitement/_shipped/data/sample-daily-analytics.yaml",
        "traitement/_shipped/data/sample_requests.csv",
        "traitement/_shipped/data/validation/published_cases.yaml",
        "genai_carbon/cli/main.py",
        "genai_carbon/webapi/static/index.html",
        "genai_carbon/webapi/apidocs/swagger-ui-bundle.js",
        "genai_carbon/webapi/apidocs/redoc.standalone.js",
    ):
        assert needed in names, needed
    assert not any(REAL_ANALYTICS in name for name in names), "a real analytics export must never be packaged"
    assert not any(name.startswith(("tests/", "benchmarks/", "scripts/")) or name in ("interface.py", "api.py") for name in names)


def test_installed_command_runs_from_another_folder(installed, capsys):
    result = _run(installed, "genai-carbon", "--in_tok", "2000", "--out_tok", "500", "--region", "usa", "--json")
    assert result.returncode == 0, result.stderr
    assert interface.main(["--in_tok", "2000", "--out_tok", "500", "--region", "usa", "--json"]) == 0
    assert json.loads(result.stdout) == json.loads(capsys.readouterr().out)
    text = _run(installed, "genai-carbon", "--in_tok", "2000", "--out_tok", "500", "--region", "usa")
    assert text.returncode == 0 and "energy" in text.stdout and "0.314 Wh per request" in text.stdout


@pytest.mark.parametrize(
    "argv",
    [["genai-carbon", "validate"], ["genai-carbon", "analytics"], ["genai-carbon", "regions"], ["genai-carbon", "models"], ["genai-carbon", "--help"]],
)
def test_installed_commands_need_nothing_but_the_package(installed, argv):
    result = _run(installed, *argv)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() and result.stderr == ""


def test_installed_errors_name_the_command(installed):
    result = _run(installed, "genai-carbon", "--in-toks", "5")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == "genai-carbon: error: unrecognized arguments: --in-toks 5; did you mean --in_tok? (see 'genai-carbon estimate --help')\n"


def test_installed_import_and_versions(installed):
    code = "import traitement, traitement.paths as p; print(traitement.__file__); print(p.INSTALLED, p.CONFIG_DIR.is_dir(), p.DATA_DIR.is_dir())"
    result = _run(installed, sys.executable, "-c", code)
    assert result.returncode == 0, result.stderr
    module_file, flags = result.stdout.splitlines()
    assert Path(module_file).is_relative_to(installed["target"])
    assert flags == "True True True"
    assert _run(installed, sys.executable, "-m", "traitement").stdout.startswith(f"traitement {version.__version__} (")
    assert _run(installed, "genai-carbon", "--version").stdout.startswith(f"genai-carbon {version.__version__} (")


def test_installed_api_serves_under_uvicorn(installed):
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "genai_carbon.webapi.asgi:app", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=installed["cwd"],
        env=installed["env"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/health", timeout=2) as response:
                    assert json.load(response) == {"status": "ok"}
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode() if server.stdout else ""
                assert time.monotonic() < deadline, "uvicorn did not start"
                time.sleep(0.2)
        for path in ("/", "/docs", "/redoc", "/apidocs/swagger-ui-bundle.js", "/static/app.js", "/regions"):
            with urllib.request.urlopen(base + path, timeout=10) as response:
                assert response.status == 200, path
    finally:
        server.terminate()
        server.wait(timeout=20)
