"""Chat bubbles: Markdown rendered block by block, and an assistant bubble that follows a streaming reply.

While a reply streams, the bubble holds one element per finished block (rendered once) and one *tail* element for
the growing last block; an update re-renders only the tail, so its cost does not grow with the reply. Updates are
coalesced: the bubble takes every delta that arrived since its last update, then waits (`chatui.ui.pacing`).
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from nicegui import ui

from chatui.conversations.reply_errors import error_for_reader
from chatui.engine.generation import Generation
from chatui.ui.attachments import FILES_URL, message_files
from chatui.ui.citations import show_sources
from chatui.ui.pacing import UpdatePacer
from chatui.ui.reasoning import ReasoningBlock, stored_reasoning
from chatui.ui.rendering import SHOWN_CHARS, BlockSplitter, render_block, render_message, render_uncached, shown_part
from chatui.ui.tool_cards import Answer, ToolCard, stored_steps
from chatui.ui.wording import counted
from storage import Message, MessageStatus
from storage.files import StoredFile
from storage.parts import Part

STATUS_NOTES = {
    MessageStatus.CANCELLED: "Stopped",
    MessageStatus.INTERRUPTED: "Interrupted — the server stopped before this reply was complete.",
}
"""Quiet grey notes under a reply that ended early; an error shows its reason instead (`chatui-error-note`)."""
CUT_OFF_NOTE = "Stopped at the token limit: Continue carries it on."


def _time(element: ui.element, at: datetime | None) -> None:
    """The message's time, shown on hover in the reader's own time zone (`static/chatui.js` formats `data-time`)."""
    moment = at or datetime.now(UTC)
    element.props(f"data-time={moment.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}")


def _html(content: str) -> ui.html:
    return ui.html(content, sanitize=True).classes("chat-markdown")


def message_body(content: str) -> None:
    """The message's text in the current container: formatted whole, or folded past `SHOWN_CHARS` (see there)."""
    if len(content) <= SHOWN_CHARS:
        _html(render_message(content))
        return
    shown = shown_part(content)
    _html(render_message(shown))
    container = ui.context.slot.parent
    with ui.row().classes("items-center gap-2 chatui-folded").mark("message-folded") as fold:
        ui.label(f"Showing {len(shown):,} of {len(content):,} characters.").classes("chatui-muted text-xs")

        def show_all() -> None:
            fold.delete()
            with container:
                rest = html.escape(content[len(shown) :])  # escaped: nothing left for a sanitizer to do
                plain = ui.html(f'<div style="white-space: pre-wrap">{rest}</div>', sanitize=False)
                plain.classes("chat-markdown").mark("message-rest")

        ui.button("Show all", on_click=show_all).props("flat dense no-caps size=sm").mark("show-all")


def user_bubble(
    content: str,
    at: datetime | None = None,
    files: Sequence[StoredFile] = (),
    notes: Mapping[str, str] | None = None,
    files_url: str = FILES_URL,
) -> ui.chat_message:
    """The person's message: not streamed, so all its blocks go into one element (rendered once, then cached); its
    files above the text, in the same speech bubble (`chatui.ui.attachments`).

    The name ("You", "Assistant") is there for screen readers; on screen a role icon stands for it (CSS only, so a
    bubble costs no extra element).
    """
    with ui.chat_message(name="You", sent=True).classes("user-bubble").mark("user-message") as bubble:
        if files:
            with ui.column().classes("gap-1 w-full"):  # one child: Quasar draws one speech bubble per child
                message_files(files, notes, files_url)
                if content:
                    message_body(content)
        elif len(content) <= SHOWN_CHARS:
            _html(render_message(content))
        else:
            with ui.column().classes("gap-0 w-full"):  # one child: Quasar draws one speech bubble per child
                message_body(content)
    _time(bubble, at)
    return bubble


def reply_meta(model: str | None, tokens: int | None) -> str:
    """What a reply's footer says, live or stored: its model and how many tokens it took ("" when neither)."""
    return " · ".join(p for p in (model, counted(tokens, "token") if tokens else None) if p)


