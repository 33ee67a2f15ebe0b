"""Reasoning from each wire format, through the real clients against the wire-exact fakes (issue 24).

Every adapter yields the model's reasoning as `ReasoningDelta`s apart from the answer's `TextDelta`s; the request
asks for thinking in each API's own terms (Ollama's `think`, OpenAI's `reasoning_effort`, Anthropic's
`thinking.budget_tokens`), and only where the model can think (Ollama refuses `think` for the others).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

import pytest

from providers import ChatMessage, GenerationParams, ReasoningDelta, StreamEvent, TextDelta, Usage
from providers.anthropic import AnthropicProvider
from providers.ollama import OllamaProvider
from providers.openai_compat import OpenAIProvider
from providers.thinking import InlineThinking
from testing.fakes.anthropic import FakeAnthropic
from testing.fakes.ollama import FakeOllama
from testing.fakes.openai import FakeOpenAI
from testing.fakes.server import Script

HELLO = [ChatMessage("user", "Is 1,001 prime?")]
THOUGHTS = ["1,001 = 7", " × 11 × 13,", " so no."]
ANSWER = ["No", ": 7 × 11 × 13."]


async def split(events: AsyncIterable[StreamEvent]) -> tuple[list[str], list[str], list[str]]:
    """The reasoning deltas, the text deltas and the signatures, each in order; reasoning must all come first."""
    reasoning: list[str] = []
    texts: list[str] = []
    signatures: list[str] = []
    async for event in events:
        if isinstance(event, ReasoningDelta):
            assert not texts, "reasoning after the answer began"
            if event.signature is not None:
                signatures.append(event.signature)
            if event.text:
                reasoning.append(event.text)
        elif isinstance(event, TextDelta):
            texts.append(event.text)
        else:
            assert isinstance(event, Usage)
    return reasoning, texts, signatures


def inline(pieces: list[str]) -> tuple[str, str]:
    """The reasoning and the text that `InlineThinking` makes of content streamed as `pieces`."""
    splitter = InlineThinking()
    events = [event for piece in pieces for event in splitter.feed(piece)] + splitter.close()
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    return reasoning, text


# -- a leading <think> in the content -------------------------------------------------------------------------------


def test_inline_think_is_split_off_at_every_chunk_boundary() -> None:
    content = "\n<think>\nWeigh 7 × 11 × 13.\n</think>\n\nNo, it is 7 × 11 × 13."
    for i in range(len(content) + 1):
        for j in range(i, len(content) + 1):
            assert inline([content[:i], content[i:j], content[j:]]) == (
                "Weigh 7 × 11 × 13.\n",
                "No, it is 7 × 11 × 13.",
            ), (i, j)


def test_inline_think_token_by_token() -> None:
    content = "<think>a<b</think>c"
    assert inline(list(content)) == ("a<b", "c")


def test_content_without_a_leading_think_is_all_text() -> None:
    assert inline(["Use ", "<think>", " in HTML"]) == ("", "Use <think> in HTML")
    assert inline(["  <th", "ink", "ing>"]) == ("", "  <thinking>")
    assert inline(["<", "b>bold</b>"]) == ("", "<b>bold</b>")
    assert inline(["\n", " "]) == ("", "\n ")


def test_an_unclosed_think_is_reasoning() -> None:
    assert inline(["<think>still thinking when it was cut", " short</"]) == (
        "still thinking when it was cut short</",
        "",
    )


# -- Ollama ---------------------------------------------------------------------------------------------------------


@pytest.fixture
async def ollama(fake_ollama: FakeOllama) -> AsyncIterator[OllamaProvider]:
    provider = OllamaProvider(fake_ollama.url, read_timeout=2)  # type: ignore[attr-defined]
    yield provider
    await provider.aclose()


async def test_ollama_streams_message_thinking_as_reasoning(ollama: OllamaProvider, fake_ollama: FakeOllama) -> None:
    fake_ollama.models = ["qwen3:4b"]
    fake_ollama.thinking_models = {"qwen3:4b": [False, True]}
    fake_ollama.then(Script(thinking=THOUGHTS, tokens=ANSWER))
    params = GenerationParams(reasoning_effort="medium")
    assert await split(ollama.stream(HELLO, "qwen3:4b", params)) == (THOUGHTS, ANSWER, [])
    assert fake_ollama.requests[0]["think"] is True  # a model without levels takes true/false


async def test_ollama_sends_the_level_to_a_model_that_takes_levels(
    ollama: OllamaProvider, fake_ollama: FakeOllama
) -> None:
    fake_ollama.models = ["gpt-oss:20b"]
    fake_ollama.thinking_models = {"gpt-oss:20b": ["low", "medium", "high"]}
    fake_ollama.then(Script(thinking=THOUGHTS, tokens=ANSWER))
    await split(ollama.stream(HELLO, "gpt-oss:20b", GenerationParams(reasoning_effort="high")))
    assert fake_ollama.requests[0]["think"] == "high"
    assert await ollama.can_think("gpt-oss:20b")


async def test_ollama_never_sends_think_to_a_model_that_cannot(ollama: OllamaProvider, fake_ollama: FakeOllama) -> None:
    """Ollama refuses `think` for such a model with a 400: the effort is dropped, and the reply comes."""
    assert not await ollama.can_think("llama3.2:3b")
    fake_ollama.then(Script(tokens=ANSWER))
    assert await split(ollama.stream(HELLO, "llama3.2:3b", GenerationParams(reasoning_effort="low"))) == (
        [],
        ANSWER,
        [],
    )
    assert "think" not in fake_ollama.requests[0]


async def test_ollama_without_an_effort_sends_no_think(ollama: OllamaProvider, fake_ollama: FakeOllama) -> None:
    """No effort: the model's own default (a thinking model still thinks, and it is still shown as reasoning)."""
    fake_ollama.thinking_models = {"llama3.2:3b": [False, True]}
    fake_ollama.then(Script(thinking=THOUGHTS, tokens=ANSWER))
    assert await split(ollama.stream(HELLO, "llama3.2:3b")) == (THOUGHTS, ANSWER, [])
    assert "think" not in fake_ollama.requests[0]


