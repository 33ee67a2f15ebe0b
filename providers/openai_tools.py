"""Function calling in OpenAI's chat completions format (and the compatible servers': llama.cpp, vLLM, Ollama's /v1).

- Offered as `tools: [{"type": "function", "function": {"name", "description", "parameters"}}]`.
- Streamed as `choices[0].delta.tool_calls`: a list of `{"index", "id"?, "type"?, "function": {"name"?,
  "arguments"?}}`. The first fragment of a call carries its `id` and `name` (and usually empty `arguments`); the
  following ones only `index` and the next piece of `arguments` (JSON text cut anywhere). Several calls in one turn
  have indexes 0, 1, ...; the turn ends with `finish_reason: "tool_calls"`.
- Sent back as the assistant message with `tool_calls: [{"id", "type": "function", "function": {"name",
  "arguments": "<JSON text>"}}]` (its `content` the turn's text, or null), then one `{"role": "tool",
  "tool_call_id", "content"}` message per result, in the calls' order. The API has no error flag on a result: a
  failed call's text says "Error: ...".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from providers.base import ChatMessage, ImagePart, TextPart
from providers.tools import StreamedCalls, ToolCallDelta, ToolSpec, error_text


def wire_tools(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {"name": t.name, "description": t.description, "parameters": dict(t.parameters)},
        }
        for t in tools
    ]


def wire_messages(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    """The messages as chat completions take them: a `tool` turn becomes one message per result."""
    wire: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "tool":
            wire.extend(
                {"role": "tool", "tool_call_id": r.call_id, "content": error_text(r)} for r in message.tool_results
            )
        elif calls := message.tool_calls:
            wire.append(
                {
                    "role": "assistant",
                    "content": message.content or None,
                    "tool_calls": [
                        {
                            "id": c.call_id,
                            "type": "function",
                            "function": {"name": c.name, "arguments": json.dumps(dict(c.arguments))},
                        }
                        for c in calls
                    ],
                }
            )
        else:
            wire.append(_message(message))
    return wire


def _message(message: ChatMessage) -> dict[str, Any]:
    """Text alone as a string; with images, its parts in order."""
    if not message.images:
        return {"role": message.role, "content": message.content}
    parts: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, ImagePart):
            parts.append({"type": "image_url", "image_url": {"url": part.data_url()}})
        elif isinstance(part, TextPart) and part.text:
            parts.append({"type": "text", "text": part.text})
    return {"role": message.role, "content": parts}


def call_deltas(delta: object, calls: StreamedCalls) -> list[ToolCallDelta]:
    """The `tool_calls` fragments of one streamed delta (the SDK's objects, or absent on servers without tools)."""
    out: list[ToolCallDelta] = []
    for fragment in getattr(delta, "tool_calls", None) or []:
        function = getattr(fragment, "function", None)
        index = getattr(fragment, "index", None)
        out.append(
            calls.delta(
                index if isinstance(index, int) else len(calls._calls),
                getattr(fragment, "id", None),
                getattr(function, "name", None),
                getattr(function, "arguments", None) or "",
            )
        )
    return out
