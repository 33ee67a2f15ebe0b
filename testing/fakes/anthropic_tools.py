"""What Anthropic's Messages API refuses about tools and thinking blocks, in its own words (400,
`invalid_request_error`), and the blocks a scripted reply's tool calls stream as.

From the tool use and extended thinking guides and the errors the API answers: `tools[].name` must match
`^[a-zA-Z0-9_-]{1,128}$` and each tool needs an `input_schema`; every `tool_use` block of an assistant turn must be
answered by a `tool_result` block in the very next (user) turn, and a `tool_result` must answer a `tool_use` of the
turn before it; with thinking on, the assistant turn of the last tool use must open with a thinking block, whose
`signature` must be one the API issued.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any

from testing.fakes.server import ScriptedCall

NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
TOOL_BLOCKS = ("tool_use", "tool_result", "thinking", "redacted_thinking")
THINKING_DOCS = "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"


def invalid_tools(body: dict[str, Any], signatures: set[str]) -> str | None:
    """The message the API answers a request with badly offered tools or unpaired blocks, or None."""
    for index, tool in enumerate(body.get("tools") or []):
        if not isinstance(tool, dict) or not NAME.match(str(tool.get("name", ""))):
            return f"tools.{index}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'"
        if not isinstance(tool.get("input_schema"), dict):
            return f"tools.{index}.custom.input_schema: Field required"
    messages = body.get("messages") or []
    asked: list[str] = []
    for index, message in enumerate(messages):
        blocks = [b for b in message.get("content") or [] if isinstance(b, dict)]
        if not isinstance(message.get("content"), list):
            blocks = []
        answered = [(p, b.get("tool_use_id")) for p, b in enumerate(blocks) if b.get("type") == "tool_result"]
        for position, call_id in answered:
            if call_id not in asked:
                return (
                    f"messages.{index}.content.{position}: unexpected `tool_use_id` found in `tool_result` blocks: "
                    f"{call_id}. Each `tool_result` block must have a corresponding `tool_use` block in the previous "
                    "message."
                )
        missing = [call_id for call_id in asked if call_id not in {c for _, c in answered}]
        if missing:
            return (
                f"messages.{index - 1}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                f"{', '.join(missing)}. Each `tool_use` block must have a corresponding `tool_result` block in the "
                "next message."
            )
        asked = (
            [str(b.get("id")) for b in blocks if b.get("type") == "tool_use"] if message["role"] == "assistant" else []
        )
        for position, block in enumerate(blocks):
            if block.get("type") == "thinking" and block.get("signature") not in signatures:
                return f"messages.{index}.content.{position}: Invalid `signature` in `thinking` block"
    if asked:
        return (
            f"messages.{len(messages) - 1}: `tool_use` ids were found without `tool_result` blocks immediately after: "
            f"{', '.join(asked)}. Each `tool_use` block must have a corresponding `tool_result` block in the next "
            "message."
        )
    return _thinking_missing(body)


def _thinking_missing(body: dict[str, Any]) -> str | None:
    """With thinking on, the last assistant turn that used tools (when results follow it) must open with thinking."""
    thinking = body.get("thinking")
    if not (isinstance(thinking, dict) and thinking.get("type") == "enabled"):
        return None
    messages = body.get("messages") or []
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        content = message.get("content")
        if message["role"] != "assistant" or not isinstance(content, list):
            continue
        if not any(isinstance(b, dict) and b.get("type") == "tool_use" for b in content):
            return None
        first = content[0].get("type") if content and isinstance(content[0], dict) else None
        if first in ("thinking", "redacted_thinking"):
            return None
        return (
            f"messages.{index}.content.0.type: Expected `thinking` or `redacted_thinking`, but found `{first}`. When "
            "`thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the "
            "lastmost set of `tool_use` and `tool_result` blocks). We recommend you include thinking blocks from "
            f"previous turns. To avoid this requirement, disable `thinking`. Please consult our documentation at "
            f"{THINKING_DOCS}"
        )
    return None


def tool_use_events(calls: list[ScriptedCall], first_index: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """The events of the calls' `tool_use` blocks, from content block `first_index` on: each block's start (empty
    input), an empty `input_json_delta` then the JSON in fragments, its stop."""
    for offset, call in enumerate(calls):
        index = first_index + offset
        block = {"type": "tool_use", "id": call.id or f"toolu_{secrets.token_hex(12)}", "name": call.name, "input": {}}
        yield "content_block_start", {"type": "content_block_start", "index": index, "content_block": block}
        for fragment in ["", *call.fragments()]:
            delta = {"type": "input_json_delta", "partial_json": fragment}
            yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
