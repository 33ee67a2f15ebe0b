"""The Anthropic adapter, through the real `anthropic` SDK, against a loopback server speaking the Messages API."""

from __future__ import annotations

import pytest

from providers import ChatMessage, GenerationParams, Usage
from providers.anthropic import AnthropicProvider
from providers.errors import (
    EmbeddingsUnsupported,
    ModelNotFound,
    ProviderServerError,
)
from providers.registry import ModelRegistry
from providers.retry import stream_with_retries
from testing.fakes.anthropic import FakeAnthropic, sent_key
from testing.fakes.server import Script
from testing.waiting import until
from tests.providers.helpers import collect

KEY = "sk-ant-api03-test-9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d"
MODEL = "claude-haiku-4-5"
QUESTION = "What is 5 plus 3? Give me a very brief answer."
HELLO = [ChatMessage("system", "Be brief."), ChatMessage("user", QUESTION)]


@pytest.fixture
async def claude(fake_anthropic: FakeAnthropic):
    fake_anthropic.api_key = KEY
    provider = AnthropicProvider(KEY, fake_anthropic.url, max_tokens=1234, read_timeout=2.0)  # type: ignore[attr-defined]
    yield provider
    await provider.aclose()


async def test_the_request_has_max_tokens_a_top_level_system_and_the_key(claude, fake_anthropic):
    await collect(claude.stream(HELLO, MODEL))
    sent = fake_anthropic.requests[0]
    assert sent["max_tokens"] == 1234  # always set: the API refuses a request without it
    assert sent["system"] == "Be brief."  # top-level, never a message
    assert sent["messages"] == [{"role": "user", "content": QUESTION}]
    headers = fake_anthropic.headers[0]
    assert sent_key(headers) == KEY and headers["anthropic-version"]


async def test_system_prompts_are_joined_and_turns_alternate_starting_with_the_user(claude, fake_anthropic):
    history = [
        ChatMessage("assistant", "Hello! How can I help?"),  # nothing to answer: dropped
        ChatMessage("system", "Be brief."),
        ChatMessage("user", "What is 5 plus 3?"),
        ChatMessage("user", "Just the number."),
        ChatMessage("assistant", "8"),
        ChatMessage("assistant", "   "),  # the API refuses empty text
        ChatMessage("assistant", "Anything else?"),
        ChatMessage("system", "Answer in English."),
        ChatMessage("user", "And 2 plus 2?"),
    ]
    texts, _ = await collect(claude.stream(history, MODEL))
    assert texts == ["8", "."]
    sent = fake_anthropic.requests[0]
    assert sent["system"] == "Be brief.\n\nAnswer in English."
    assert sent["messages"] == [
        {"role": "user", "content": "What is 5 plus 3?\n\nJust the number."},
        {"role": "assistant", "content": "8\n\nAnything else?"},
        {"role": "user", "content": "And 2 plus 2?"},
    ]


async def test_generation_params_are_sent(claude, fake_anthropic):
    await collect(claude.stream([ChatMessage("user", "hi")], MODEL, GenerationParams(temperature=0.3, max_tokens=50)))
    sent = fake_anthropic.requests[0]
    assert (sent["max_tokens"], sent["temperature"]) == (50, 0.3)  # top-level, as the Messages API takes it
    assert "system" not in sent


async def test_system_prompt_param_is_the_top_level_system_and_no_temperature_means_none_sent(claude, fake_anthropic):
    params = GenerationParams(system="You are a pirate.")
    await collect(claude.stream([ChatMessage("user", "hi")], MODEL, params))
    sent = fake_anthropic.requests[0]
    assert sent["system"] == "You are a pirate."
    assert sent["messages"] == [{"role": "user", "content": "hi"}]
    assert "temperature" not in sent  # None: the provider's default


async def test_overloaded_is_a_retryable_server_error(claude, fake_anthropic):
    fake_anthropic.then(Script(status=529, error="Overloaded"))
    with pytest.raises(
        ProviderServerError, match=r"is overloaded \(529\): Overloaded; try again in a moment"
    ) as caught:
        await collect(claude.stream(HELLO, MODEL))
    assert caught.value.retryable


async def test_unknown_model_is_not_found(claude):
    with pytest.raises(ModelNotFound, match=r"has no model 'claude-2\.9'"):
        await collect(claude.stream(HELLO, "claude-2.9"))


async def test_overload_and_rate_limit_before_the_first_token_are_retried(claude, fake_anthropic):
    fake_anthropic.then(
        Script(status=529, error="Overloaded"),
        Script(status=429, error="slow down", retry_after="0"),
        Script(tokens=["x"], error_after=0, error="Overloaded"),
        Script(),
    )
    texts, usages = await collect(stream_with_retries(claude, HELLO, MODEL, retries=3, backoff=0.01))
    assert texts == ["8", "."] and usages == [Usage(12, 2)]
    assert len(fake_anthropic.requests) == 4


async def test_configured_by_a_key_with_max_tokens_from_the_settings(monkeypatch: pytest.MonkeyPatch, tmp_path):
    from chatui.bootstrap.providers import build_providers
    from chatui.config import Settings

    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None, data_dir=tmp_path, anthropic_api_key=KEY, anthropic_max_tokens=777)
    providers = build_providers(settings)
    assert list(providers) == ["ollama", "anthropic"]
    assert (providers["anthropic"].display_name, providers["anthropic"].max_tokens) == ("Anthropic", 777)
    for provider in providers.values():
        await provider.aclose()


async def test_every_page_of_models_is_listed(claude, fake_anthropic):
    """The API gives 20 models a page unless asked for more; the list follows `after_id` to the last page."""
    fake_anthropic.models = [f"claude-test-{n:02d}" for n in range(45)]
    assert await claude.list_models() == fake_anthropic.models


def test_the_listing_sends_the_api_version_the_sdk_sends():
    """The model list is fetched without the SDK (issue 28); its `anthropic-version` must follow the SDK's."""
    from anthropic._constants import ANTHROPIC_API_VERSION

    from providers.anthropic import API_VERSION

    assert API_VERSION == ANTHROPIC_API_VERSION


async def test_a_chat_opened_on_the_model_makes_the_sdk_client_before_the_first_message(claude, fake_anthropic):
    """The SDK's import (~1.9 s) runs while the person types, not after they press Enter (`ModelRegistry.warm`)."""
    registry = ModelRegistry({"anthropic": claude}, f"anthropic:{MODEL}")
    registry.warm("nowhere:model")  # a provider that is not configured: nothing to do, no error
    assert claude._client is None
    registry.warm(f"anthropic:{MODEL}")
    await until(lambda: claude._client is not None, what="the SDK client made in the background")
    made = claude._client
    fake_anthropic.then(Script(tokens=["8"]))
    texts, _ = await collect(claude.stream(HELLO, MODEL))
    assert "".join(texts) == "8"
    assert claude._client is made  # the reply used the client made in advance


async def test_embeddings_are_refused_plainly_without_a_request(claude, fake_anthropic):
    """Anthropic has no embeddings API: knowledge retrieval is told so (and stays on BM25), nothing is sent."""
    with pytest.raises(EmbeddingsUnsupported, match="Anthropic offers no embeddings"):
        await claude.embed("voyage-3", ["a passage"])
    assert fake_anthropic.requests == []
