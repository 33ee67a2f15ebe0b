"""Dependencies point inward, and this test keeps them so.

- `providers/` and `storage/` know nothing of chatui/, NiceGUI, or each other.
- The domain packages of chatui (conversations, engine, accounts, coordination) import neither NiceGUI nor
  FastAPI/Starlette: they run the same under a page, a REST route, `/ws` or a script.
- The two edges stay apart: `chatui.ui` never imports `chatui.api`, and `chatui.api` never imports `chatui.ui`.
- The engine never imports the conversation service (the service composes the engine, not the other way).
- Coordination never imports the engine (the engine calls the coordination; what the coordination needs of a reply
  is the `Reply` protocol in `chatui.coordination.reply`).
- Only the bootstrap, the app, the command line and the two edges see the services container (`chatui.bootstrap`),
  and the edges call services only: never `Services.store`, the database and its repositories.
- The HTTP edge (`chatui.web`) is plain ASGI: no NiceGUI. The framework patches (`chatui._patches`) are mechanism
  only: they import no chatui code but each other (the page guard hands its policy in as a function).
- The shipped packages never import the test support (`testing/`), the tests or the benchmarks; the benchmarks and
  `testing/` never import `tests/` (what both need lives in `testing/`).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHATUI = ROOT / "chatui"
FRAMEWORKS = {"nicegui", "fastapi", "starlette"}
FORBIDDEN = {
    "providers": {"chatui", "nicegui", "storage", "fastapi", "sqlalchemy"},
    "storage": {"chatui", "nicegui", "providers", "fastapi", "httpx", "openai", "anthropic"},
}
DOMAIN = ("conversations", "engine", "accounts", "coordination", "tools", "knowledge")
SEES_SERVICES = {"chatui/bootstrap/", "chatui/app.py", "chatui/cli.py", "chatui/api", "chatui/ui"}
MAX_LOOSE_MODULES = 8


def imported_modules(path: Path) -> set[str]:
    """Every absolute module an import statement names (`from a.b import c` gives `a.b` and `a.b.c`)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def top_level(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def reaching(folder: Path, prefix: str) -> dict[str, list[str]]:
    """The files under `folder` that import `prefix` or anything below it, with what they import."""
    found = {}
    for path in sorted(folder.rglob("*.py")):
        hits = sorted(m for m in imported_modules(path) if m == prefix or m.startswith(prefix + "."))
        if hits:
            found[str(path.relative_to(ROOT))] = hits
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_reach_outward(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    offenders = {
        str(path.relative_to(ROOT)): sorted(top_level(imported_modules(path)) & FORBIDDEN[package]) for path in files
    }
    assert {path: found for path, found in offenders.items() if found} == {}


@pytest.mark.parametrize("package", DOMAIN)
def test_the_domain_knows_no_web_framework(package: str) -> None:
    files = sorted((CHATUI / package).rglob("*.py"))
    assert files
    offenders = {str(path.relative_to(ROOT)): sorted(top_level(imported_modules(path)) & FRAMEWORKS) for path in files}
    assert {path: found for path, found in offenders.items() if found} == {}


def test_the_ui_never_imports_the_api() -> None:
    assert reaching(CHATUI / "ui", "chatui.api") == {}


def test_the_api_never_imports_the_ui() -> None:
    assert reaching(CHATUI / "api", "chatui.ui") == {}


def test_the_engine_never_imports_the_conversation_service() -> None:
    assert reaching(CHATUI / "engine", "chatui.conversations") == {}


def test_coordination_never_imports_the_engine() -> None:
    assert reaching(CHATUI / "coordination", "chatui.engine") == {}


def test_only_the_edges_see_the_services_container() -> None:
    seen = reaching(CHATUI, "chatui.bootstrap")
    outside = {path: names for path, names in seen.items() if not any(path.startswith(s) for s in SEES_SERVICES)}
    assert outside == {}


def test_the_edges_never_reach_the_repositories() -> None:
    found = {
        str(path.relative_to(ROOT)): node.lineno
        for edge in ("api", "ui")
        for path in sorted((CHATUI / edge).rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute) and node.attr == "store"
    }
    assert found == {}


def test_chatui_keeps_few_loose_modules() -> None:
    loose = sorted(path.name for path in CHATUI.glob("*.py"))
    assert len(loose) <= MAX_LOOSE_MODULES, loose


@pytest.mark.parametrize("package", ["chatui", "providers", "storage"])
def test_shipped_code_never_imports_test_support(package: str) -> None:
    found = {
        path: hits
        for prefix in ("testing", "tests", "bench")
        for path, hits in reaching(ROOT / package, prefix).items()
    }
    assert found == {}


@pytest.mark.parametrize("folder", ["bench", "testing"])
def test_the_benchmarks_and_the_test_support_never_import_the_tests(folder: str) -> None:
    assert reaching(ROOT / folder, "tests") == {}


def test_the_web_edge_knows_no_nicegui() -> None:
    assert reaching(CHATUI / "web", "nicegui") == {}


def test_the_patches_import_no_chatui_code_but_each_other() -> None:
    found = reaching(CHATUI / "_patches", "chatui")
    outside = {path: [m for m in hits if not m.startswith("chatui._patches")] for path, hits in found.items()}
    assert {path: hits for path, hits in outside.items() if hits} == {}
