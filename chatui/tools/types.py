"""What the tools package hands out: a tool's description, a server's state, a call's outcome, a chat's selection."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Approval = Literal["never", "always"]
BUILTIN_SERVER = "chatui"
"""The name chatui's own tools are listed under (`chatui:current_time`); no configured server may take it."""
NAME = re.compile(r"^[A-Za-z0-9_-]{1,48}$")
TOOL_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MAX_SELECTION = 100


@dataclass(frozen=True)
class ToolInfo:
    """One tool: `server:name` is its id in a chat's selection and in the API."""

    server: str
    name: str
    description: str
    input_schema: dict[str, Any]
    approval: Approval

    @property
    def id(self) -> str:
        return f"{self.server}:{self.name}"


@dataclass(frozen=True)
class ServerInfo:
    """A server as `GET /api/tools` and the admin page show it: never its URL's secrets, headers or environment."""

    name: str
    transport: Literal["builtin", "http", "stdio"]
    approval: Approval
    available: bool
    tools: list[ToolInfo] = field(default_factory=list)
    error: str | None = None
    """Why it is unavailable, in words free of secrets (the kind of failure, not the server's own text)."""


@dataclass(frozen=True)
class ToolOutcome:
    """What a call returned, as the model will read it: text (capped), and whether it is an error."""

    content: str
    is_error: bool = False


@dataclass(frozen=True)
class ToolLimits:
    """Bounds of every call: its time, the text kept of its output, how long a server may take to connect."""

    call_seconds: float = 30.0
    output_max_chars: int = 20_000
    connect_seconds: float = 5.0
    refresh_seconds: float = 60.0
    retry_max_seconds: float = 30.0


def capped(text: str, max_chars: int) -> str:
    """`text`, cut to `max_chars` with a line saying so: a tool's output is untrusted and may be any size."""
    if len(text) <= max_chars:
        return text
    return f"{text[:max_chars]}\n[output cut: {len(text):,} characters, the first {max_chars:,} kept]"


def parse_selection(entries: Iterable[str]) -> list[str]:
    """A chat's tool selection, checked: `server:tool` or `server:*`, each once, in the order given.

    Raises ValueError naming the first entry that is not one. Servers or tools not configured (now) are kept: a
    server that is down, or removed and added back, keeps the chats that chose it.
    """
    chosen: list[str] = []
    for entry in entries:
        server, sep, tool = entry.partition(":")
        if not sep or not NAME.match(server) or not (tool == "*" or TOOL_NAME.match(tool)):
            raise ValueError(f"not a tool: {entry[:80]!r} (use 'server:tool' or 'server:*')")
        if entry not in chosen:
            chosen.append(entry)
    if len(chosen) > MAX_SELECTION:
        raise ValueError(f"at most {MAX_SELECTION} tools")
    return chosen


def selected(tool: ToolInfo, selection: Iterable[str]) -> bool:
    return any(entry in (tool.id, f"{tool.server}:*") for entry in selection)
