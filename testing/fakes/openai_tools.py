"""What OpenAI's chat completions refuse about tools, in its own words (400, `invalid_request_error`).

From the API reference and the errors it answers: `tools[].function.name` must match `^[a-zA-Z0-9_-]+$` (at most 64
characters); an assistant message's `tool_calls` must each be answered by a `tool` message (`tool_call_id`) before
any other message; a `tool` message must answer a call of the assistant message before it.
"""

from __future__ import annotations

import re
from typing import Any

NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def invalid_tools(body: dict[str, Any]) -> str | None:
    """The message OpenAI answers a request with badly offered tools or unpaired calls and results, or None."""
    for index, tool in enumerate(body.get("tools") or []):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(function, dict):
            return f"Missing required parameter: 'tools[{index}].function'."
        if not NAME.match(str(function.get("name", ""))):
            return (
                f"Invalid 'tools[{index}].function.name': string does not match pattern. Expected a string that "
                "matches the pattern '^[a-zA-Z0-9_-]+$'."
            )
    pending: list[str] = []
    for message in body.get("messages") or []:
        role = message.get("role")
        if role == "tool":
            call_id = message.get("tool_call_id")
            if call_id not in pending:
                return (
                    "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with "
                    "'tool_calls'."
                )
            pending.remove(call_id)
            continue
        if pending:
            return _unanswered(pending)
        if role == "assistant":
            pending = [str(call.get("id")) for call in message.get("tool_calls") or []]
    return _unanswered(pending) if pending else None


def _unanswered(pending: list[str]) -> str:
    return (
        "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. "
        f"The following tool_call_ids did not have response messages: {', '.join(pending)}"
    )
