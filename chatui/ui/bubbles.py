"""Chat bubbles: Markdown rendered block by block, and an assistant bubble that follows a streaming reply.

While a reply streams, the bubble holds one element per finished block (rendered once) and one *tail* element for
the growing last block; an update re-renders only the tail, so its cost does not grow with the reply. Updates are
coalesced: the bubble takes every delta that arrived since its last update, then waits (`chatui.ui.pacing`).
"""

from __future__ import annotations

import asyncio
import html
from datetime import UTC, datetime

from nicegui import ui

from chatui.engine.generation import Generation
from chatui.ui.pacing import UpdatePacer
from chatui.ui.rendering import BlockSplitter, render_block, render_message, render_uncached
from storage import Message, MessageStatus

STATUS_NOTES = {
    MessageStatus.CANCELLED: "Stopped",
    MessageStatus.INTERRUPTED: "Interrupted — the server stopped before this reply was complete.",
}
"""Quiet grey notes under a reply that ended early; an error shows its reason instead (`chatui-error-note`)."""


def _time(element: ui.element, at: datetime | None) -> None:
    """The message's time, shown on hover in the reader's own time zone (`static/chatui.js` formats `data-time`)."""
    moment = at or datetime.now(UTC)
    element.props(f"data-time={moment.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}")


def _html(content: str) -> ui.html:
    return ui.html(content, sanitize=True).classes("chat-markdown")


def user_bubble(content: str, at: datetime | None = None) -> ui.chat_message:
    """The person's message: not streamed, so all its blocks go into one element (rendered once, then cached).

    The name ("You", "Assistant") is there for screen readers; on screen a role icon stands for it (CSS only, so a
    bubble costs no extra element).
    """
    with ui.chat_message(name="You", sent=True).classes("user-bubble").mark("user-message") as bubble:
        _html(render_message(content))
    _time(bubble, at)
    return bubble


def stored_reply(message: Message) -> ui.chat_message:
    """A finished reply from the database in two elements: the bubble and one HTML block with its text and footer.

    A page of a long conversation builds dozens of these, and each NiceGUI element costs a few hundred microseconds
    to create; a reply that ended badly keeps its separate note (`AssistantBubble.show`).
    """
    if message.status != MessageStatus.DONE or not message.content:
        bubble = AssistantBubble(message.model, message.created_at)
        bubble.show(message)
        return bubble.element
    parts = [
        p for p in (message.model, f"{message.completion_tokens} tokens" if message.completion_tokens else None) if p
    ]
    footer = f'<div class="chatui-reply-meta">{html.escape(" · ".join(parts))}</div>' if parts else ""
    with ui.chat_message(name="Assistant", sent=False).classes("assistant-bubble").mark("assistant-message") as bubble:
        _html(render_message(message.content) + footer)
    _time(bubble, message.created_at)
    return bubble


class AssistantBubble:
    """An assistant reply: shown whole from the database, or filled live from a `Generation`.

    It starts with as few elements as it can (the bubble, its column, and the "Thinking…" line only while waiting),
    since a NiceGUI element costs a few hundred microseconds to create and a hundred replies may start at once;
    the error note and the footer are added when the reply ends.
    """

    def __init__(self, model: str | None = None, at: datetime | None = None) -> None:
        self.model = model
        with (
            ui.chat_message(name="Assistant", sent=False).classes("assistant-bubble").mark("assistant-message")
        ) as self.element:
            # Quasar draws one speech bubble per child: keep one child, holding the blocks, then note and footer.
            self.body = ui.column().classes("gap-0 w-full")
        _time(self.element, at)
        self.thinking: ui.label | None = None

    def show(self, message: Message) -> None:
        """A stored reply: one element for all its blocks (rendered once, then cached)."""
        if message.content:
            with self.body:
                _html(render_message(message.content))
        self._ended(message.status, message.error, message.completion_tokens)

    async def follow(self, generation: Generation, pacer: UpdatePacer) -> None:
        """Fill the bubble from a live reply (its text so far first), then show how it ended."""
        with pacer.following():
            tail, splitter = await self._stream(generation, pacer)
        last = splitter.close()
        if tail is not None:
            if last is None:
                tail.delete()
            else:
                tail.content = render_block(last)
        self._ended(generation.status, generation.error, generation.completion_tokens)

    async def _stream(self, generation: Generation, pacer: UpdatePacer) -> tuple[ui.html | None, BlockSplitter]:
        """Show the deltas as they come, one update per `pacer.interval()`; return the tail and the splitter."""
        if not generation.chunks:
            with self.body:
                self.thinking = ui.label("Thinking…").classes("thinking").mark("thinking")
        splitter = BlockSplitter()
        tail: ui.html | None = None
        async for batch in generation.follow():
            if not batch:  # waiting in the local model's line
                if tail is None:
                    self._show_waiting(generation.queued)
                continue
            self._stop_thinking()
            finished = splitter.feed("".join(batch))
            with self.body:
                for block in finished:
                    if tail is not None:  # the tail becomes the finished block it was showing
                        tail.content = render_block(block)
                        tail = None
                    else:
                        _html(render_block(block))
                if tail is None:
                    tail = _html("")
                tail.content = render_uncached(splitter.tail)
            await asyncio.sleep(pacer.interval())
        return tail, splitter

    def _show_waiting(self, position: int | None) -> None:
        if self.thinking is None:
            with self.body:
                self.thinking = ui.label().classes("thinking").mark("thinking")
        self.thinking.text = f"Waiting for the local model… (#{position} in line)" if position else "Thinking…"

    def _stop_thinking(self) -> None:
        if self.thinking is not None:
            self.thinking.delete()
            self.thinking = None

    def _ended(self, status: str, error: str | None, tokens: int | None) -> None:
        self._stop_thinking()
        parts = [p for p in (self.model, f"{tokens} tokens" if tokens else None) if p]
        with self.body:
            if status == MessageStatus.ERROR:
                ui.label(error or "The reply failed.").classes("chatui-error-note").props("role=alert").mark(
                    "reply-error"
                )
            elif status in STATUS_NOTES:
                ui.label(STATUS_NOTES[status]).classes("chatui-status-note").mark("reply-status")
            if parts:
                ui.label(" · ".join(parts)).classes("chatui-muted text-xs mt-1").mark("reply-meta")
