"""The OpenAI adapter, through the real `openai` SDK, against a loopback server speaking OpenAI's SSE."""

from __future__ import annotations

import pytest

from providers import ChatMessage, GenerationParams, TextDelta, Usage
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
from providers.openai_compat import OpenAIProvider
from providers.retry import stream_with_retries
from testing.fakes.openai import FakeOpenAI
from testing.fakes.server import Script, free_port

KEY = "sk-proj-test-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"
QUESTION = "What is 5 plus 3? Give me a very brief answer."
HELLO = [ChatMessage("system", "Be brief."), ChatMessage("user", QUESTION)]


async def collect(events) -> tuple[list[str], list[Usage]]:
    texts, usages = [], []
    async for event in events:
        if isinstance(event, TextDelta):
            texts.append(event.text)
        else:
            usages.append(event)
    return texts, usages


def api_url(fake: FakeOpenAI) -> str:
    return f"{fake.url}/v1"  # type: ignore[attr-defined]


@pytest.fixture
async def openai_provider(fake_openai: FakeOpenAI):
    fake_openai.api_key = KEY
    provider = OpenAIProvider(KEY, api_url(fake_openai), read_timeout=2.0)
    yield provider
    await provider.aclose()


async def test_streams_tokens_in_order_and_reports_usage(openai_provider, fake_openai):
    fake_openai.then(Script(tokens=["The", " answer", " is", " 8", "."], prompt_tokens=31, completion_tokens=6))
    texts, usages = await collect(openai_provider.stream(HELLO, "gpt-4o-mini"))
    assert texts == ["The", " answer", " is", " 8", "."]
    assert usages == [Usage(prompt_tokens=31, completion_tokens=6)]
    sent = fake_openai.requests[0]
    assert sent["model"] == "gpt-4o-mini" and sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    assert sent["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": QUESTION}]
    assert fake_openai.headers[0]["authorization"] == f"Bearer {KEY}"


async def test_generation_params_are_sent(fake_openai):
    provider = OpenAIProvider(None, api_url(fake_openai))
    await collect(provider.stream(HELLO, "gpt-4o-mini", GenerationParams(temperature=0.2, max_tokens=64)))
    await provider.aclose()
    sent = fake_openai.requests[0]
    assert (sent["temperature"], sent["max_tokens"]) == (0.2, 64)


async def test_system_prompt_param_is_a_system_message_first(fake_openai):
    provider = OpenAIProvider(None, api_url(fake_openai))
    params = GenerationParams(system="You are a pirate.", temperature=1.5)
    await collect(provider.stream([ChatMessage("user", "hi")], "gpt-4o-mini", params))
    await provider.aclose()
    sent = fake_openai.requests[0]
    assert sent["messages"] == [{"role": "system", "content": "You are a pirate."}, {"role": "user", "content": "hi"}]
    assert sent["temperature"] == 1.5


async def test_a_server_that_needs_no_key_works_without_one(fake_openai):
    provider = OpenAIProvider(None, api_url(fake_openai))
    assert provider.display_name == f"OpenAI-compatible server at {api_url(fake_openai)}"
    texts, usages = await collect(provider.stream(HELLO, "gpt-4o-mini"))
    await provider.aclose()
    assert "".join(texts) == "8." and usages == [Usage(12, 2)]


async def test_server_refusing_stream_options_is_asked_again_without_and_remembered(fake_openai):
    fake_openai.reject_stream_options = True
    provider = OpenAIProvider(None, api_url(fake_openai))
    first = await collect(provider.stream(HELLO, "gpt-4o-mini"))
    second = await collect(provider.stream(HELLO, "gpt-4o-mini"))
    await provider.aclose()
    assert first == second == (["8", "."], [Usage()])  # no usage chunk without stream_options
    assert ["stream_options" in r for r in fake_openai.requests] == [True, False, False]


async def test_lists_models(openai_provider, fake_openai):
    fake_openai.models = ["gpt-4o-mini", "qwen2.5-0.5b-instruct"]
    assert await openai_provider.list_models() == ["gpt-4o-mini", "qwen2.5-0.5b-instruct"]


async def test_wrong_key_is_an_auth_error_without_the_key(fake_openai):
    fake_openai.api_key = "sk-the-right-one"
    provider = OpenAIProvider(KEY, api_url(fake_openai))
    with pytest.raises(ProviderAuthError, match="Incorrect API key provided") as caught:
        await collect(provider.stream(HELLO, "gpt-4o-mini"))
    with pytest.raises(ProviderAuthError):
        await provider.list_models()
    await provider.aclose()
    assert KEY not in str(caught.value)


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, ProviderBadRequest),
        (401, ProviderAuthError),
        (403, ProviderAuthError),
        (404, ModelNotFound),
        (422, ProviderBadRequest),
        (429, ProviderRateLimited),
        (500, ProviderServerError),
        (503, ProviderServerError),
    ],
)
async def test_status_errors_are_translated_and_never_show_the_key(openai_provider, fake_openai, status, error_class):
    fake_openai.then(Script(status=status, error=f"request with key {KEY} failed"))  # a server that echoes the key
    with pytest.raises(error_class) as caught:
        await collect(openai_provider.stream(HELLO, "gpt-4o-mini"))
    message = str(caught.value)
    assert KEY not in message
    assert "request with key *** failed" in message


