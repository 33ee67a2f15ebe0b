"""Chat bubbles: Markdown rendered block by block, and an assistant bubble that follows a streaming reply.

While a reply streams, the bubble holds one element per finished block (rendered once) and one *tail* element for
the growing last block; an update re-renders only the tail, so its cost does not grow with the reply. Updates are
coalesced: the bubble takes every delta that arrived since its last update, then waits `flush_seconds`.
"""

from __future__ import annotations

import asyncio

from nicegui import ui

from chatui.generation import Generation
from chatui.rendering import BlockSplitter, render_block, render_markdown, render_uncached
from storage import Message, MessageStatus

STATUS_NOTES = {
    MessageStatus.CANCELLED: "Stopped — the reply was cut short here.",
    MessageStatus.INTERRUPTED: "Interrupted — the server stopped before this reply was complete.",
}


def _html(content: str) -> ui.html:
    return ui.html(content, sanitize=True).classes("chat-markdown")


def user_bubble(content: str) -> ui.chat_message:
    with (
        ui.chat_message(name="You", sent=True)
        .props("bg-color=blue-1 text-color=black")
        .classes("user-bubble")
        .mark("user-message") as bubble,
        ui.column().classes("gap-0"),
    ):
        for block in render_markdown(content):
            _html(block)
    return bubble


class AssistantBubble:
    """An assistant reply: shown whole from the database, or filled live from a `Generation`."""

    def __init__(self, model: str | None = None) -> None:
        self.model = model
        with (
            ui.chat_message(name="Assistant", sent=False)
            .props("bg-color=grey-2 text-color=black")
            .classes("assistant-bubble")
            .mark("assistant-message") as self.element,
            ui.column().classes("gap-1 w-full"),  # Quasar draws one speech bubble per child: keep one child
        ):
            self.body = ui.column().classes("gap-0 w-full")
            with ui.row().classes("items-center gap-2 text-grey-7").mark("thinking") as self.thinking:
                ui.spinner("dots", size="1.5em")
                ui.label("Thinking…")
            self.thinking.visible = False
            self.note = ui.label().classes("text-negative text-sm").mark("reply-error")
            self.note.visible = False
            self.meta = ui.label().classes("text-grey-6 text-xs").mark("reply-meta")
            self.meta.visible = False

    def show(self, message: Message) -> None:
        """A stored reply."""
        with self.body:
            for block in render_markdown(message.content):
                _html(block)
        self._ended(message.status, message.error, message.tokens)

    async def follow(self, generation: Generation, flush_seconds: float) -> None:
        """Fill the bubble from a live reply (its text so far first), then show how it ended."""
        self.thinking.visible = not generation.chunks
        splitter = BlockSplitter()
        tail: ui.html | None = None
        async for batch in generation.follow():
            self.thinking.visible = False
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
            await asyncio.sleep(flush_seconds)
        last = splitter.close()
        if tail is not None:
            if last is None:
                tail.delete()
            else:
                tail.content = render_block(last)
        self._ended(generation.status, generation.error, generation.token_count)

    def _ended(self, status: str, error: str | None, tokens: int | None) -> None:
        self.thinking.visible = False
        note = error if status == MessageStatus.ERROR else STATUS_NOTES.get(status)
        if note:
            self.note.text = note
            self.note.visible = True
        parts = [p for p in (self.model, f"{tokens} tokens" if tokens else None) if p]
        if parts:
            self.meta.text = " · ".join(parts)
            self.meta.visible = True
