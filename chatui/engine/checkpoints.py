"""Checkpoints: the text (and reasoning) so far of every streaming reply, written about once a second in one
transaction for all of them — never a write per token — so that a crash loses at most the last second of a reply."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

from chatui.engine.generation import Generation
from storage import ConversationRepository

log = logging.getLogger(__name__)


class Checkpointer:
    """Writes the replies of `active` (the engine's, by conversation) that grew since the last checkpoint."""

    def __init__(self, chats: ConversationRepository, active: Mapping[str, Generation], seconds: float) -> None:
        self.chats = chats
        self.seconds = seconds
        self._active = active
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="chatui-checkpoints")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def checkpoint(self) -> int:
        """Write what grew, in one transaction; the number of replies written."""
        dirty = {
            g: (len(g.chunks), len(g.reasoning), len(g.tool_events))
            for g in self._active.values()
            if len(g.chunks) > g.checkpointed
            or len(g.reasoning) > g.reasoning_checkpointed
            or len(g.tool_events) > g.tools_checkpointed
        }
        if not dirty:
            return 0
        await self.chats.checkpoint(
            {g.message_id: g.prefix + "".join(g.chunks[:n]) for g, (n, _, _) in dirty.items()},
            {g.message_id: g.parts(n, r) for g, (n, r, _) in dirty.items() if g.reasoning or g.steps},
        )
        for generation, (count, thought, stepped) in dirty.items():
            generation.checkpointed, generation.reasoning_checkpointed = count, thought
            generation.tools_checkpointed = stepped
        return len(dirty)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.seconds)
            try:
                await self.checkpoint()
            except Exception:
                log.exception("checkpoint failed; will try again")
