"""Max tokens, top-p and seed reach each provider under its own wire name, and each provider's way of saying "the
reply stopped at the token limit" comes back as `Usage.cut_off` (issue 29: chat settings; Continue)."""

from __future__ import annotations

from providers import ChatMessage, GenerationParams
from providers.anthropic import AnthropicProvider
from providers.local import _request
from providers.ollama import OllamaProvider
from providers.openai_compat import OpenAIProvider
from testing.fakes.anthropic import FakeAnthropic
from testing.fakes.openai import FakeOpenAI
from testing.fakes.server import Script, ScriptedProvider
from tests.providers.helpers import collect

HI = [ChatMessage("user", "hi")]
SETTINGS = GenerationParams(temperature=0.4, max_tokens=77, top_p=0.9, seed=42)


async def test_ollama_takes_them_as_options_num_predict_top_p_seed(fake_ollama: ScriptedProvider) -> None:
    fake_ollama.then(Script(tokens=["a", "b"], cut_off=True), Script(tokens=["c"]))
    provider = OllamaProvider(fake_ollama.url)  # type: ignore[attr-defined]
    try:
        _, cut = await collect(provider.stream(HI, "llama3.2:3b", SETTINGS))
        _, whole = await collect(provider.stream(HI, "llama3.2:3b"))
    finally:
        await provider.aclose()
    assert fake_ollama.requests[0]["options"] == {"temperature": 0.4, "num_predict": 77, "top_p": 0.9, "seed": 42}
    assert "options" not in fake_ollama.requests[1]  # nothing set: Ollama's own defaults
    assert [u.cut_off for u in cut + whole] == [True, False]  # `done_reason: "length"`, then `"stop"`


async def test_an_openai_compatible_server_takes_max_tokens_top_p_seed(fake_openai: FakeOpenAI) -> None:
    fake_openai.then(Script(tokens=["a"], cut_off=True))
    provider = OpenAIProvider(None, f"{fake_openai.url}/v1")  # type: ignore[attr-defined]
    try:
        _, usages = await collect(provider.stream(HI, "gpt-4o-mini", SETTINGS))
    finally:
        await provider.aclose()
    sent = fake_openai.requests[0]
    assert (sent["temperature"], sent["max_tokens"], sent["top_p"], sent["seed"]) == (0.4, 77, 0.9, 42)
    assert usages[0].cut_off  # `finish_reason: "length"`


async def test_anthropic_takes_max_tokens_and_top_p_and_is_sent_no_seed(fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.then(Script(tokens=["a"], cut_off=True), Script(tokens=["b"]))
    provider = AnthropicProvider("key", fake_anthropic.url, max_tokens=4096)  # type: ignore[attr-defined]
    try:
        _, cut = await collect(provider.stream(HI, "claude-sonnet-4-5", SETTINGS))
        _, whole = await collect(provider.stream(HI, "claude-sonnet-4-5", GenerationParams(top_p=0.5)))
    finally:
        await provider.aclose()
    sent = fake_anthropic.requests[0]
    assert (sent["max_tokens"], sent["temperature"], sent["top_p"]) == (77, 0.4, 0.9)
    assert "seed" not in sent  # the Messages API has none
    second = fake_anthropic.requests[1]
    assert (second["max_tokens"], second["top_p"]) == (4096, 0.5) and "temperature" not in second
    assert [u.cut_off for u in cut + whole] == [True, False]  # `stop_reason: "max_tokens"`, then `"end_turn"`


def test_the_local_model_is_asked_with_the_system_prompt_and_the_settings() -> None:
    """llama.cpp's request (the model itself runs only with the `local` extra: `-m local`); the system prompt was
    left out before issue 29."""
    request = _request(HI, GenerationParams(system="Be brief.", max_tokens=9, top_p=0.5, seed=3))
    assert request["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    assert (request["max_tokens"], request["top_p"], request["seed"]) == (9, 0.5, 3)
    assert "temperature" not in request
