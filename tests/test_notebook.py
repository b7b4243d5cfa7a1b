"""demo.ipynb: it runs from top to bottom, alternates prose and code, uses only the core's public functions, and opens in JupyterLab."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import traitement

PROJECT_DIR = Path(__file__).resolve().parent.parent
NOTEBOOK = PROJECT_DIR / "demo.ipynb"
CELL_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def notebook():
    return nbformat.read(NOTEBOOK, as_version=4)


def test_cells_alternate_markdown_and_code(notebook):
    kinds = [cell.cell_type for cell in notebook.cells]
    assert kinds[0] == "markdown"
    assert all(a != b for a, b in zip(kinds, kinds[1:], strict=False)), kinds


def test_uses_only_public_functions(notebook):
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert "from traitement" not in code and "import traitement." not in code
    used = set(re.findall(r"\btraitement\.(\w+)", code))
    assert used and used <= set(traitement.__all__), used - set(traitement.__all__)


def test_committed_with_outputs(notebook):
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.outputs for cell in code_cells)
    assert not any(output.output_type == "error" for cell in code_cells for output in cell.outputs)


def test_notebook_executes_without_error(notebook):
    fresh = nbformat.from_dict(notebook)
    for cell in fresh.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    client = NotebookClient(fresh, timeout=CELL_TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": str(PROJECT_DIR)}})
    client.execute()  # raises CellExecutionError naming the cell on any error
    images = [output for cell in fresh.cells if cell.cell_type == "code" for output in cell.outputs if "image/png" in output.get("data", {})]
    assert len(images) >= 5


def test_jupyter_lab_opens_the_notebook(tmp_path):
    """What the README promises after its install: ``jupyter lab demo.ipynb`` starts (headless, on loopback) and serves the notebook."""
    pytest.importorskip("jupyterlab", reason="JupyterLab is part of requirements.txt")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = "test-token"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "HOME": str(tmp_path)}
    command = [sys.executable, "-m", "jupyter", "lab", "demo.ipynb", "--no-browser", "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # Jupyter refuses root without it (as CI runs)
    server = subprocess.Popen(command, cwd=PROJECT_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
                assert time.monotonic() < deadline, "jupyter lab did not start"
                time.sleep(0.3)
        with urllib.request.urlopen(f"{base}/api/contents/demo.ipynb?token={token}", timeout=30) as response:
            model = json.load(response)
        assert model["type"] == "notebook" and len(model["content"]["cells"]) == len(nbformat.read(NOTEBOOK, as_version=4).cells)
        with urllib.request.urlopen(f"{base}/lab/tree/demo.ipynb?token={token}", timeout=30) as response:
            assert response.status == 200 and b"JupyterLab" in response.read()
    finally:
        server.terminate()
        server.wait(timeout=30)
