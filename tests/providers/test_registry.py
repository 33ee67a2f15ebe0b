"""The model registry: every provider listed in parallel, a dead one marked unavailable without holding up the rest."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from providers.ollama import OllamaProvider
from providers.openai_compat import OpenAIProvider
from providers.registry import ModelRegistry, qualify_model_id, split_model_id


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A loopback server that accepts connections and never answers (a provider that hangs)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    server.close()


def test_model_ids():
    assert split_model_id("openai:gpt-4o-mini") == ("openai", "gpt-4o-mini")
    assert split_model_id("ollama:llama3.2:3b") == ("ollama", "llama3.2:3b")
    assert split_model_id("llama3.2:3b") == ("ollama", "llama3.2:3b")  # a bare name is an Ollama model
    assert qualify_model_id("llama3.2:3b") == "ollama:llama3.2:3b"
    assert qualify_model_id("anthropic:claude-3-5-sonnet-20241022") == "anthropic:claude-3-5-sonnet-20241022"


async def test_a_hanging_provider_is_unavailable_within_the_timeout(fake_ollama, black_hole):
    fake_ollama.models = ["llama3.2:3b", "qwen2.5:0.5b"]
    registry = ModelRegistry(
        {"ollama": OllamaProvider(fake_ollama.url), "openai": OpenAIProvider(base_url=f"{black_hole}/v1")},
        "ollama:llama3.2:3b",
        timeout=1.0,
    )
    started = time.monotonic()
    models, statuses = await registry.models()
    assert time.monotonic() - started < 2.0  # the page never waits on the dead one
    assert [m.id for m in models] == ["ollama:llama3.2:3b", "ollama:qwen2.5:0.5b"]
    status = {s.provider: s for s in statuses}
    assert status["ollama"].available and not status["openai"].available
    assert "did not list its models" in status["openai"].error
    await registry.aclose()


async def test_lists_are_cached_until_refreshed(fake_ollama):
    registry = ModelRegistry({"ollama": OllamaProvider(fake_ollama.url)}, "ollama:llama3.2:3b")
    await registry.models()
    fake_ollama.models = ["llama3.2:3b", "new-model"]
    assert [m.name for m in (await registry.models())[0]] == ["llama3.2:3b"]  # cached
    assert [m.name for m in (await registry.models(refresh=True))[0]] == ["llama3.2:3b", "new-model"]
    await registry.aclose()


async def test_default_model_is_listed_first_even_when_missing(fake_ollama):
    fake_ollama.models = ["qwen2.5:0.5b"]
    registry = ModelRegistry({"ollama": OllamaProvider(fake_ollama.url)}, "llama3.2:3b")
    models, _ = await registry.models()
    assert (models[0].id, models[0].available) == ("ollama:llama3.2:3b", False)
    assert models[1].id == "ollama:qwen2.5:0.5b" and models[1].available
    await registry.aclose()
