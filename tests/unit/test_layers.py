"""Dependencies point one way: core is pure, and the public API is what it says."""

from __future__ import annotations

import ast
from pathlib import Path

import stateward.checkpoint
import stateward.observability

SRC = Path(__file__).parents[2] / "src" / "stateward"

# What core may import: the standard library's pure parts, serialisation and retry
# libraries, and nothing of ours but errors.
CORE_ALLOWED_ROOTS = {
    "collections",
    "contextvars",
    "dataclasses",
    "enum",
    "importlib",
    "typing",
    "langgraph",
    "ormsgpack",
    "tenacity",
    "zstandard",
}
CORE_ALLOWED_OURS = {"stateward.errors", "stateward"}
IO_MODULES = {"psycopg", "psycopg_pool", "sqlite3", "socket", "httpx", "redis", "os"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found - {"__future__"}


def test_core_is_pure() -> None:
    """stateward.core imports no driver, network or OS module and none of our layers."""
    for path in sorted((SRC / "core").glob("*.py")):
        for module in _imports(path):
            root = module.split(".")[0]
            if module.startswith("stateward"):
                assert module in CORE_ALLOWED_OURS, (path.name, module)
            else:
                assert root in CORE_ALLOWED_ROOTS, (path.name, module)
                assert root not in IO_MODULES, (path.name, module)


def test_lower_layers_never_import_the_edges() -> None:
    """Savers, core and observability never import the command line or the demo."""
    edges = {"stateward.cli", "stateward.demo", "stateward.database"}
    for layer in ("core", "checkpoint", "observability", "migrations", "sql"):
        for path in sorted((SRC / layer).glob("*.py")):
            assert not _imports(path) & edges, path


def test_public_namespaces_match_all() -> None:
    """__all__ lists exactly the public names of the curated modules."""
    for module in (stateward.checkpoint, stateward.observability):
        public = {n for n in vars(module) if not n.startswith("_")}
        exported = set(module.__all__)
        assert exported <= public | {"PostgresSaver", "AsyncPostgresSaver"}
        for name in exported:
            assert getattr(module, name) is not None