def stored_reply(
    message: Message,
    reasoning: Part | None = None,
    steps: Sequence[Part] = (),
    *,
    admin: bool = True,
    sources: Sequence[Mapping[str, Any]] = (),
) -> ui.chat_message:
    """A finished reply from the database in two elements: the bubble and one HTML block with its text and footer.

    A page of a long conversation builds dozens of these, and each NiceGUI element costs a few hundred microseconds
    to create; a reply that ended badly or early keeps its separate note, one that thought its folded reasoning, and
    one that called tools its text and tool cards in order (`AssistantBubble.show`), one that used knowledge its
    sources (`chatui.ui.citations`).
    """
    if (
        reasoning is not None
        or steps
        or sources
        or message.status != MessageStatus.DONE
        or message.cut_off
        or not message.content
        or len(message.content) > SHOWN_CHARS
    ):
        bubble = AssistantBubble(message.model, message.created_at, admin=admin)
        bubble.show(message, reasoning, steps)
        with bubble.body:
            show_sources(sources)
        return bubble.element
    meta = reply_meta(message.model, message.completion_tokens)
    footer = f'<div class="chatui-reply-meta">{html.escape(meta)}</div>' if meta else ""
    with ui.chat_message(name="Assistant", sent=False).classes("assistant-bubble").mark("assistant-message") as bubble:
        _html(render_message(message.content) + footer)
    _time(bubble, message.created_at)
    return bubble


async def _after(first: list[str], rest: AsyncIterator[list[str]]) -> AsyncIterator[list[str]]:
    """`first` as a batch of its own (when it holds anything), then the batches of `rest`."""
    if first:
        yield first
    async for batch in rest:
        yield batch


