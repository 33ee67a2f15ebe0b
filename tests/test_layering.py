"""Dependencies point inward: providers/ and storage/ know nothing of chatui/, NiceGUI, or each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "providers": {"chatui", "nicegui", "storage", "fastapi", "sqlalchemy"},
    "storage": {"chatui", "nicegui", "providers", "fastapi", "httpx", "openai", "anthropic"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_reach_outward(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    offenders = {str(path.relative_to(ROOT)): sorted(imported_packages(path) & FORBIDDEN[package]) for path in files}
    assert {path: found for path, found in offenders.items() if found} == {}


def test_the_engine_knows_no_ui() -> None:
    for module in ("engine.py", "generation.py", "auth.py", "services.py"):
        assert "nicegui" not in imported_packages(ROOT / "chatui" / module), module
