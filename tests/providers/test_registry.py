"""The model registry: every provider listed in parallel, a dead one marked unavailable without holding up the rest."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from providers.ollama import OllamaProvider
from providers.openai_compat import OpenAIProvider
from providers.registry import ModelRegistry, qualify_model_id, split_model_id
from testing.fakes.black_hole import BlackHole
from testing.fakes.server import ScriptedProvider


def test_model_ids():
    assert split_model_id("openai:gpt-4o-mini") == ("openai", "gpt-4o-mini")
    assert split_model_id("ollama:llama3.2:3b") == ("ollama", "llama3.2:3b")
    assert split_model_id("llama3.2:3b") == ("ollama", "llama3.2:3b")  # a bare name is an Ollama model
    assert qualify_model_id("llama3.2:3b") == "ollama:llama3.2:3b"
    assert qualify_model_id("anthropic:claude-3-5-sonnet-20241022") == "anthropic:claude-3-5-sonnet-20241022"


async def test_a_hanging_provider_is_unavailable_within_the_timeout(fake_ollama, black_hole: BlackHole):
    fake_ollama.models = ["llama3.2:3b", "qwen2.5:0.5b"]
    registry = ModelRegistry(
        {"ollama": OllamaProvider(fake_ollama.url), "openai": OpenAIProvider(base_url=f"{black_hole.url}/v1")},
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


async def timed(call: Callable[[], Awaitable[object]]) -> float:
    started = time.monotonic()
    await call()
    return time.monotonic() - started


async def test_a_hanging_default_provider_costs_one_request_the_timeout_once(fake_ollama, black_hole: BlackHole):
    """What `/api/models` asks (the list, then the model a new chat starts on), three times in a row: the first
    waits the timeout once, the next ones answer from the cache while the dead provider is re-checked aside."""
    timeout = 2.0
    registry = ModelRegistry(
        {"ollama": OllamaProvider(fake_ollama.url), "openai": OpenAIProvider(base_url=f"{black_hole.url}/v1")},
        "openai:gpt-4o-mini",
        timeout=timeout,
        recheck=0.0,  # a background look at every call: still nobody waits on it
    )

    async def listing_page() -> None:
        await registry.models()
        await registry.model_for_new_chat()

    first, second, third = [await timed(listing_page) for _ in range(3)]
    assert timeout * 0.9 < first < timeout * 1.7  # one timeout, not two in a row
    assert second < timeout / 2 and third < timeout / 2  # never again
    new_chat = await registry.model_for_new_chat()
    assert new_chat.id == "ollama:llama3.2:3b" and "did not list its models within 2 s" in (new_chat.reason or "")
    assert black_hole.accepted >= 2  # it was asked again, in the background
    await registry.aclose()


async def test_a_provider_that_hung_is_listed_again_once_it_answers(fake_ollama: ScriptedProvider):
    fake_ollama.list_stalls = True
    registry = ModelRegistry({"ollama": OllamaProvider(fake_ollama.url)}, "llama3.2:3b", timeout=0.5, recheck=0.0)
    _, [status] = await registry.models()
    assert not status.available
    fake_ollama.list_stalls = False
    started = time.monotonic()
    _, [status] = await registry.models()  # from the cache; a look again starts aside
    assert time.monotonic() - started < 0.25 and not status.available
    await registry.checked()
    models, [status] = await registry.models()
    assert status.available and (models[0].id, models[0].available) == ("ollama:llama3.2:3b", True)
    await registry.aclose()


async def test_a_provider_that_goes_down_keeps_its_models_listed_unavailable_with_why(fake_ollama: ScriptedProvider):
    fake_ollama.models = ["llama3.2:latest", "qwen2.5:0.5b"]
    registry = ModelRegistry({"ollama": OllamaProvider(fake_ollama.url)}, "ollama:qwen2.5:0.5b", timeout=0.5)
    models, _ = await registry.models()
    assert [(m.label, m.detail, m.available) for m in models] == [
        ("qwen2.5:0.5b", "3.2B parameters", True),  # the default first
        ("llama3.2", "3.2B parameters", True),  # `:latest` is what Ollama means without a tag
    ]
    fake_ollama.list_stalls = True
    models, [status] = await registry.models(refresh=True)
    assert not status.available
    assert [(m.name, m.available, m.reason) for m in models] == [
        ("qwen2.5:0.5b", False, status.error),
        ("llama3.2:latest", False, status.error),
    ]
    await registry.aclose()
