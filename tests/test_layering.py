"""Imports point one way (ARCHITECTURE.md): cli -> api -> assistant -> (tools, retrieval,
prompts). Read from the source, lazy imports inside functions included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "tools": {"cli", "api", "assistant", "evals"},
    "retrieval": {"cli", "api", "assistant", "evals"},
    "ingest": {"cli", "api", "assistant", "evals"},
    "assistant": {"cli", "api", "evals"},
    "api": {"cli", "evals"},
    "evals": {"cli"},
}


def imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_one_way(package):
    wrong = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in (ROOT / package).rglob("*.py")
        for name in imported_packages(path) & FORBIDDEN[package]
    }
    assert not wrong, sorted(wrong)