class AssistantBubble:
    """An assistant reply: shown whole from the database, or filled live from a `Generation`.

    It starts with as few elements as it can (the bubble, its column, and the "Thinking…" line only while waiting),
    since a NiceGUI element costs a few hundred microseconds to create and a hundred replies may start at once;
    the error note and the footer are added when the reply ends.
    """

    def __init__(self, model: str | None = None, at: datetime | None = None, *, admin: bool = True) -> None:
        self.model = model
        self.admin = admin
        """Whether the reader runs the server: an error then keeps its fix (`error_for_reader`)."""
        with (
            ui.chat_message(name="Assistant", sent=False).classes("assistant-bubble").mark("assistant-message")
        ) as self.element:
            # Quasar draws one speech bubble per child: keep one child, holding the blocks, then note and footer.
            self.body = ui.column().classes("gap-0 w-full")
        _time(self.element, at)
        self.thinking: ui.label | None = None
        self.reasoning: ReasoningBlock | None = None
        self._reasoning_shown = 0  # reasoning deltas shown so far
        self._splitter, self._tail = BlockSplitter(), None  # the answer's text since the last tool step
        self.cards: dict[str, ToolCard] = {}
        self._events_shown = 0  # the reply's tool events drawn so far
        self.answer: Answer | None = None
        """Answers a call waiting for approval (set by the page for the signed-in owner's live reply)."""

    def show(self, message: Message, reasoning: Part | None = None, steps: Sequence[Part] = ()) -> None:
        """A stored reply: its reasoning folded, then one element for all its blocks (rendered once, then cached), or
        its text and tool cards in their order."""
        if reasoning is not None and reasoning.text:
            seconds = (reasoning.data or {}).get("seconds")
            with self.body:
                stored_reasoning(reasoning.text, seconds if isinstance(seconds, int | float) else None)
        if steps:
            with self.body:
                stored_steps(steps, message_body)
        elif message.content:
            with self.body:
                message_body(message.content)
        self._ended(message.status, message.error, message.completion_tokens, message.cut_off)

    async def follow(self, generation: Generation, pacer: UpdatePacer) -> None:
        """Fill the bubble from a live reply (its text so far first), then show how it ended."""
        self.element.classes(add="chatui-streaming")  # no diagram is drawn while this is on (static/markdown.js)
        with pacer.following():
            await self._stream(generation, pacer)
        if generation.reasoning:
            self._show_reasoning(generation)  # what came after the last update, and the block folds
        self._close_text()
        self._show_steps(generation, len(generation.chunks))  # a call Stop or a shutdown ended: interrupted
        self.element.classes(remove="chatui-streaming")
        cut_off = generation.usage is not None and generation.usage.cut_off
        self._ended(generation.status, generation.error, generation.completion_tokens, cut_off)

    async def _stream(self, generation: Generation, pacer: UpdatePacer) -> None:
        """Show the deltas and tool steps as they come, one update per `pacer.interval()`."""
        if not generation.chunks and not generation.prefix:
            with self.body:
                self.thinking = ui.label("Thinking…").classes("thinking").mark("thinking")
        self._splitter, self._tail = BlockSplitter(), None
        read = -1 if generation.prefix else 0  # the deltas read (a continued reply's text so far comes first)
        prefix = [generation.prefix] if generation.prefix else []
        async for batch in _after(prefix, generation.follow()):
            if not batch:  # waiting in the local model's line, thinking, or a tool step
                if generation.reasoning:
                    self._show_reasoning(generation)
                self._show_steps(generation, read)
                if self._tail is None and not generation.reasoning and not self._tool_running():
                    self._show_waiting(generation.queued)
                if not generation.chunks:
                    await asyncio.sleep(pacer.interval())
                continue
            self._stop_thinking()
            if generation.reasoning:
                self._show_reasoning(generation)
            self._show_steps(generation, read)  # the steps made before this text
            self._feed("".join(batch))
            read += len(batch) if read >= 0 else 1
            await asyncio.sleep(pacer.interval())

    def _feed(self, text: str) -> None:
        """More of the answer: finished blocks become fixed elements; only the growing tail is re-rendered."""
        finished = self._splitter.feed(text)
        with self.body:
            for block in finished:
                if self._tail is not None:  # the tail becomes the finished block it was showing
                    self._tail.content = render_block(block)
                    self._tail = None
                else:
                    _html(render_block(block))
            if self._tail is None:
                self._tail = _html("")
            self._tail.content = render_uncached(self._splitter.tail)

    def _close_text(self) -> None:
        """The text so far ends (a tool step follows it, or the reply ended): its last block rendered whole."""
        last = self._splitter.close()
        if self._tail is not None:
            if last is None:
                self._tail.delete()
            else:
                self._tail.content = render_block(last)
        elif last is not None:
            with self.body:
                _html(render_block(last))
        self._splitter, self._tail = BlockSplitter(), None

    def _show_steps(self, generation: Generation, read: int) -> None:
        """Draw the tool events that come before the `read`-th delta: a card per call, after the text before it."""
        events = generation.tool_events
        while self._events_shown < len(events) and events[self._events_shown].at <= read:
            self._tool_event(generation, events[self._events_shown].frame)
            self._events_shown += 1

    def _tool_event(self, generation: Generation, frame: dict[str, Any]) -> None:
        kind, call_id = frame.get("type"), str(frame.get("call_id"))
        step = next((step for step in generation.steps if step.call_id == call_id), None)
        if kind == "tool_call":
            self._stop_thinking()
            self._close_text()
            arguments = frame.get("arguments")
            with self.body:
                card = ToolCard(call_id, str(frame.get("name")), arguments if isinstance(arguments, dict) else {})
            self.cards[call_id] = card
        elif (card_or_none := self.cards.get(call_id)) is None:
            return
        elif kind == "tool_approval" and step is not None and step.state == "approval":  # not one answered since
            card_or_none.ask(self.answer)
        elif kind == "tool_result":
            seconds = step.seconds if step is not None else None
            card_or_none.finish(str(frame.get("content", "")), is_error=bool(frame.get("is_error")), seconds=seconds)

    def _tool_running(self) -> bool:
        return any(not card.done for card in self.cards.values())

    def _show_reasoning(self, generation: Generation) -> None:
        """The reasoning so far, in its block above the answer (made at its first delta, in place of "Thinking…"),
        folded once the answer (or a tool call) has begun."""
        if self.reasoning is None:
            self._stop_thinking()
            with self.body:
                self.reasoning = ReasoningBlock(streaming=True)
                self.reasoning.element.move(self.body, target_index=0)
        if len(generation.reasoning) > self._reasoning_shown:
            self._reasoning_shown = len(generation.reasoning)
            self.reasoning.show(generation.reasoning_text)
        if generation.chunks or generation.steps or generation.finished:  # it answered, called a tool, or ended
            self.reasoning.fold(generation.seconds_thinking())

    def _show_waiting(self, position: int | None) -> None:
        if self.thinking is None:
            with self.body:
                self.thinking = ui.label().classes("thinking").mark("thinking")
        self.thinking.text = f"Waiting for the local model… (#{position} in line)" if position else "Thinking…"

    def _stop_thinking(self) -> None:
        if self.thinking is not None:
            self.thinking.delete()
            self.thinking = None

    def _ended(self, status: str, error: str | None, tokens: int | None, cut_off: bool = False) -> None:
        self._stop_thinking()
        if self.reasoning is not None:
            self.reasoning.fold(None)
        meta = reply_meta(self.model, tokens)
        with self.body:
            if status == MessageStatus.ERROR:
                shown = error_for_reader(error, admin=self.admin) or "The reply failed."
                ui.label(shown).classes("chatui-error-note").props("role=alert").mark("reply-error")
            elif status in STATUS_NOTES or cut_off:
                note = STATUS_NOTES.get(status, CUT_OFF_NOTE)
                ui.label(note).classes("chatui-status-note").mark("reply-status")
            if meta:
                ui.label(meta).classes("chatui-muted text-xs mt-1").mark("reply-meta")
