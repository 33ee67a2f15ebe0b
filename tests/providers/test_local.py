"""The `local` provider without a model: a missing or unreadable file, the line of waiting replies, and the rule
that picks the model of a new chat. The real model is driven in tests/llm/test_local_model.py (`-m local`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import httpx
import pytest

from providers.base import ChatMessage, GenerationParams, Provider, StreamEvent, TextDelta, Usage
from providers.errors import ProviderUnavailable
from providers.local import LocalProvider, check_model_file
from providers.local_line import Line
from providers.registry import ModelRegistry
from testing.fakes.server import ScriptedProvider
from testing.live import LiveApp
from testing.waiting import until


def test_a_missing_folder_or_foreign_file_is_refused_in_words(tmp_path: Path) -> None:
    with pytest.raises(ProviderUnavailable, match=r"does not exist; check CHATUI_LOCAL_MODEL"):
        check_model_file(tmp_path / "nope.gguf")
    with pytest.raises(ProviderUnavailable, match=r"points at a folder"):
        check_model_file(tmp_path)
    (tmp_path / "notes.gguf").write_text("not a model at all")
    with pytest.raises(ProviderUnavailable, match=r"is not a GGUF model"):
        check_model_file(tmp_path / "notes.gguf")
    (tmp_path / "empty.gguf").write_bytes(b"")
    with pytest.raises(ProviderUnavailable, match=r"is not a GGUF model"):
        check_model_file(tmp_path / "empty.gguf")


async def test_an_unusable_model_lists_as_unavailable_and_a_reply_gets_the_reason(tmp_path: Path) -> None:
    (tmp_path / "broken.gguf").write_bytes(b"\x00" * 64)
    provider = LocalProvider(tmp_path / "broken.gguf")
    assert await provider.list_models() == ["broken"]  # while it loads, the model is offered
    loading = provider.start()
    assert loading is not None
    await loading
    with pytest.raises(ProviderUnavailable, match=r"broken.gguf is not a GGUF model"):
        await provider.list_models()
    with pytest.raises(ProviderUnavailable, match=r"is not a GGUF model"):
        async for _ in provider.stream([ChatMessage("user", "hi")], "broken"):
            pass
    await provider.aclose()


async def test_the_line_admits_in_order_and_tells_each_waiter_its_place() -> None:
    line = Line(places=1)
    first, second, third = line.join(), line.join(), line.join()
    assert (first.position, second.position, third.position) == (0, 1, 2)
    line.leave(second)  # stopped while waiting
    assert third.position == 1
    moved = asyncio.create_task(third.moved())
    await asyncio.sleep(0)  # one turn: the task starts and waits (`moved()` makes its event in its first step)
    line.release()  # the first reply ended
    await asyncio.wait_for(moved, 1)
    assert third.admitted and third.position == 0 and line.free == 0
    line.release()
    assert line.free == 1 and not line.waiting


class _Listed(Provider):
    """A provider that lists fixed models, or fails to."""

    def __init__(self, name: str, models: list[str] | None) -> None:
        self.name = name  # type: ignore[misc]
        self._models = models

    @property
    def display_name(self) -> str:
        return self.name

    async def list_models(self) -> list[str]:
        if self._models is None:
            raise ProviderUnavailable(f"cannot reach {self.name}")
        return self._models

    async def stream(
        self, messages: Sequence[ChatMessage], model: str, params: GenerationParams | None = None
    ) -> AsyncIterator[StreamEvent]:
        yield TextDelta("x")
        yield Usage()


@pytest.mark.parametrize(
    ("listed", "default", "expected", "notice"),
    [
        # the default is there: it is used, whatever else is
        ({"ollama": ["llama3.2:3b"], "local": ["smol"]}, "ollama:llama3.2:3b", "ollama:llama3.2:3b", None),
        # Ollama is down and nothing else is set up: the local model, and why
        (
            {"ollama": None, "local": ["smol"]},
            "ollama:llama3.2:3b",
            "local:smol",
            "The default model ollama:llama3.2:3b is not available (cannot reach ollama). New chats start on "
            "local:smol.",
        ),
        # Ollama answers without the default: another Ollama model before the local one
        (
            {"ollama": ["qwen:0.5b"], "openai": ["gpt-4o-mini"], "local": ["smol"]},
            "ollama:llama3.2:3b",
            "ollama:qwen:0.5b",
            "The default model ollama:llama3.2:3b is not available (ollama does not list it). New chats start on "
            "ollama:qwen:0.5b.",
        ),
        # the default's provider is not configured: any other provider's model before the local one
        (
            {"ollama": None, "openai": ["gpt-4o-mini"], "local": ["smol"]},
            "anthropic:claude",
            "openai:gpt-4o-mini",
            "The default model anthropic:claude is not available (the anthropic provider is not set up). New chats "
            "start on openai:gpt-4o-mini.",
        ),
        # nothing at all: the default, and a notice that says so
        (
            {"ollama": None},
            "ollama:llama3.2:3b",
            "ollama:llama3.2:3b",
            "The default model ollama:llama3.2:3b is not available (cannot reach ollama). No other model is "
            "available either.",
        ),
    ],
)
async def test_new_chats_start_on_the_default_or_else_on_a_model_that_answers(
    listed: dict[str, list[str] | None], default: str, expected: str, notice: str | None
) -> None:
    registry = ModelRegistry({name: _Listed(name, models) for name, models in listed.items()}, default)
    choice = await registry.model_for_new_chat()
    assert (choice.id, choice.reason) == (expected, notice)
    assert choice.is_default == (expected == default)


@pytest.mark.parametrize(
    ("listed", "expected"),
    [
        ({"ollama": None, "local": ["smol"]}, "local:smol"),  # a fresh install with no provider: the local model
        ({"ollama": ["qwen:0.5b"], "local": ["smol"]}, "ollama:qwen:0.5b"),
        ({"ollama": ["llama3.2:3b", "qwen:0.5b"], "local": ["smol"]}, "ollama:llama3.2:3b"),
    ],
)
async def test_with_no_default_configured_new_chats_start_on_what_answers_and_nothing_is_said(
    listed: dict[str, list[str] | None], expected: str
) -> None:
    providers = {name: _Listed(name, models) for name, models in listed.items()}
    registry = ModelRegistry(providers, "ollama:llama3.2:3b", configured=False)
    choice = await registry.model_for_new_chat()
    assert (choice.id, choice.is_default, choice.reason) == (expected, True, None)


@pytest.fixture(scope="module")
def app_with_a_broken_model(tmp_path_factory: pytest.TempPathFactory, ollama_server) -> LiveApp:
    folder = tmp_path_factory.mktemp("broken-model")
    (folder / "garbage.gguf").write_bytes(b"GGUF" + b"\xff" * 60)  # the right magic, then nonsense
    _state, server = ollama_server
    app = LiveApp(
        folder / "data",
        {"OLLAMA_BASE_URL": server.url, "CHATUI_LOCAL_MODEL": str(folder / "garbage.gguf")},
    ).start()
    yield app
    app.stop()


async def test_the_app_serves_on_with_an_unreadable_model_and_says_why(
    app_with_a_broken_model: LiveApp, fake_ollama: ScriptedProvider
) -> None:
    """A GGUF header over garbage reaches llama.cpp itself, which must refuse it without taking the server down."""
    app = app_with_a_broken_model
    if not _xllamacpp_installed():
        pytest.skip("the local extra is not installed: llama.cpp is not reached")
    async with httpx.AsyncClient(base_url=app.url, timeout=30) as client:
        credentials = {"username": "broken", "password": "correct horse battery"}
        assert (await client.post("/api/auth/register", json=credentials)).status_code == 201
        assert (await client.post("/api/auth/login", json=credentials)).status_code == 200

        async def listing_once_the_load_failed() -> tuple[dict, dict] | None:
            """The load runs in the background; the listing says so once it has failed."""
            listing = (await client.get("/api/models", params={"refresh": True})).json()
            local = next(p for p in listing["providers"] if p["provider"] == "local")
            return None if local["available"] else (listing, local)

        listing, local = await until(listing_once_the_load_failed, within=15, every=0.1, what="the load's failure")
        assert "llama.cpp could not load the local model" in local["error"] and "garbage.gguf" in local["error"]
        assert "local:garbage" not in {m["id"] for m in listing["models"] if m["available"]}
        assert (await client.get("/api/health")).status_code == 200
        assert "local model not available" in app.log()


def _xllamacpp_installed() -> bool:
    from providers.local import runtime_installed

    return runtime_installed()


async def test_the_setting_picks_the_file_and_a_missing_one_is_named(tmp_path: Path) -> None:
    from chatui.bootstrap.providers import build_local_provider
    from chatui.config import Settings

    assert build_local_provider(Settings(local_model="off", data_dir=tmp_path)) is None
    provider = build_local_provider(Settings(local_model=str(tmp_path / "gone.gguf"), data_dir=tmp_path))
    assert provider is not None and provider.model_name == "gone"
    await provider.start()  # type: ignore[misc]
    with pytest.raises(ProviderUnavailable, match=r"gone.gguf does not exist; check CHATUI_LOCAL_MODEL"):
        await provider.list_models()
    await provider.aclose()
