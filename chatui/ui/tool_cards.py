"""Tool-call cards inside a reply's bubble (issue 24): the tool's name, its arguments pretty-printed, how long it took,
its result folded under a `<details>`, and Allow / Deny while a call waits for the user's approval.

A tool's result is untrusted text (a web page, a file, another program's output): it is shown only as the text of a
label, never as HTML or Markdown, and cut to `SHOWN_CHARS` here (the model was sent at most the tool limit,
`CHATUI_TOOL_OUTPUT_MAX_CHARS`; a page need not carry all of that for every call). The same card is drawn live from
the reply's tool events (`chatui.ui.bubbles.AssistantBubble`) and from the stored parts after a reload, so the two
look alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from nicegui import ui

from chatui.engine.tool_loop import DENIED
from chatui.engine.tool_steps import INTERRUPTED
from storage.models import PartKind
from storage.parts import Part

SHOWN_CHARS = 4_000
"""How much of a result (or of the arguments) a card shows; the rest is counted, not sent to the page."""

Answer = Callable[[str, bool], bool]
"""(call id, allow) → whether a call was waiting under that id (`ConversationService.approve`)."""


def pretty(arguments: Mapping[str, Any]) -> str:
    """The arguments as indented JSON (non-ASCII kept readable), cut to `SHOWN_CHARS`."""
    text = json.dumps(arguments, indent=2, ensure_ascii=False, default=str)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "\n…"


def duration(seconds: float | None) -> str | None:
    """How long a call took, as a person reads it: "0.3 s", "12 s"; None when unknown (a denial, a stored import)."""
    if seconds is None:
        return None
    if seconds < 0.1:
        return "< 0.1 s"
    return f"{seconds:.1f} s" if seconds < 10 else f"{round(seconds)} s"


class ToolCard:
    """One call in the current container: head (name, state), arguments, then its result once it has one."""

    def __init__(self, call_id: str, name: str, arguments: Mapping[str, Any]) -> None:
        self.call_id = call_id
        self.done = False
        self._approval: ui.row | None = None
        with ui.element("div").classes("chatui-tool").mark("tool-card") as self.element:
            self.element.props(f'role=group aria-label="Tool call: {_attr(name)}"')
            with ui.row().classes("chatui-tool-head items-center gap-x-2 gap-y-0"):
                ui.icon("build").classes("chatui-tool-icon").props("aria-hidden=true")
                ui.label(name).classes("chatui-tool-name").mark("tool-name")
                self.state = ui.label("Running…").classes("chatui-tool-state").mark("tool-state")
            if arguments:
                ui.label(pretty(arguments)).classes("chatui-tool-pre chatui-tool-args").mark("tool-arguments")

    def ask(self, answer: Answer | None) -> None:
        """The call waits for the user: Allow / Deny under it (none on a page that cannot answer for the reply)."""
        if self.done or self._approval is not None:
            return
        self.state.text = "Waiting for your approval"
        self.element.classes(add="chatui-tool-waiting")
        if answer is None:
            return
        with self.element, ui.row().classes("chatui-tool-approval items-center gap-2") as self._approval:
            ui.label("Allow this call?").classes("text-sm")
            allow = ui.button("Allow", icon="check", on_click=lambda: self._answer(answer, True))
            allow.props("unelevated dense no-caps").classes("chatui-tool-allow").mark("tool-allow")
            deny = ui.button("Deny", icon="close", on_click=lambda: self._answer(answer, False))
            deny.props("outline dense no-caps").classes("chatui-tool-deny").mark("tool-deny")

    def _answer(self, answer: Answer, allow: bool) -> None:
        if self.done:
            return
        if not answer(self.call_id, allow):
            ui.notify("This call is no longer waiting for an answer.", type="info")
        self._drop_approval()
        self.state.text = "Running…" if allow else "Denied"

    def _drop_approval(self) -> None:
        self.element.classes(remove="chatui-tool-waiting")
        if self._approval is not None:
            self._approval.delete()
            self._approval = None

    def finish(self, content: str, *, is_error: bool, seconds: float | None, interrupted: bool = False) -> None:
        """The call's result: folded under its state (an error opened, so its reason is seen)."""
        if self.done:
            return
        self.done = True
        self._drop_approval()
        took = duration(seconds)
        if interrupted or content == INTERRUPTED:
            state = "Interrupted"
        elif content == DENIED:
            state = "Denied"
        elif is_error:
            state = f"Failed · {took}" if took else "Failed"
        else:
            state = took or "Done"
        self.state.text = state
        if is_error:
            self.element.classes(add="chatui-tool-failed")
        shown = content if len(content) <= SHOWN_CHARS else content[:SHOWN_CHARS]
        with self.element, ui.element("details").classes("chatui-tool-result").mark("tool-result") as details:
            with ui.element("summary").classes("chatui-tool-summary"):
                ui.label("Error" if is_error else "Result")
            ui.label(shown or "(no output)").classes("chatui-tool-pre").mark("tool-output")
            if len(content) > SHOWN_CHARS:
                ui.label(f"Showing {SHOWN_CHARS:,} of {len(content):,} characters.").classes("chatui-muted text-xs")
        if is_error:
            details.props("open")


def _attr(text: str) -> str:
    return text.replace('"', "'")[:80]


def stored_steps(parts: Sequence[Part], body: Callable[[str], None]) -> None:
    """A stored reply's text and tool steps in their order (PARTS.md); a call without a result (the server stopped
    mid-call) shows as interrupted. `body(text)` draws a text part."""
    cards: dict[str, ToolCard] = {}
    for part in parts:
        data = part.data or {}
        if part.kind is PartKind.TEXT:
            if part.text:
                body(part.text)
        elif part.kind is PartKind.TOOL_CALL and part.call_id is not None:
            arguments = data.get("arguments")
            name = str(data.get("name", "tool"))
            cards[part.call_id] = ToolCard(part.call_id, name, arguments if isinstance(arguments, dict) else {})
        elif part.kind is PartKind.TOOL_RESULT and part.call_id in cards:
            seconds = data.get("seconds")
            cards[part.call_id].finish(
                part.text or "",
                is_error=bool(data.get("is_error")),
                seconds=seconds if isinstance(seconds, int | float) else None,
                interrupted=bool(data.get("interrupted")),
            )
    for card in cards.values():
        if not card.done:
            card.finish(INTERRUPTED, is_error=True, seconds=None, interrupted=True)
