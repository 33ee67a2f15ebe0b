"""This instance's replies, written to Redis for the others: announced, streamed, ended.

The owner is one more follower of its own reply: a task per reply follows it in memory and queues each batch of
deltas; one flusher writes every queued batch of every reply in one pipelined round trip, so a busy instance writes
bigger batches rather than more commands (a write per delta per reply would cost a round trip per token).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Generic

from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from chatui.coordination.base import R
from chatui.coordination.redis.busy import BusyGuard
from chatui.coordination.redis.link import Link
from chatui.coordination.redis.wire import (
    Deltas,
    Ended,
    ReplyEnd,
    Started,
    Thoughts,
    ToolFrames,
    encode_event,
    encode_meta,
)
from chatui.coordination.reply import ReplyMeta

log = logging.getLogger(__name__)

KEEP_ENDED_SECONDS = 60
"""How long a finished reply's stream stays readable (a follower that attached just before the end)."""
ANNOUNCE_WITHIN = 0.01
"""Seconds after its start by which a reply is told to the other instances even if it has no delta yet (a model
that takes its time to answer still shows as answering there)."""
STREAM_MAX_ENTRIES = 20_000
"""Bound on one reply's stream; deltas are written in batches, so this is far more than any reply needs."""


class Relay(Generic[R]):
    def __init__(self, link: Link, busy: BusyGuard) -> None:
        self.link = link
        self.busy = busy
        self.owned: dict[str, R] = {}
        """Reply id -> this instance's replies that have not ended yet (their ownership is renewed with the lease)."""
        self._pending: dict[str, list[Deltas | ToolFrames]] = {}  # reply id -> deltas and tool events, in order
        self._thoughts: dict[str, Thoughts] = {}  # reply id -> the reasoning deltas not yet written
        self._ending: dict[str, R] = {}
        self._announcing: list[ReplyMeta] = []  # replies started here, not yet told to the others
        self._dirty = asyncio.Event()

    def meta(self, reply: R) -> ReplyMeta:
        return ReplyMeta.of(reply, self.link.instance_id)

    async def began(self, reply: R) -> None:
        """Record the reply as this instance's; tell the others and stream it to them in the flusher's next batch.

        Nothing here waits for Redis, and the announcement is not written at once: it goes with the reply's first
        deltas (after this instance's own sockets have written them: `flush_loop`), or `ANNOUNCE_WITHIN` after the
        start if none came by then. Written at the start, it took the loop (and, on 2 cores, the CPU) while the
        provider's first event was on its way, and made a first token 0.8 ms later on a quiet machine
        (BENCHMARKS.md §26)."""
        self.owned[reply.message_id] = reply
        self._announcing.append(self.meta(reply))
        asyncio.get_running_loop().call_later(ANNOUNCE_WITHIN, self._dirty.set)
        self.link.spawn(self._stream_out(reply))

    async def _stream_out(self, reply: R) -> None:
        """Queue the reply's deltas and tool events as they come (in the order readers get them), then its end, for
        the flusher."""
        index = thought = stepped = 0
        async for batch in reply.follow():
            if not batch:  # it thought, a tool step, or its place in the local model's line changed (shown here only)
                events = reply.tool_events
                while stepped < len(events) and events[stepped].at <= index:
                    event = events[stepped]
                    took = {} if event.seconds is None else {stepped: event.seconds}
                    self._queue(reply.message_id, ToolFrames(stepped, [[event.at, event.frame]], took))
                    stepped += 1
                if thought < len(reply.reasoning):
                    new = reply.reasoning[thought:]
                    queued_thoughts = self._thoughts.get(reply.message_id)
                    if queued_thoughts is None:
                        self._thoughts[reply.message_id] = Thoughts(thought, list(new))
                    else:
                        queued_thoughts.texts.extend(new)
                    thought += len(new)
                    self._dirty.set()
                continue
            self._queue(reply.message_id, Deltas(index, list(batch)))
            index += len(batch)
        self._ending[reply.message_id] = reply
        self._dirty.set()

    def _queue(self, message_id: str, entry: Deltas | ToolFrames) -> None:
        """Queue an entry, merged into the last one queued when that is of its kind (one stream entry per flush)."""
        queued = self._pending.setdefault(message_id, [])
        last = queued[-1] if queued else None
        if isinstance(entry, Deltas) and isinstance(last, Deltas):
            last.texts.extend(entry.texts)
        elif isinstance(entry, ToolFrames) and isinstance(last, ToolFrames):
            last.frames.extend(entry.frames)
            last.seconds.update(entry.seconds)
        else:
            queued.append(entry)
        self._dirty.set()

    async def flush_loop(self) -> None:
        while True:
            await self._dirty.wait()
            # One turn of the loop first: the sockets on this instance that a delta woke write their frames before
            # the batch for the other instances is packed (a first token reached its reader ~0.3 ms later otherwise).
            await asyncio.sleep(0)
            self._dirty.clear()
            try:
                await self.flush()
            except RedisError:
                log.exception("could not write replies to Redis; followers on other instances fall behind")

    async def flush(self) -> None:
        """Every reply started since the last flush, every queued batch, then every reply's end, in one pipelined
        round trip (in that order: a reply is announced before anything of it is written)."""
        announcing, self._announcing = self._announcing, []
        pending, self._pending = self._pending, {}
        thoughts, self._thoughts = self._thoughts, {}
        ending, self._ending = self._ending, {}
        if not announcing and not pending and not thoughts and not ending:
            return
        async with self.link.redis.pipeline(transaction=False) as pipe:
            for meta in announcing:
                pipe.hset(self.link.keys.replies, meta.message_id, encode_meta(meta))
                pipe.publish(self.link.keys.events, encode_event(Started(self.link.instance_id, meta)))
            for message_id, entry in thoughts.items():  # a reply's reasoning comes before its text
                pipe.xadd(self.link.keys.reply(message_id), entry.fields(), maxlen=STREAM_MAX_ENTRIES, approximate=True)
            for message_id, entries in pending.items():
                for queued in entries:
                    pipe.xadd(
                        self.link.keys.reply(message_id), queued.fields(), maxlen=STREAM_MAX_ENTRIES, approximate=True
                    )
            for message_id, reply in ending.items():
                self.owned.pop(message_id, None)
                end = ReplyEnd(reply.status, reply.error, reply.error_code, reply.usage)
                await self.end_in(pipe, message_id, reply.conversation_id, self.link.instance_id, end)
            await pipe.execute()

    async def end_in(self, pipe: Pipeline, message_id: str, conversation_id: str, owner: str, end: ReplyEnd) -> None:
        """Queue a reply's end on `pipe`: by its owner, or by the sweep for an owner that is gone."""
        # The conversation is free before any reader learns that the reply ended, so its next message is accepted.
        pipe.hdel(self.link.keys.replies, message_id)
        await self.busy.release_in(pipe, conversation_id, owner)
        stream = self.link.keys.reply(message_id)
        pipe.xadd(stream, end.fields())
        pipe.expire(stream, KEEP_ENDED_SECONDS)
        pipe.publish(self.link.keys.events, encode_event(Ended(self.link.instance_id, message_id, conversation_id)))
