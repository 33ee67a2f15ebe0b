"""A reply's tool steps as it streams: the calls the model made, their results, and the frames readers are sent.

Kept on the `Generation` beside its text. Each call records `at`, how many text deltas came before it, so that a
reader (a `/ws` socket, a page) can put the text and the steps in the order they happened, and so that the stored
parts (storage/PARTS.md) come out as text, calls, results, text, ...
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from storage.models import PartKind
from storage.parts import Part

SEPARATOR = "\n\n"
"""Published between the text before a tool step and the text after it: `messages.content` is the text parts joined
by a blank line (storage.parts.text_of), and the live text must read the same."""
INTERRUPTED = "The reply was stopped before this tool answered."

StepState = Literal["approval", "running", "done", "interrupted"]


@dataclass(eq=False)
class ToolStep:
    """One call: `name` is the tool's id (`server:tool`; what the model wrote when it named no known tool)."""

    call_id: str
    name: str
    arguments: Mapping[str, Any]
    at: int
    turn: int = 0
    """Which of the model's turns made it (calls of one turn are stored together, then their results)."""
    state: StepState = "running"
    result: str | None = None
    is_error: bool = False
    seconds: float | None = None
    _began: float = field(default_factory=time.monotonic)

    def call_part(self) -> Part:
        return Part(PartKind.TOOL_CALL, call_id=self.call_id, data={"name": self.name, "arguments": self.arguments})

    def result_part(self) -> Part | None:
        if self.result is None:
            return None
        data: dict[str, Any] = {"name": self.name, "is_error": self.is_error}
        if self.seconds is not None:
            data["seconds"] = self.seconds
        if self.state == "interrupted":
            data["interrupted"] = True
        return Part(PartKind.TOOL_RESULT, text=self.result, call_id=self.call_id, data=data)


@dataclass
class ToolEvent:
    """A frame for readers, in order: after `at` text deltas. `frame` lacks the reply's `message_id`."""

    at: int
    frame: dict[str, Any]
    seconds: float | None = None
    """How long the call took, on a `tool_result`: carried to the other instances beside the frame (whose fields are
    the `/ws` contract and stay as they are), so that a page there shows the same duration as one here."""


def reply_parts(
    prefix: str, chunks: Sequence[str], separators: set[int], steps: Sequence[ToolStep], reasoning: Part | None
) -> list[Part]:
    """A reply's parts: its reasoning, then its text and tool steps in the order they came (PARTS.md)."""
    parts: list[Part] = [reasoning] if reasoning is not None else []
    start, head = 0, prefix
    groups: dict[tuple[int, int], list[ToolStep]] = {}
    for step in steps:
        if step.at <= len(chunks):
            groups.setdefault((step.at, step.turn), []).append(step)
    for (at, _), group in groups.items():
        text = head + "".join(chunk for i, chunk in enumerate(chunks[start:at], start) if i not in separators)
        if text:
            parts.append(Part.of_text(text))
        parts.extend(step.call_part() for step in group)
        parts.extend(part for step in group if (part := step.result_part()) is not None)
        start, head = at, ""
    text = head + "".join(chunk for i, chunk in enumerate(chunks[start:], start) if i not in separators)
    if text or not parts:
        parts.append(Part.of_text(text))
    return parts
