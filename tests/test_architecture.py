"""The import rules of docs/architecture.md, checked on the source: imports go one way, with no cycle.

* ``traitement`` (the core) imports neither argparse, fastapi, starlette, uvicorn nor ``genai_carbon``;
* ``genai_carbon.cli`` imports no web framework and ``genai_carbon.webapi`` no argparse; neither imports the other;
* no import cycle among the project's modules, counting the imports inside functions too;
* ``interface.py`` and ``api.py`` are thin entry points into ``genai_carbon``.

Imports under ``if TYPE_CHECKING:`` are for the type checker only and are not counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("traitement", "genai_carbon")
ENTRY_POINTS = ("interface.py", "api.py")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}
MODULES.update({name.removesuffix(".py"): ROOT / name for name in ENTRY_POINTS})


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(name: str) -> set[str]:
    """Every module ``name`` imports (absolute names), at module level or inside functions, but not under TYPE_CHECKING."""
    path = MODULES[name]
    is_package = path.name == "__init__.py"
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[: len(base) - (child.level - 1)]
                    module = ".".join([*base, child.module] if child.module else base)
                else:
                    module = child.module or ""
                found.add(module)
                found.update(f"{module}.{alias.name}" for alias in child.names if f"{module}.{alias.name}" in MODULES)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    ancestors = {".".join(name.split(".")[:index]) for index in range(1, name.count(".") + 1)}
    return found - ancestors  # a module's packages are always imported before it: not an edge


IMPORTS = {name: _imports(name) for name in MODULES}


def _top(module: str) -> str:
    return module.split(".")[0]


@pytest.mark.parametrize("name", sorted(name for name in MODULES if _top(name) == "traitement"))
def test_the_core_imports_no_interface(name):
    forbidden = {"argparse", "fastapi", "starlette", "uvicorn", "genai_carbon", "interface", "api"}
    assert not {_top(module) for module in IMPORTS[name]} & forbidden, IMPORTS[name]


@pytest.mark.parametrize("name", sorted(name for name in MODULES if name.startswith("genai_carbon.cli")))
def test_the_cli_imports_no_web_framework(name):
    assert not {_top(module) for module in IMPORTS[name]} & {"fastapi", "starlette", "uvicorn"}
    assert not any(module.startswith("genai_carbon.webapi") for module in IMPORTS[name])


@pytest.mark.parametrize("name", sorted(name for name in MODULES if name.startswith("genai_carbon.webapi")))
def test_the_api_imports_no_argparse(name):
    assert "argparse" not in {_top(module) for module in IMPORTS[name]}
    assert not any(module.startswith("genai_carbon.cli") for module in IMPORTS[name])


def test_no_import_cycle():
    graph = {name: sorted(module for module in IMPORTS[name] if module in MODULES and module != name) for name in MODULES}
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(name: str) -> None:
        state[name] = "open"
        stack.append(name)
        for target in graph[name]:
            if state.get(target) == "open":
                cycle = stack[stack.index(target) :] + [target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name)


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_entry_points_are_thin(entry):
    code = [line for line in (ROOT / entry).read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith((" ", "#", '"'))]
    assert len(code) <= 8, code
    project = {_top(module) for module in IMPORTS[entry.removesuffix(".py")]} & {*PACKAGES, "interface", "api"}
    assert project <= {"genai_carbon", "traitement"} and "genai_carbon" in project


def test_the_rules_see_every_module():
    assert {"traitement.core", "traitement.methods.hardware", "genai_carbon.cli.main", "genai_carbon.webapi.routes.estimate"} <= set(MODULES)
    assert "traitement.physics" in IMPORTS["traitement.methods.hardware"]
    assert "genai_carbon.cli.estimate" in IMPORTS["genai_carbon.cli.main"]
