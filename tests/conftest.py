"""Shared fixtures: loopback fake providers, and a clean environment for each run of `main.py`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.anthropic import FakeAnthropic, anthropic_app
from tests.fakes.ollama import ollama_app
from tests.fakes.openai import FakeOpenAI, openai_app
from tests.fakes.server import ScriptedProvider, ThreadedServer

PROVIDER_ENV = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "DATABASE_URL",
    "DEFAULT_MODEL",
    "CHATUI_SECRET",
    "CHATUI_SINGLE_USER",
)


@pytest.fixture(scope="session")
def ollama_server() -> Iterator[tuple[ScriptedProvider, ThreadedServer]]:
    state = ScriptedProvider()
    server = ThreadedServer(ollama_app(state)).start()
    yield state, server
    server.stop()


@pytest.fixture
def fake_ollama(ollama_server: tuple[ScriptedProvider, ThreadedServer]) -> ScriptedProvider:
    """The session's fake Ollama, reset for this test; `fake_ollama.url` is its base URL."""
    state, server = ollama_server
    state.reset()
    state.url = server.url  # type: ignore[attr-defined]
    return state


@pytest.fixture(scope="session")
def openai_server() -> Iterator[tuple[FakeOpenAI, ThreadedServer]]:
    state = FakeOpenAI()
    server = ThreadedServer(openai_app(state)).start()
    yield state, server
    server.stop()


@pytest.fixture
def fake_openai(openai_server: tuple[FakeOpenAI, ThreadedServer]) -> FakeOpenAI:
    """The session's fake OpenAI-compatible server, reset; `fake_openai.url` is its root (the API is under `/v1`)."""
    state, server = openai_server
    state.reset()
    state.url = server.url  # type: ignore[attr-defined]
    return state


@pytest.fixture(scope="session")
def anthropic_server() -> Iterator[tuple[FakeAnthropic, ThreadedServer]]:
    state = FakeAnthropic()
    server = ThreadedServer(anthropic_app(state)).start()
    yield state, server
    server.stop()


@pytest.fixture
def fake_anthropic(anthropic_server: tuple[FakeAnthropic, ThreadedServer]) -> FakeAnthropic:
    """The session's fake Anthropic API, reset; `fake_anthropic.url` is its base URL."""
    state, server = anthropic_server
    state.reset()
    state.url = server.url  # type: ignore[attr-defined]
    return state


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
    return tmp_path / "data"
