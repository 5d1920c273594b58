"""The house keeps its shape: small files and functions, and dependencies that point one way
(the engine knows no wire format; utils know nothing of Parley; providers know no engine)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(p for p in ROOT.rglob("*.py") if not {".venv", ".venv-pipecat", "node_modules"} & set(p.parts))
PARLEY = (
    "app",
    "config",
    "session",
    "engine",
    "services",
    "storage",
    "websocket",
    "utils",
    "clients",
    "server",
    "tools",
)


def parley_imports(path: Path) -> set[str]:
    """The Parley modules `path` imports (first two dotted parts)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        found |= {".".join(n.split(".")[:2]) for n in names if n.split(".")[0] in PARLEY}
    return found


def package(name: str) -> list[Path]:
    return sorted((ROOT / name).rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_files_stay_under_300_lines_and_functions_under_50(path: Path) -> None:
    source = path.read_text()
    assert source.count("\n") <= 300, "split the file by responsibility"
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            assert node.end_lineno is not None and node.end_lineno - node.lineno < 50, node.name


def test_the_engine_imports_no_wire_protocol_no_server_and_no_store() -> None:
    for path in package("engine"):
        outside = ("websocket", "app", "session", "storage", "server")
        forbidden = {m for m in parley_imports(path) if m.split(".")[0] in outside}
        assert not forbidden, (path.name, forbidden)
        assert "config" not in parley_imports(path), "the engine takes narrow options, not Settings"


def test_utils_are_leaves_that_import_nothing_of_parley() -> None:
    for path in package("utils"):
        assert {m for m in parley_imports(path) if not m.startswith("utils")} == set(), path.name


def test_providers_know_no_engine_and_no_protocol() -> None:
    for path in package("services"):
        assert not {m for m in parley_imports(path) if m.split(".")[0] in ("engine", "websocket", "session")}, path


def test_tools_know_no_engine_no_protocol_and_no_store() -> None:
    for path in package("tools"):
        outside = ("engine", "websocket", "session", "storage", "server")
        assert not {m for m in parley_imports(path) if m.split(".")[0] in outside}, path.name


def test_the_generic_connection_knows_no_protocol_and_the_client_no_server() -> None:
    assert not {m for m in parley_imports(ROOT / "websocket" / "connection.py") if m.startswith("websocket.parley")}
    for path in package("clients"):
        assert {m.split(".")[0] for m in parley_imports(path)} <= {"clients"}, path.name
