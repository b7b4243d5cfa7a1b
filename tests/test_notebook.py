"""demo.ipynb: it runs from top to bottom, alternates prose and code, and uses only the core's public functions."""

from __future__ import annotations

import re

import nbformat
import pytest
from nbclient import NotebookClient

import traitement
from traitement.config import PROJECT_DIR

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
