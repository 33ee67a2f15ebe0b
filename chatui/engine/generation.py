"""A reply being produced: its text so far, and a way for any number of readers to follow it without gaps.

The text is kept as the list of deltas the provider sent. A reader holds an index into that list: it first gets
everything before the index (the replay), then each new delta, then the end. Everything runs on one event loop, so
taking the replay and starting to listen happen with no await in between — no delta can slip through or repeat.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from chatui.coordination.reply import CancelReason, ReplyMeta
from providers import Usage
from storage import MessageStatus

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
    chunks: list[str] = field(default_factory=list)
    status: str = MessageStatus.STREAMING
    error: str | None = None
    error_code: str | None = None
    usage: Usage | None = None
    queued: int | None = None
    """This reply's place in the provider's line (1 = next; the in-process local model); None when not waiting."""
    checkpointed: int = 0
    """How many chunks the last checkpoint wrote to the database."""
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
        )
        mirror.stored.set_result(True)
        return mirror

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    @property
    def token_frames(self) -> int:
        """How many deltas were streamed (`done.tokens` on `/ws`; one provider delta need not be one token)."""
        return len(self.chunks)

    @property
    def completion_tokens(self) -> int | None:
        """The provider's own count of the reply's tokens, when it reported one."""
        return self.usage.completion_tokens if self.usage is not None else None

    def publish(self, text: str) -> None:
        self.chunks.append(text)
        self._notify()

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
        coalesces updates on its own. An empty batch says the reply's place in the provider's line (`queued`) changed.
        """
        offset, queued = start, None
        while True:
            if self.queued != queued:  # before the text: a reply leaves the line, then writes
                queued = self.queued
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
