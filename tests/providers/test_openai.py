"""The OpenAI adapter, through the real `openai` SDK, against a loopback server speaking OpenAI's SSE."""

from __future__ import annotations

import pytest

from providers import ChatMessage, GenerationParams, Usage
from providers.errors import (
    ModelNotFound,
    ProviderBadRequest,
)
from providers.openai_compat import OpenAIProvider
from providers.retry import stream_with_retries
from testing.fakes.openai import FakeOpenAI
from testing.fakes.server import Script
from tests.providers.helpers import collect

KEY = "sk-proj-test-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"
QUESTION = "What is 5 plus 3? Give me a very brief answer."
HELLO = [ChatMessage("system", "Be brief."), ChatMessage("user", QUESTION)]


def api_url(fake: FakeOpenAI) -> str:
    return f"{fake.url}/v1"  # type: ignore[attr-defined]


@pytest.fixture
async def openai_provider(fake_openai: FakeOpenAI):
    fake_openai.api_key = KEY
    provider = OpenAIProvider(KEY, api_url(fake_openai), read_timeout=2.0)
    yield provider
    await provider.aclose()


async def test_the_request_asks_for_usage_and_carries_the_key_as_a_bearer_token(openai_provider, fake_openai):
    await collect(openai_provider.stream(HELLO, "gpt-4o-mini"))
    sent = fake_openai.requests[0]
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


async def test_rate_limit_and_server_error_before_the_first_token_are_retried(openai_provider, fake_openai):
    fake_openai.then(Script(status=429, error="slow down", retry_after="0"), Script(status=500), Script())
    texts, usages = await collect(stream_with_retries(openai_provider, HELLO, "gpt-4o-mini", backoff=0.01))
    assert texts == ["8", "."] and usages == [Usage(12, 2)]
    assert len(fake_openai.requests) == 3


async def test_configured_by_a_key_or_a_base_url(monkeypatch: pytest.MonkeyPatch, tmp_path):
    from chatui.bootstrap.providers import build_providers
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
