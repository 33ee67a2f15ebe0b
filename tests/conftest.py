"""Shared fixtures: loopback fake providers, and a clean environment for each run of `main.py`."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import fastapi.dependencies.models
import pytest

from testing.fakes.anthropic import FakeAnthropic, anthropic_app
from testing.fakes.black_hole import BlackHole
from testing.fakes.ollama import FakeOllama, ollama_app
from testing.fakes.openai import FakeOpenAI, openai_app
from testing.fakes.server import ScriptedProvider, ThreadedServer

S = TypeVar("S")

# The in-process model loads a GGUF file in every app that finds one: only the `local` tests (tests/llm) want that.
os.environ["CHATUI_LOCAL_MODEL"] = "off"

PROVIDER_ENV = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "DATABASE_URL",
    "DEFAULT_MODEL",
    "CHATUI_SECRET",
    "CHATUI_SINGLE_USER",
    "CHATUI_SIGNUP",
)


def _serve(state: S, app: Any) -> Iterator[tuple[S, ThreadedServer]]:
    server = ThreadedServer(app).start()
    yield state, server
    server.stop()


def _fresh(pair: tuple[S, ThreadedServer]) -> S:
    """The session's fake, reset for one test, with its base URL as `.url`."""
    state, server = pair
    state.reset()  # type: ignore[attr-defined]
    state.url = server.url  # type: ignore[attr-defined]
    return state


@pytest.fixture(scope="session")
def ollama_server() -> Iterator[tuple[FakeOllama, ThreadedServer]]:
    state = FakeOllama()
    yield from _serve(state, ollama_app(state))


@pytest.fixture
def fake_ollama(ollama_server: tuple[FakeOllama, ThreadedServer]) -> FakeOllama:
    """The fake Ollama; `fake_ollama.url` is its base URL."""
    return _fresh(ollama_server)


@pytest.fixture(scope="session")
def openai_server() -> Iterator[tuple[FakeOpenAI, ThreadedServer]]:
    state = FakeOpenAI()
    yield from _serve(state, openai_app(state))


@pytest.fixture
def fake_openai(openai_server: tuple[FakeOpenAI, ThreadedServer]) -> FakeOpenAI:
    """The fake OpenAI-compatible server; `fake_openai.url` is its root (the API is under `/v1`)."""
    return _fresh(openai_server)


@pytest.fixture(scope="session")
def anthropic_server() -> Iterator[tuple[FakeAnthropic, ThreadedServer]]:
    state = FakeAnthropic()
    yield from _serve(state, anthropic_app(state))


@pytest.fixture
def fake_anthropic(anthropic_server: tuple[FakeAnthropic, ThreadedServer]) -> FakeAnthropic:
    """The fake Anthropic API; `fake_anthropic.url` is its base URL."""
    return _fresh(anthropic_server)


@pytest.fixture
def black_hole() -> Iterator[BlackHole]:
    """A provider that accepts connections and never answers; `black_hole.url` is its base URL."""
    server = BlackHole().start()
    yield server
    server.stop()


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_ollama: ScriptedProvider) -> Path:
    """Environment for one run of `main.py`: its own data folder, the fake Ollama, fast bcrypt, no `.env`."""
    for name in PROVIDER_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CHATUI_ENV_FILE", "")
    monkeypatch.setenv("CHATUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("OLLAMA_BASE_URL", fake_ollama.url)  # type: ignore[attr-defined]
    monkeypatch.setenv("CHATUI_BCRYPT_ROUNDS", "4")
    monkeypatch.setenv("CHATUI_UI_FLUSH_SECONDS", "0.02")
    monkeypatch.setenv("CHATUI_PROVIDER_RETRIES", "0")
    monkeypatch.setenv("CHATUI_AI_TITLES", "false")  # on in the tests of titles only
    monkeypatch.setenv("CHATUI_SIGNUP", "open")  # tests sign several people up; the modes have their own tests
    return tmp_path / "data"


SLOW_FOLDERS = {"browser", "cluster", "deploy", "desktop", "llm", "operations", "package", "security"}
"""Folders whose tests start a server process, a browser, nginx or several instances."""
SERVER_MARKS = ("LiveApp(", "module_app(", "live_app")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark `slow` every test that starts a server process (a live app, a browser, a cluster): `-m "not slow"` is the
    inner loop (unit, storage, providers, the `user` fixture's pages), the whole suite runs in CI."""
    sources: dict[Path, bool] = {}
    for item in items:
        path = Path(str(item.path))
        if path not in sources:
            text = path.read_text() if path.suffix == ".py" else ""
            sources[path] = any(mark in text for mark in SERVER_MARKS)
        folder = path.relative_to(Path(str(config.rootpath)) / "tests").parts[0]
        real_model = item.get_closest_marker("llm") or item.get_closest_marker("local")
        if folder in SLOW_FOLDERS or sources[path] or real_model or "live_app" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def no_nicegui_deprecation(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """NiceGUI announces a deprecation in its log (`helpers.warn_once`), not as a DeprecationWarning: a test during
    which it does fails, as a DeprecationWarning of the other frameworks does (pyproject's filterwarnings)."""
    yield
    records = [*caplog.get_records("setup"), *caplog.get_records("call")]
    said = [r.getMessage() for r in records if r.name.startswith("nicegui") and "deprecated" in r.getMessage().lower()]
    if said:
        pytest.fail(f"NiceGUI deprecates what chatui uses: {said}")


def pytest_collection_finish(session: pytest.Session) -> None:
    """Freeze what collection imported (chatui, NiceGUI, SQLAlchemy, Alembic, the SDKs' fakes: most of the heap) out
    of the garbage collector's walks. NiceGUI's `user` fixture runs a full `gc.collect()` before and after every
    test; over the whole heap that took 0.17 s each, a third of a page test's set-up and teardown. What the tests
    create afterwards is collected as before; only garbage made during imports (collected first) could stay."""
    import alembic.command  # noqa: F401 (every page test migrates a new database: loaded then, frozen now)

    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def forget_the_tests_endpoints() -> Iterator[None]:
    """FastAPI classifies every endpoint it calls in `lru_cache`s of 4,096 entries keyed by the function, so in one
    process each test's app (its routes' closures, hence its services, pages and database) stayed alive: ~10,000
    objects a page test, which every later full collection walked again. A server builds its app once; here the
    caches are emptied after each test. (If FastAPI renames them, nothing here fails: the tests only get slower.)"""
    yield
    for cached in vars(fastapi.dependencies.models).values():
        if callable(getattr(cached, "cache_clear", None)):
            cached.cache_clear()
