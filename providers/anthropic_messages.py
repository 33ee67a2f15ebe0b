"""Messages in Anthropic's format: turns that alternate, content blocks, and function calling.

- Offered as `tools: [{"name", "description", "input_schema"}]`.
- Streamed as content blocks after any text: `content_block_start` with `{"type": "tool_use", "id", "name",
  "input": {}}`, then `content_block_delta`s with `{"type": "input_json_delta", "partial_json"}` (the input's JSON
  text, cut anywhere), then `content_block_stop`; several calls are several blocks; the turn ends with
  `stop_reason: "tool_use"`.
- Sent back as the assistant turn's blocks (`text`, then `{"type": "tool_use", "id", "name", "input"}`), and the
  results as `{"type": "tool_result", "tool_use_id", "content", "is_error"}` blocks in the next user turn (before any
  text of it: the API wants every result of the previous turn's calls there).
- With thinking on, the API wants the assistant turn that made the calls to open with its signed thinking block
  (`{"type": "thinking", "thinking", "signature"}`, exactly as it came); otherwise thinking is never sent back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from providers.base import ChatMessage, ImagePart, TextPart
from providers.tools import ToolCallPart, ToolResultPart, ToolSpec


def wire_tools(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    return [{"name": t.name, "description": t.description, "input_schema": dict(t.parameters)} for t in tools]


def to_anthropic(messages: Sequence[ChatMessage], *, thinking: bool = False) -> tuple[str, list[dict[str, Any]]]:
    """The top-level system prompt, and turns that alternate and start with the user's (as the API requires).

    System messages are joined; consecutive turns of one role are merged (a `tool` turn is the user's: its results,
    then what the user said after); empty turns and empty text blocks are dropped (the API refuses empty text);
    assistant turns before the first user turn are dropped, as there is nothing they answer. A turn of text alone is
    a string; one with images or tool blocks, its blocks in order. `thinking`: the request thinks, so signed
    reasoning before tool calls is sent back.
    """
    system = "\n\n".join(m.content for m in messages if m.role == "system" and m.content.strip())
    turns: list[dict[str, Any]] = []
    for message in messages:
        blocks = _blocks(message, thinking=thinking)
        role = "user" if message.role == "tool" else message.role
        if role == "system" or not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"] = _joined(turns[-1]["content"], blocks)
        elif turns or role == "user":
            turns.append({"role": role, "content": _simplest(blocks)})
    return system, turns


def _blocks(message: ChatMessage, *, thinking: bool) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    calls = bool(message.tool_calls)
    for part in message.parts:
        if isinstance(part, ImagePart):
            source = {"type": "base64", "media_type": part.media_type, "data": part.base64()}
            blocks.append({"type": "image", "source": source})
        elif isinstance(part, TextPart):
            if part.text.strip():
                blocks.append({"type": "text", "text": part.text})
        elif isinstance(part, ToolCallPart):
            blocks.append({"type": "tool_use", "id": part.call_id, "name": part.name, "input": dict(part.arguments)})
        elif isinstance(part, ToolResultPart):
            blocks.append(_result(part))
        elif thinking and calls and part.signature:  # a ReasoningPart
            blocks.append({"type": "thinking", "thinking": part.text, "signature": part.signature})
    return blocks


def _result(part: ToolResultPart) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": part.call_id}
    if part.content:  # the API refuses an empty text, and takes a result without content
        block["content"] = part.content
    if part.is_error:
        block["is_error"] = True
    return block


def _simplest(blocks: list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    """Text alone as one string (what a message without images always was), else the blocks."""
    if all(block["type"] == "text" for block in blocks):
        return "\n\n".join(block["text"] for block in blocks)
    return blocks


def _joined(content: str | list[dict[str, Any]], blocks: list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    before = [{"type": "text", "text": content}] if isinstance(content, str) else content
    return _simplest(before + blocks)
