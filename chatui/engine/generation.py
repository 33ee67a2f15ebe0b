"""A reply being produced: its text so far, and a way for any number of readers to follow it without gaps.

The text is kept as the list of deltas the provider sent. A reader holds an index into that list: it first gets
everything before the index (the replay), then each new delta, then the end. Everything runs on one event loop, so
taking the replay and starting to listen happen with no await in between — no delta can slip through or repeat.

The model's reasoning (issue 24) is a second list beside the text, `reasoning`. It comes before the answer, so a
reader that cares reads it when `follow` hands it an empty batch (see there); one that does not is unchanged.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from chatui.coordination.reply import CancelReason, ReplyMeta
from chatui.engine.tool_steps import INTERRUPTED, SEPARATOR, ToolEvent, ToolStep, reply_parts
from providers import ReasoningDelta, TextDelta, Usage
from storage import MessageStatus
from storage.models import PartKind
from storage.parts import Part

__all__ = ["CancelReason", "Generation"]


@dataclass(eq=False)
class Generation:
    """One assistant reply. Only the engine writes to it; pages and sockets read it through `follow()`."""

    conversation_id: str
    user_id: str
    message_id: str
    parent_id: str | None
    """The message this reply answers: the new user message, or (regenerate) the one it answered before."""
    model: str
    user_message_id: str | None = None
    """The user message saved with this reply (None when the reply answers one already stored)."""
    user_content: str | None = None
    user_parent_id: str | None = None
    """Where that user message went in the tree (an edit puts it beside the one it replaces)."""
    session_id: str | None = None
    """The sign-in that started it: signing out there stops it."""
    prefix: str = ""
    """Continue: the reply's stored text this run carries on (the deltas, `chunks`, come after it)."""
    earlier_tokens: int | None = None
    """Continue: the provider's count of the tokens in `prefix`, added to this run's at the end."""
    chunks: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    """The model's reasoning deltas, in order (shown apart from the answer, stored as the reply's reasoning part)."""
    signature: str | None = None
    """Anthropic's signature of the reasoning, stored with it (the API wants it back with the block in tool use)."""
    thought_seconds: float | None = None
    """How long the model thought: from its first reasoning delta to its first text (or to the end)."""
    _thinking_since: float | None = None
    status: str = MessageStatus.STREAMING
    error: str | None = None
    error_code: str | None = None
    usage: Usage | None = None
    queued: int | None = None
    """This reply's place in the provider's line (1 = next; the in-process local model); None when not waiting."""
    checkpointed: int = 0
    """How many chunks the last checkpoint wrote to the database."""
    reasoning_checkpointed: int = 0
    """How many reasoning deltas the last checkpoint wrote."""
    task: asyncio.Task[None] | None = None
    cancel_reason: CancelReason | None = None
    stored: asyncio.Future[bool] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    """Resolves True once the user's message and this reply's row are in the database (False if they never will be)."""
    _waiters: list[asyncio.Future[None]] = field(default_factory=list)
    """Readers waiting for the next delta (one future each, made only when a reader has nothing left to read)."""
    _loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.get_running_loop)
    """The loop the reply runs on, kept: on Python 3.11 every `asyncio.get_running_loop()` (and so every new
    `asyncio.Event` wait) makes a `getpid` system call, and a reader waits once per delta."""
    _finished: asyncio.Event = field(default_factory=asyncio.Event)
    steps: list[ToolStep] = field(default_factory=list)
    """The tool calls the model made, in order, with their results (chatui/engine/tool_steps.py)."""
    tool_events: list[ToolEvent] = field(default_factory=list)
    """Frames for readers about the steps (`tool_call`, `tool_approval`, `tool_result`), each after `at` deltas."""
    separators: set[int] = field(default_factory=set)
    """Indexes of the deltas that are only the blank line between the text before a tool step and after it."""
    approvals: dict[str, asyncio.Future[bool]] = field(default_factory=dict)
    """Calls waiting for the user's Allow / Deny, by call id."""
    tools_checkpointed: int = 0
    """How many tool events the last checkpoint wrote."""
    sources: list[dict[str, Any]] = field(default_factory=list)
    """The knowledge passages the model was given, numbered as it cites them (chatui/engine/knowledge.py)."""

    @classmethod
    def mirroring(cls, meta: ReplyMeta) -> Generation:
        """A reply another instance writes, to be filled from its stream (its messages are stored already)."""
        mirror = cls(
            conversation_id=meta.conversation_id,
            user_id=meta.user_id,
            message_id=meta.message_id,
            parent_id=meta.parent_id,
            user_message_id=meta.user_message_id,
            user_content=meta.user_content,
            user_parent_id=meta.user_parent_id,
            model=meta.model,
            session_id=meta.session_id,
            prefix=meta.prefix,
        )
        mirror.stored.set_result(True)
        return mirror

    @property
    def text(self) -> str:
        """The reply's whole text so far (a continued one's earlier text included)."""
        return self.prefix + "".join(self.chunks)

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    @property
    def token_frames(self) -> int:
        """How many deltas were streamed (`done.tokens` on `/ws`; one provider delta need not be one token)."""
        return len(self.chunks)

    @property
    def completion_tokens(self) -> int | None:
        """The provider's own count of the reply's tokens, when it reported one (a continued reply's: both runs')."""
        counted = self.usage.completion_tokens if self.usage is not None else None
        if not self.prefix or self.earlier_tokens is None:
            return counted
        return self.earlier_tokens + (counted or 0)

    @property
    def reasoning_text(self) -> str:
        return "".join(self.reasoning)

    def reasoning_part(self, count: int | None = None) -> Part | None:
        """The reasoning as the reply's stored part (its first `count` deltas; all by default); None without any."""
        deltas = self.reasoning if count is None else self.reasoning[:count]
        if not deltas:
            return None
        data: dict[str, object] = {}
        if self.signature:
            data["signature"] = self.signature
        seconds = self.seconds_thinking()
        if seconds is not None:
            data["seconds"] = seconds
        return Part(PartKind.REASONING, text="".join(deltas), data=data or None)

    def add(self, delta: TextDelta | ReasoningDelta) -> None:
        """A delta from the provider (the engine waits for `stored` before the first one with text)."""
        if isinstance(delta, TextDelta):
            if delta.text:
                self.publish(delta.text)
            return
        if delta.text:
            self.think(delta.text)
        if delta.signature:
            self.signature = delta.signature

    def publish(self, text: str) -> None:
        if self.steps and self.steps[-1].at == len(self.chunks) and self.text and not self.text.endswith(SEPARATOR):
            self.separators.add(len(self.chunks))  # text again after a tool step: a blank line between
            self.chunks.append(SEPARATOR)
        if self._thinking_since is not None and self.thought_seconds is None:  # the answer begins: thinking ended
            self.thought_seconds = self.seconds_thinking()
        self.chunks.append(text)
        self._notify()

    def think(self, text: str) -> None:
        """A reasoning delta; readers get an empty batch from `follow` and read `reasoning` on from where they were."""
        if self._thinking_since is None:
            self._thinking_since = time.monotonic()
        self.reasoning.append(text)
        self._notify()

    def seconds_thinking(self) -> float | None:
        """How long it has thought so far (None: no reasoning); fixed once the answer began."""
        if self.thought_seconds is not None:
            return self.thought_seconds
        if self._thinking_since is None:
            return None
        return round(time.monotonic() - self._thinking_since, 1)

    def tool_event(self, frame: dict[str, object], seconds: float | None = None) -> None:
        """A tool step began, waits for approval or ended (in `seconds`); readers get an empty batch once the text
        before it."""
        self.tool_events.append(ToolEvent(len(self.chunks), dict(frame), seconds))
        self._notify()

    def mirror_step(self, at: int, frame: dict[str, Any], seconds: float | None = None) -> None:
        """A tool event of a reply another instance writes, from its stream: kept where the owner had it (after `at`
        deltas), with the step it tells of (so a reader here knows which call waits for Allow / Deny, and how long a
        finished one took)."""
        kind, call_id = frame.get("type"), str(frame.get("call_id", ""))
        step = next((step for step in self.steps if step.call_id == call_id), None)
        if kind == "tool_call" and step is None:
            arguments = frame.get("arguments")
            name = str(frame.get("name", ""))
            self.steps.append(ToolStep(call_id, name, arguments if isinstance(arguments, dict) else {}, at))
        elif kind == "tool_approval" and step is not None:
            step.state = "approval"
        elif kind == "tool_result" and step is not None:
            step.result, step.is_error = str(frame.get("content", "")), bool(frame.get("is_error"))
            step.state = "interrupted" if step.result == INTERRUPTED else "done"
            step.seconds = seconds
        self.tool_events.append(ToolEvent(at, dict(frame), seconds))
        self._notify()

    def parts(self, chunks: int | None = None, reasoning: int | None = None) -> list[Part]:
        """The reply's parts so far (its first `chunks` deltas and `reasoning` deltas; all by default)."""
        count = len(self.chunks) if chunks is None else chunks
        return reply_parts(
            self.prefix, self.chunks[:count], self.separators, self.steps, self.reasoning_part(reasoning)
        )

    def wait_in_line(self, position: int) -> None:
        """The provider queued this reply at `position` (0: its turn has come); readers get an empty batch."""
        self.queued = position or None
        self._notify()

    def finish(self, status: str, error: str | None = None, error_code: str | None = None) -> None:
        self.status = status
        self.error = error
        self.error_code = error_code
        self._finished.set()
        self._notify()

    async def wait(self) -> None:
        """Until the reply has ended and its final state is stored."""
        await self._finished.wait()

    def _notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():  # a reader cancelled while it waited
                waiter.set_result(None)

    async def follow(self, start: int = 0) -> AsyncIterator[list[str]]:
        """Batches of deltas from index `start` on (0 = replay everything so far), until the reply ends.

        A slow reader gets larger batches rather than losing deltas; a reader that sleeps between batches thereby
        coalesces updates on its own. An empty batch says something beside the text changed: the reply's place in
        the provider's line (`queued`), a tool step (`tool_events`: each comes after the text before it, so a reader
        that sends the events whose `at` it has reached keeps them in order), or its `reasoning` grew (all of it so
        far is signalled before the text that followed it, so a reader that reads `reasoning[its own index:]` on
        each empty batch keeps the two in order).
        """
        offset, queued, thought, stepped = start, None, 0, 0
        while True:
            if self.queued != queued:  # before the text: a reply leaves the line, then writes
                queued = self.queued
                yield []
                continue
            if thought < len(self.reasoning):
                thought = len(self.reasoning)
                yield []
                continue
            if stepped < len(self.tool_events):  # the text before a step first, then the step
                at = self.tool_events[stepped].at
                if offset < at:
                    batch = self.chunks[offset:at]
                    offset = at
                    yield batch
                    continue
                stepped = len(self.tool_events)
                yield []
                continue
            if offset < len(self.chunks):
                batch = self.chunks[offset:]
                offset += len(batch)
                yield batch
                continue
            if self.finished:
                return
            waiter = self._loop.create_future()
            self._waiters.append(waiter)
            await waiter
