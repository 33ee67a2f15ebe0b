"""Function calling in the three wire formats, through the real clients against the wire-exact fakes (issue 24).

Each adapter offers `GenerationParams.tools` in its API's shape, yields the calls the model streams as
`ToolCallDelta`s (fragments where the wire fragments) and then whole `ToolCall`s, and sends the calls and their
results back the way its API wants them; the fakes refuse what each API refuses (a result without its call, a call
without its result, Anthropic's thinking left out before a tool use) with that API's error.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Callable

import pytest

from providers import (
    ChatMessage,
    GenerationParams,
    Provider,
    ReasoningDelta,
    ReasoningPart,
    StreamEvent,
    TextDelta,
    TextPart,
    ToolCall,
    ToolCallDelta,
    ToolCallPart,
    ToolResultPart,
    ToolSpec,
    Usage,
)
from providers.anthropic import AnthropicProvider
from providers.errors import ProviderBadRequest
from providers.ollama import OllamaProvider
from providers.openai_compat import OpenAIProvider
from testing.fakes.server import Script, ScriptedCall, ScriptedProvider

WEATHER = ToolSpec(
    "get_weather",
    "The weather now in a city",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
TIME = ToolSpec("current_time", "The time now")
ASK = [ChatMessage("user", "Weather in Paris and Tokyo?")]
CALLS = [ScriptedCall("get_weather", {"city": "Paris"}), ScriptedCall("get_weather", {"city": "Tokyo, Japan"})]
TOOLS = GenerationParams(tools=(WEATHER, TIME))

PROVIDERS = ["ollama", "openai", "anthropic"]


@pytest.fixture
async def wire(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[Provider, ScriptedProvider, str]]:
    """One provider (by the test's `kind`), its fake, and a model the fake serves."""
    kind = request.param
    fake: ScriptedProvider = request.getfixturevalue(f"fake_{kind}")
    url = fake.url  # type: ignore[attr-defined]
    makers: dict[str, Callable[[], tuple[Provider, str]]] = {
        "ollama": lambda: (OllamaProvider(url), "llama3.2:3b"),
        "openai": lambda: (OpenAIProvider(None, f"{url}/v1"), "gpt-4o-mini"),
        "anthropic": lambda: (AnthropicProvider("key", url), "claude-sonnet-4-5"),
    }
    provider, model = makers[kind]()
    try:
        yield provider, fake, model
    finally:
        await provider.aclose()


async def events_of(stream: AsyncIterable[StreamEvent]) -> list[StreamEvent]:
    return [event async for event in stream]


def offered(kind: str, request: dict) -> list[str]:
    """The names of the tools a request offers, read from each API's shape."""
    if kind == "anthropic":
        assert all(set(t) == {"name", "description", "input_schema"} for t in request["tools"])
        return [t["name"] for t in request["tools"]]
    assert all(t["type"] == "function" and "parameters" in t["function"] for t in request["tools"])
    return [t["function"]["name"] for t in request["tools"]]


@pytest.mark.parametrize("wire", PROVIDERS, indirect=True)
async def test_two_calls_in_one_turn_stream_as_deltas_then_whole_calls(wire) -> None:
    provider, fake, model = wire
    fake.then(Script(tokens=["Let me look."], tool_calls=CALLS))
    events = await events_of(provider.stream(ASK, model, TOOLS))
    kind = provider.name
    assert offered(kind, fake.requests[-1]) == ["get_weather", "current_time"]
    assert isinstance(events[-1], Usage) and not events[-1].cut_off  # a turn that calls tools is not cut off
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert text == "Let me look."
    deltas = [e for e in events if isinstance(e, ToolCallDelta)]
    calls = [e for e in events if isinstance(e, ToolCall)]
    assert [(c.index, c.name, dict(c.arguments)) for c in calls] == [
        (0, "get_weather", {"city": "Paris"}),
        (1, "get_weather", {"city": "Tokyo, Japan"}),
    ]
    assert len({c.call_id for c in calls}) == 2 and all(c.call_id and c.arguments_error is None for c in calls)
    for call in calls:  # the fragments of each call add up to its arguments, under its id and name
        mine = [d for d in deltas if d.index == call.index]
        assert {(d.call_id, d.name) for d in mine} == {(call.call_id, call.name)}
        assert json.loads("".join(d.arguments for d in mine)) == call.arguments
    if kind != "ollama":  # OpenAI and Anthropic cut the arguments into fragments; Ollama sends each call whole
        assert len(deltas) > 4
    first_call = events.index(calls[0])
    assert all(isinstance(e, Usage) for e in events[first_call + 2 :])  # the calls come last, then the usage


def answered(kind: str) -> list[ChatMessage]:
    """The conversation after the model called the tool once: its turn, and the result."""
    call_id = "toolu_01A09q90qw90lq917835lq9" if kind == "anthropic" else "call_abc123"
    return [
        *ASK,
        ChatMessage("assistant", [TextPart("Let me look."), ToolCallPart(call_id, "get_weather", {"city": "Paris"})]),
        ChatMessage("tool", [ToolResultPart(call_id, "get_weather", "18 °C, light rain")]),
    ]


@pytest.mark.parametrize("wire", PROVIDERS, indirect=True)
async def test_the_call_and_its_result_go_back_in_each_apis_shape(wire) -> None:
    provider, fake, model = wire
    kind = provider.name
    fake.then(Script(tokens=["Paris: 18 °C and rain."]))
    events = await events_of(provider.stream(answered(kind), model, TOOLS))
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Paris: 18 °C and rain."
    sent = fake.requests[-1]["messages"]
    if kind == "openai":
        assert sent[1] == {
            "role": "assistant",
            "content": "Let me look.",
            "tool_calls": [
                {
                    "id": "call_abc123",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        }
        assert sent[2] == {"role": "tool", "tool_call_id": "call_abc123", "content": "18 °C, light rain"}
    elif kind == "anthropic":
        assert sent[1]["content"][1] == {
            "type": "tool_use",
            "id": "toolu_01A09q90qw90lq917835lq9",
            "name": "get_weather",
            "input": {"city": "Paris"},
        }
        assert sent[2] == {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01A09q90qw90lq917835lq9", "content": "18 °C, light rain"}
            ],
        }
    else:
        assert sent[1]["tool_calls"] == [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]
        assert sent[2] == {"role": "tool", "content": "18 °C, light rain", "tool_name": "get_weather"}


@pytest.mark.parametrize("wire", PROVIDERS, indirect=True)
async def test_a_result_without_its_call_is_refused_in_the_providers_words(wire) -> None:
    provider, _fake, model = wire
    kind = provider.name
    history = answered(kind)
    stray = ChatMessage("tool", [ToolResultPart("call_nobody_made", "current_time", "12:00")])
    history = [*history[:1], ChatMessage("assistant", "Hello."), stray, ChatMessage("user", "and?")]
    with pytest.raises(ProviderBadRequest) as refused:
        await events_of(provider.stream(history, model, TOOLS))
    words = {
        "openai": "messages with role 'tool' must be a response to a preceeding message with 'tool_calls'",
        "anthropic": "unexpected `tool_use_id` found in `tool_result` blocks: call_nobody_made",
        "ollama": "tool result for 'current_time' does not follow a call",
    }
    assert words[kind] in str(refused.value)


@pytest.mark.parametrize("wire", ["openai", "anthropic"], indirect=True)
async def test_a_call_left_without_its_result_is_refused(wire) -> None:
    provider, _fake, model = wire
    history = [*answered(provider.name)[:2], ChatMessage("user", "never mind")]
    with pytest.raises(ProviderBadRequest) as refused:
        await events_of(provider.stream(history, model, TOOLS))
    assert "did not have response messages" in str(refused.value) or "without `tool_result`" in str(refused.value)


@pytest.mark.parametrize("wire", ["anthropic"], indirect=True)
async def test_anthropic_with_thinking_gets_the_signed_block_back_before_the_tool_use(wire) -> None:
    provider, fake, model = wire
    fake.then(Script(thinking=["Two cities: two calls."], tokens=[], tool_calls=CALLS[:1]))
    thinking = GenerationParams(tools=(WEATHER,), reasoning_effort="low")
    events = await events_of(provider.stream(ASK, model, thinking))
    signature = next(e.signature for e in events if isinstance(e, ReasoningDelta) and e.signature)
    [call] = [e for e in events if isinstance(e, ToolCall)]
    turn = ChatMessage(
        "assistant",
        [ReasoningPart("Two cities: two calls.", signature), ToolCallPart(call.call_id, call.name, call.arguments)],
    )
    result = ChatMessage("tool", [ToolResultPart(call.call_id, call.name, "18 °C")])
    fake.then(Script(tokens=["18 °C in Paris."]))
    await events_of(provider.stream([*ASK, turn, result], model, thinking))
    sent = fake.requests[-1]["messages"][1]["content"]
    assert sent[0] == {"type": "thinking", "thinking": "Two cities: two calls.", "signature": signature}
    assert sent[1]["type"] == "tool_use"

    without = ChatMessage("assistant", [ToolCallPart(call.call_id, call.name, call.arguments)])
    with pytest.raises(ProviderBadRequest) as refused:
        await events_of(provider.stream([*ASK, without, result], model, thinking))
    assert "a final `assistant` message must start with a thinking block" in str(refused.value)
    await events_of(provider.stream([*ASK, turn, result], model, GenerationParams(tools=(WEATHER,))))
    assert fake.requests[-1]["messages"][1]["content"][0]["type"] == "tool_use"  # thinking off: never sent back


@pytest.mark.parametrize("wire", ["openai", "anthropic"], indirect=True)
async def test_arguments_that_are_not_a_json_object_are_a_call_with_an_arguments_error(wire) -> None:
    provider, fake, model = wire
    fake.then(Script(tokens=[], tool_calls=[ScriptedCall("get_weather", raw_arguments='{"city": "Par')]))
    events = await events_of(provider.stream(ASK, model, TOOLS))
    [call] = [e for e in events if isinstance(e, ToolCall)]
    assert call.arguments == {} and call.raw_arguments == '{"city": "Par'
    assert call.arguments_error is not None and "not JSON" in call.arguments_error


@pytest.mark.parametrize("wire", PROVIDERS, indirect=True)
async def test_no_tools_offered_sends_nothing_of_tools(wire) -> None:
    provider, fake, model = wire
    await events_of(provider.stream(ASK, model, GenerationParams()))
    assert "tools" not in fake.requests[-1]