async def test_rate_limit_carries_retry_after(openai_provider, fake_openai):
    fake_openai.then(Script(status=429, error="Rate limit reached for gpt-4o-mini", retry_after="7"))
    with pytest.raises(ProviderRateLimited, match="Rate limit reached") as caught:
        await collect(openai_provider.stream(HELLO, "gpt-4o-mini"))
    assert caught.value.retry_after == 7.0
    assert caught.value.retryable


async def test_unknown_model_is_not_found(openai_provider):
    with pytest.raises(ModelNotFound, match="The model `gpt-9` does not exist") as caught:
        await collect(openai_provider.stream(HELLO, "gpt-9"))
    assert "has no model 'gpt-9'" in str(caught.value)


async def test_base_url_without_v1_gets_a_hint(fake_openai):
    provider = OpenAIProvider(None, fake_openai.url)  # type: ignore[attr-defined]
    with pytest.raises(ProviderBadRequest, match="lists no models at /models"):
        await provider.list_models()
    with pytest.raises(ModelNotFound, match="that OPENAI_BASE_URL ends in /v1"):
        await collect(provider.stream(HELLO, "gpt-4o-mini"))
    await provider.aclose()


async def test_connection_refused_names_the_server_and_the_setting():
    url = f"http://127.0.0.1:{free_port()}/v1"
    provider = OpenAIProvider(KEY, url)
    with pytest.raises(ProviderUnavailable) as caught:
        await collect(provider.stream(HELLO, "gpt-4o-mini"))
    with pytest.raises(ProviderUnavailable):
        await provider.list_models()
    await provider.aclose()
    assert str(caught.value) == f"cannot reach OpenAI-compatible server at {url}; check OPENAI_BASE_URL ({url})"


async def test_error_event_mid_stream_keeps_what_came_before(openai_provider, fake_openai):
    fake_openai.then(Script(tokens=["a", "b", "c"], error_after=2, error="The server had an error while processing"))
    texts = []
    with pytest.raises(ProviderStreamError, match="mid-reply: The server had an error while processing"):
        async for event in openai_provider.stream(HELLO, "gpt-4o-mini"):
            texts.append(event.text)
    assert texts == ["a", "b"]


async def test_error_event_before_any_text_is_a_retryable_server_error(openai_provider, fake_openai):
    fake_openai.then(Script(tokens=["a"], error_after=0, error="The server is overloaded"))
    with pytest.raises(ProviderServerError, match="The server is overloaded"):
        await collect(openai_provider.stream(HELLO, "gpt-4o-mini"))


async def test_dropped_connection_is_a_stream_error(openai_provider, fake_openai):
    fake_openai.then(Script(tokens=["a", "b", "c"], drop_after=1))
    with pytest.raises(ProviderStreamError, match="broke before the reply was complete"):
        await collect(openai_provider.stream(HELLO, "gpt-4o-mini"))


async def test_malformed_chunk_is_a_stream_error(openai_provider, fake_openai):
    fake_openai.malformed_after = 1
    with pytest.raises(ProviderStreamError, match="malformed chunk"):
        await collect(openai_provider.stream(HELLO, "gpt-4o-mini"))


async def test_stall_past_read_timeout(fake_openai):
    provider = OpenAIProvider(None, api_url(fake_openai), read_timeout=0.3)
    fake_openai.then(Script(tokens=["a", "b"], stall_after=1))
    with pytest.raises(ProviderTimeout, match=r"did not answer within 0\.3 s"):
        await collect(provider.stream(HELLO, "gpt-4o-mini"))
    await provider.aclose()


async def test_closing_the_stream_early_closes_the_connection(openai_provider, fake_openai):
    fake_openai.then(Script(tokens=["slow"] * 50, delay=0.05))
    stream = openai_provider.stream(HELLO, "gpt-4o-mini")
    assert await anext(stream) == TextDelta("slow")
    await stream.aclose()
    assert await fake_openai.wait_disconnected()


async def test_rate_limit_and_server_error_before_the_first_token_are_retried(openai_provider, fake_openai):
    fake_openai.then(Script(status=429, error="slow down", retry_after="0"), Script(status=500), Script())
    texts, usages = await collect(stream_with_retries(openai_provider, HELLO, "gpt-4o-mini", backoff=0.01))
    assert texts == ["8", "."] and usages == [Usage(12, 2)]
    assert len(fake_openai.requests) == 3


async def test_nothing_is_retried_once_text_was_produced(openai_provider, fake_openai):
    fake_openai.then(Script(tokens=["a", "b"], error_after=1, error="The server had an error"), Script())
    texts = []
    with pytest.raises(ProviderError):
        async for event in stream_with_retries(openai_provider, HELLO, "gpt-4o-mini", backoff=0.01):
            texts.append(event.text)
    assert texts == ["a"]
    assert len(fake_openai.requests) == 1


async def test_configured_by_a_key_or_a_base_url(monkeypatch: pytest.MonkeyPatch, tmp_path):
    from chatui.bootstrap import build_providers
    from chatui.config import Settings

    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    none = build_providers(Settings(_env_file=None, data_dir=tmp_path))
    official = build_providers(Settings(_env_file=None, data_dir=tmp_path, openai_api_key=KEY))
    local = build_providers(
        Settings(_env_file=None, data_dir=tmp_path, openai_base_url="http://127.0.0.1:8080/v1/", read_timeout=7)
    )
    assert list(none) == ["ollama"]
    assert official["openai"].display_name == "OpenAI"
    assert local["openai"].display_name == "OpenAI-compatible server at http://127.0.0.1:8080/v1"
    assert local["openai"].read_timeout == 7
    for providers in (none, official, local):
        for provider in providers.values():
            await provider.aclose()
