"""Function calling, provider-neutral: the tools a model is offered, the calls it streams, and the turns that carry
calls and their results back to it.

How a provider yields tool calls (every adapter alike; the wire details are in each one's module docstring):

1. The caller offers tools in `GenerationParams.tools` (`ToolSpec`s: a name, a description, a JSON schema of the
   arguments). No tools, nothing of this is sent.
2. While the reply streams, each call the model makes shows as `ToolCallDelta`s: the call's `index` in the turn (0,
   1, ... for several calls in one turn), its `call_id` and `name` (on every delta), and the next `arguments`
   fragment of its JSON text. OpenAI and Anthropic send the arguments in fragments; Ollama sends each call whole, so
   there it is one delta with all of it.
3. Once a call's arguments are complete, one `ToolCall` with the arguments parsed (a JSON object), in `index` order,
   after any text of the turn and before the final `Usage`. A model that wrote arguments that are not a JSON object
   still gets its `ToolCall`, with `arguments_error` saying so (and `arguments` empty): the caller answers it with an
   error result the model can read, instead of failing the reply.
4. The caller runs the calls and asks again with the conversation so far plus two more messages: the assistant's
   turn (`ChatMessage("assistant", [ReasoningPart?, TextPart?, ToolCallPart, ...])`) and the results
   (`ChatMessage("tool", [ToolResultPart, ...])`, one part per call, matched by `call_id`). Each adapter writes them
   the way its API wants: OpenAI `tool_calls` + one `tool` message per result (`tool_call_id`), Anthropic `tool_use`
   blocks + `tool_result` blocks in the next user turn, Ollama `tool_calls` + one `tool` message per result
   (`tool_name`).
5. `ReasoningPart` is sent back only where the API requires it: Anthropic, when thinking is on, wants the signed
   thinking block that came before the `tool_use` blocks at the start of that assistant turn. Others drop it.

Tool names must match `^[A-Za-z0-9_-]{1,64}$` (OpenAI's and Anthropic's rule): a caller whose own ids hold other
characters (`server:tool`) maps them to such a name and back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
"""What OpenAI (`tools[].function.name`) and Anthropic (`tools[].name`) accept as a tool's name."""


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool the model may call: `parameters` is the JSON schema of its arguments (an `object` schema)."""

    name: str
    description: str
    parameters: Mapping[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A piece of a call as it streams: `arguments` is the next fragment of its JSON text (maybe empty)."""

    index: int
    call_id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A call the model made, complete: its arguments parsed. `arguments_error` when they were not a JSON object
    (`arguments` is then empty and `raw_arguments` holds what the model wrote)."""

    index: int
    call_id: str
    name: str
    arguments: Mapping[str, Any]
    raw_arguments: str = ""
    arguments_error: str | None = None


@dataclass(frozen=True, slots=True)
class ToolCallPart:
    """In an assistant turn: a call it made, to be sent back before the call's result."""

    call_id: str
    name: str
    arguments: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ToolResultPart:
    """In a `tool` turn: what a call returned (untrusted text), or why it failed (`is_error`)."""

    call_id: str
    name: str
    content: str
    is_error: bool = False


@dataclass(frozen=True, slots=True)
class ReasoningPart:
    """In an assistant turn: the model's reasoning with Anthropic's `signature`, which its API wants back before the
    turn's `tool_use` blocks when thinking is on. Every other API is never sent reasoning."""

    text: str
    signature: str


def parsed_call(index: int, call_id: str, name: str, raw: str) -> ToolCall:
    """The call with its JSON text parsed: blank is no arguments; anything but an object is `arguments_error`."""
    if not raw.strip():
        return ToolCall(index, call_id, name, {}, raw)
    try:
        arguments = json.loads(raw)
    except json.JSONDecodeError as exc:
        return ToolCall(index, call_id, name, {}, raw, f"the arguments are not JSON ({exc.msg})")
    if not isinstance(arguments, dict):
        return ToolCall(index, call_id, name, {}, raw, "the arguments are not a JSON object")
    return ToolCall(index, call_id, name, arguments, raw)


class StreamedCalls:
    """The calls of one streamed turn, assembled from their fragments (OpenAI's `tool_calls` deltas by `index`,
    Anthropic's `tool_use` blocks by content block index): `delta` as each fragment comes, `calls` at the end."""

    __slots__ = ("_calls",)

    def __init__(self) -> None:
        self._calls: dict[int, tuple[str, str, list[str]]] = {}
        """By the wire's index: the call's id, its name, and its argument fragments so far."""

    def __len__(self) -> int:
        return len(self._calls)

    def delta(self, key: int, call_id: str | None, name: str | None, fragment: str) -> ToolCallDelta:
        """A fragment of the call at `key` (its id and name on the first one; later ones may leave them out)."""
        known = self._calls.get(key)
        if known is None:
            known = (call_id or f"call_{key}", name or "", [])
            self._calls[key] = known
        elif (call_id and not known[0]) or (name and not known[1]):
            known = (known[0] or call_id or "", known[1] or name or "", known[2])
            self._calls[key] = known
        if fragment:
            known[2].append(fragment)
        return ToolCallDelta(list(self._calls).index(key), known[0], known[1], fragment)

    def calls(self) -> list[ToolCall]:
        """Every call, in the order they began, its arguments parsed."""
        return [
            parsed_call(index, call_id, name, "".join(fragments))
            for index, (call_id, name, fragments) in enumerate(self._calls.values())
        ]


def error_text(result: ToolResultPart) -> str:
    """A result's text for an API that has no error flag (OpenAI, Ollama): a failure says it is one."""
    return f"Error: {result.content}" if result.is_error else result.content
