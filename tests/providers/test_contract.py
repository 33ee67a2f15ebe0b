"""What every network provider promises, whatever its wire: the same tests, run against each adapter through its real
client (httpx for Ollama, the `openai` and `anthropic` SDKs for replies, httpx for their model lists) and a loopback
server speaking that API exactly.

What differs between the wires (the request's shape, the setting a message points at) stays in test_<provider>.py.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from providers import ChatMessage, Provider, StreamEvent, TextDelta, Usage
from providers.anthropic import AnthropicProvider
from providers.errors import (
    ModelNotFound,
    ProviderAuthError,
    ProviderBadRequest,
    ProviderError,
    ProviderRateLimited,
    ProviderServerError,
    ProviderStreamError,
    ProviderTimeout,
    ProviderUnavailable,
)
from providers.ollama import OllamaProvider
from providers.openai_compat import OpenAIProvider
from providers.retry import stream_with_retries
from testing.fakes.server import Script, ScriptedProvider, free_port
from tests.providers.helpers import collect

HELLO = [ChatMessage("user", "What is 5 plus 3? Give me a very brief answer.")]


@dataclass(frozen=True)
class Wire:
    """One provider as the contract drives it."""

    name: str
    model: str
    make: Callable[[str, str | None, float], Provider]
    """(the fake server's URL, API key, read timeout) -> the adapter pointed at it."""
    unreachable: Callable[[str], str]
    """The message for a server that is not there, from the URL the adapter was given."""
    malformed: str = ""
    """What a reply that is not the wire's format is called (the Ollama fake cannot send one)."""
    statuses: tuple[tuple[int, type[ProviderError]], ...] = ()
    """HTTP statuses of this API's errors and what each becomes (the keyed APIs)."""


WIRES = {
    "ollama": Wire(
        "ollama",
        "llama3.2:3b",
        lambda url, _key, timeout: OllamaProvider(url, read_timeout=timeout),
        lambda url: f"cannot reach Ollama at {url}; start it with `ollama serve` or set OLLAMA_BASE_URL",
    ),
    "openai": Wire(
        "openai",
        "gpt-4o-mini",
        lambda url, key, timeout: OpenAIProvider(key, f"{url}/v1", read_timeout=timeout),
        lambda url: f"cannot reach OpenAI-compatible server at {url}/v1; check OPENAI_BASE_URL ({url}/v1)",
        "malformed chunk",
        (
            (400, ProviderBadRequest),
            (401, ProviderAuthError),
            (403, ProviderAuthError),
            (404, ModelNotFound),
            (422, ProviderBadRequest),
            (429, ProviderRateLimited),
            (500, ProviderServerError),
            (503, ProviderServerError),
        ),
    ),
    "anthropic": Wire(
        "anthropic",
        "claude-haiku-4-5",
        lambda url, key, timeout: AnthropicProvider(key, url, read_timeout=timeout),
        lambda url: f"cannot reach Anthropic API at {url}; check ANTHROPIC_BASE_URL ({url})",
        "malformed event",
        (
            (400, ProviderBadRequest),
            (401, ProviderAuthError),
            (403, ProviderAuthError),
            (404, ModelNotFound),
            (413, ProviderBadRequest),
            (429, ProviderRateLimited),
            (500, ProviderServerError),
            (529, ProviderServerError),
        ),
    ),
}
KEYED = ["openai", "anthropic"]
KEY = "sk-test-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"


@dataclass
class Adapter:
    wire: Wire
    fake: ScriptedProvider
    provider: Provider

    def stream(self, model: str | None = None) -> AsyncGenerator[StreamEvent, None]:
        return self.provider.stream(HELLO, model or self.wire.model)


async def _adapter(request: pytest.FixtureRequest, name: str, read_timeout: float = 2.0) -> AsyncIterator[Adapter]:
    """The adapter against its fake (reset for the test), with a key where the API takes one."""
    wire = WIRES[name]
    fake: ScriptedProvider = request.getfixturevalue(f"fake_{name}")
    key = KEY if wire.statuses else None
    fake.api_key = key
    provider = wire.make(fake.url, key, read_timeout)  # type: ignore[attr-defined]
    yield Adapter(wire, fake, provider)
    await provider.aclose()


@pytest.fixture(params=sorted(WIRES))
async def adapter(request: pytest.FixtureRequest) -> AsyncIterator[Adapter]:
    """Each network adapter in turn."""
    async for each in _adapter(request, request.param):
        yield each


@pytest.fixture(params=KEYED)
async def keyed(request: pytest.FixtureRequest) -> AsyncIterator[Adapter]:
    """The adapters of the APIs that take a key."""
    async for each in _adapter(request, request.param):
        yield each


@pytest.fixture(params=sorted(WIRES))
async def impatient(request: pytest.FixtureRequest) -> AsyncIterator[Adapter]:
    """Each network adapter with a 0.3 s read timeout."""
    async for each in _adapter(request, request.param, read_timeout=0.3):
        yield each


# -- every adapter --------------------------------------------------------------------------------------------------


async def test_streams_tokens_in_order_and_reports_usage(adapter: Adapter) -> None:
    adapter.fake.then(Script(tokens=["The", " answer", " is", " 8", "."], prompt_tokens=31, completion_tokens=6))
    texts, usages = await collect(adapter.stream())
    assert texts == ["The", " answer", " is", " 8", "."]
    assert usages == [Usage(prompt_tokens=31, completion_tokens=6)]
    sent = adapter.fake.requests[0]
    assert sent["model"] == adapter.wire.model and sent["stream"] is True


async def test_lists_models(adapter: Adapter) -> None:
    adapter.fake.models = [adapter.wire.model, "qwen2.5:0.5b"]
    assert await adapter.provider.list_models() == [adapter.wire.model, "qwen2.5:0.5b"]


async def test_unknown_model_is_not_found(adapter: Adapter) -> None:
    with pytest.raises(ModelNotFound):
        await collect(adapter.stream("no-such-model"))


async def test_error_event_mid_stream_keeps_what_came_before(adapter: Adapter) -> None:
    adapter.fake.then(Script(tokens=["a", "b", "c"], error_after=2, error="out of memory"))
    texts = []
    with pytest.raises(ProviderStreamError, match="mid-reply: out of memory"):
        async for event in adapter.stream():
            assert isinstance(event, TextDelta)
            texts.append(event.text)
    assert texts == ["a", "b"]


async def test_dropped_connection_is_a_stream_error(adapter: Adapter) -> None:
    adapter.fake.then(Script(tokens=["a", "b", "c"], drop_after=1))
    with pytest.raises(ProviderStreamError, match="before the reply was complete"):
        await collect(adapter.stream())


async def test_stall_past_read_timeout(impatient: Adapter) -> None:
    impatient.fake.then(Script(tokens=["a", "b"], stall_after=1))
    with pytest.raises(ProviderTimeout, match="did not answer"):
        await collect(impatient.stream())


async def test_closing_the_stream_early_closes_the_connection(adapter: Adapter) -> None:
    adapter.fake.then(Script(tokens=["slow"] * 50, delay=0.05))
    stream = adapter.stream()
    assert await anext(stream) == TextDelta("slow")
    await stream.aclose()
    assert await adapter.fake.wait_disconnected()


async def test_nothing_is_retried_once_text_was_produced(adapter: Adapter) -> None:
    adapter.fake.then(Script(tokens=["a", "b"], error_after=1, error="The server had an error"), Script())
    texts = []
    with pytest.raises(ProviderError):
        async for event in stream_with_retries(adapter.provider, HELLO, adapter.wire.model, backoff=0.01):
            assert isinstance(event, TextDelta)
            texts.append(event.text)
    assert texts == ["a"]
    assert len(adapter.fake.requests) == 1


@pytest.mark.parametrize("name", sorted(WIRES))
async def test_connection_refused_names_the_server_and_the_setting(name: str) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    provider = WIRES[name].make(url, KEY, 2.0)
    try:
        with pytest.raises(ProviderUnavailable) as caught:
            await collect(provider.stream(HELLO, WIRES[name].model))
        with pytest.raises(ProviderUnavailable):
            await provider.list_models()
    finally:
        await provider.aclose()
    assert str(caught.value) == WIRES[name].unreachable(url)


# -- the APIs that take a key ---------------------------------------------------------------------------------------


async def test_wrong_key_is_an_auth_error_without_the_key(keyed: Adapter) -> None:
    keyed.fake.api_key = "sk-the-right-one"
    with pytest.raises(ProviderAuthError) as caught:
        await collect(keyed.stream())
    with pytest.raises(ProviderAuthError):
        await keyed.provider.list_models()
    assert KEY not in str(caught.value)


async def test_status_errors_are_translated_and_never_show_the_key(keyed: Adapter) -> None:
    for status, error_class in keyed.wire.statuses:
        keyed.fake.then(Script(status=status, error=f"request with key {KEY} failed"))  # a server echoing the key
        with pytest.raises(error_class) as caught:
            await collect(keyed.stream())
        assert KEY not in str(caught.value), status
        assert "request with key *** failed" in str(caught.value), status


async def test_rate_limit_carries_retry_after(keyed: Adapter) -> None:
    keyed.fake.then(Script(status=429, error="Rate limit reached", retry_after="7"))
    with pytest.raises(ProviderRateLimited, match="Rate limit reached") as caught:
        await collect(keyed.stream())
    assert caught.value.retry_after == 7.0
    assert caught.value.retryable


async def test_error_event_before_any_text_is_a_retryable_server_error(keyed: Adapter) -> None:
    keyed.fake.then(Script(tokens=["a"], error_after=0, error="The server is overloaded"))
    with pytest.raises(ProviderServerError, match="The server is overloaded") as caught:
        await collect(keyed.stream())
    assert caught.value.retryable


async def test_malformed_data_is_a_stream_error(keyed: Adapter) -> None:
    keyed.fake.malformed_after = 1
    with pytest.raises(ProviderStreamError, match=keyed.wire.malformed):
        await collect(keyed.stream())