async def test_ollama_inline_think_in_content_is_reasoning(ollama: OllamaProvider, fake_ollama: FakeOllama) -> None:
    fake_ollama.then(Script(tokens=["<th", "ink>7 × 11", " × 13</thi", "nk>\n\n", "No."]))
    assert await split(ollama.stream(HELLO, "llama3.2:3b")) == (["7 × 11", " × 13"], ["No."], [])


# -- OpenAI-compatible ----------------------------------------------------------------------------------------------


@pytest.fixture
async def openai(fake_openai: FakeOpenAI) -> AsyncIterator[OpenAIProvider]:
    provider = OpenAIProvider(None, f"{fake_openai.url}/v1", read_timeout=2)  # type: ignore[attr-defined]
    yield provider
    await provider.aclose()


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
async def test_openai_compatible_reasoning_deltas(openai: OpenAIProvider, fake_openai: FakeOpenAI, field: str) -> None:
    fake_openai.reasoning_field = field
    fake_openai.then(Script(thinking=THOUGHTS, tokens=ANSWER))
    params = GenerationParams(reasoning_effort="low")
    assert await split(openai.stream(HELLO, "gpt-4o-mini", params)) == (THOUGHTS, ANSWER, [])
    assert fake_openai.requests[0]["reasoning_effort"] == "low"


async def test_openai_compatible_inline_think_split_across_chunks(
    openai: OpenAIProvider, fake_openai: FakeOpenAI
) -> None:
    fake_openai.then(Script(tokens=["<", "think>", "7 × 11 × 13", "</", "think>", "\n\nNo", "."]))
    reasoning, texts, _ = await split(openai.stream(HELLO, "gpt-4o-mini"))
    assert "".join(reasoning) == "7 × 11 × 13" and "".join(texts) == "No."
    assert "reasoning_effort" not in fake_openai.requests[0]


# -- Anthropic ------------------------------------------------------------------------------------------------------


@pytest.fixture
async def anthropic(fake_anthropic: FakeAnthropic) -> AsyncIterator[AnthropicProvider]:
    provider = AnthropicProvider(None, fake_anthropic.url, max_tokens=4096, read_timeout=2)  # type: ignore[attr-defined]
    yield provider
    await provider.aclose()


@pytest.mark.parametrize(("effort", "budget"), [("low", 1024), ("medium", 4096), ("high", 16384)])
async def test_anthropic_extended_thinking_with_its_signature(
    anthropic: AnthropicProvider, fake_anthropic: FakeAnthropic, effort: str, budget: int
) -> None:
    fake_anthropic.then(Script(thinking=THOUGHTS, tokens=ANSWER, signature="EqQBCgIYAhIMsig"))
    params = GenerationParams(reasoning_effort=effort, temperature=0.3)  # type: ignore[arg-type]
    assert await split(anthropic.stream(HELLO, "claude-haiku-4-5", params)) == (THOUGHTS, ANSWER, ["EqQBCgIYAhIMsig"])
    sent = fake_anthropic.requests[0]
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": budget}
    assert sent["max_tokens"] == 4096 + budget  # the answer keeps its room
    assert "temperature" not in sent  # the API refuses a temperature with thinking


async def test_anthropic_without_an_effort_asks_for_no_thinking(
    anthropic: AnthropicProvider, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.then(Script(tokens=ANSWER))
    assert await split(anthropic.stream(HELLO, "claude-haiku-4-5", GenerationParams(temperature=0.3))) == (
        [],
        ANSWER,
        [],
    )
    sent = fake_anthropic.requests[0]
    assert "thinking" not in sent and sent["temperature"] == 0.3 and sent["max_tokens"] == 4096


async def test_which_models_can_think(openai: OpenAIProvider, anthropic: AnthropicProvider) -> None:
    """Where the Think control shows: a compatible server's models (it ignores what it does not know), official
    OpenAI's reasoning models only (the others refuse `reasoning_effort`), Claude from 3.7 on."""
    assert await openai.can_think("qwen3-32b")
    official = OpenAIProvider("sk-test")
    try:
        assert await official.can_think("o4-mini") and await official.can_think("gpt-5")
        assert not await official.can_think("gpt-4o-mini")
    finally:
        await official.aclose()
    assert await anthropic.can_think("claude-sonnet-4-5") and await anthropic.can_think("claude-3-7-sonnet-latest")
    assert not await anthropic.can_think("claude-3-5-haiku-latest")
