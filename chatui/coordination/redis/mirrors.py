"""Replies other instances write, followed here: each is a mirror reply filled from its owner's stream.

A mirror is read from the stream's first entry: replay and live come from the same ordered log, indexed by delta,
so the mirror's `follow()` has no gap and no duplicate, exactly as the owner's. One reader task per instance reads
every stream it follows with one blocking XREAD (woken through `wake:<instance>` when it starts following another).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Generic, cast

import redis.asyncio as redis
from redis.exceptions import RedisError
from redis.typing import StreamRangeResponse

from chatui.coordination.base import R
from chatui.coordination.redis.link import Link
from chatui.coordination.redis.wire import (
    Deltas,
    Ended,
    ReplyEnd,
    Thoughts,
    ToolFrames,
    decode_entry,
    decode_meta,
    entry_order,
)
from chatui.coordination.reply import ReplyMeta

log = logging.getLogger(__name__)

READ_BLOCK_MS = 2_000
START = b"0-0"
"""Before a stream's first entry."""


class Mirrors(Generic[R]):
    def __init__(self, link: Link, mirror: Callable[[ReplyMeta], R]) -> None:
        self.link = link
        self._make = mirror
        # The reader blocks in XREAD for up to READ_BLOCK_MS: on its own connection, with no read timeout.
        self._blocking = redis.Redis.from_url(link.url, socket_timeout=None, single_connection_client=True)
        self._elsewhere: dict[str, ReplyMeta] = {}  # conversation -> the reply another instance writes there
        self._mirrors: dict[str, R] = {}  # conversation -> the mirror followed here
        self._reading: dict[bytes, tuple[R, bytes | str]] = {}  # stream key -> (mirror, last entry read)

    async def load(self) -> None:
        """The replies that began before this instance did."""
        for raw in (await self.link.redis.hgetall(self.link.keys.replies)).values():
            meta = decode_meta(raw)
            if meta.owner != self.link.instance_id:
                self._elsewhere[meta.conversation_id] = meta

    def started(self, meta: ReplyMeta) -> None:
        self._elsewhere[meta.conversation_id] = meta

    def ended(self, event: Ended) -> None:
        """A reply ended: forget it, unless a mirror here still reads its end from the stream."""
        meta = self._elsewhere.get(event.conversation_id)
        if meta is not None and meta.message_id == event.message_id and event.conversation_id not in self._mirrors:
            del self._elsewhere[event.conversation_id]

    def get(self, conversation_id: str) -> R | None:
        """The mirror of the reply another instance writes in this conversation (made on first ask), if any."""
        mirror = self._mirrors.get(conversation_id)
        if mirror is not None:
            return mirror
        meta = self._elsewhere.get(conversation_id)
        return self._mirror(meta) if meta is not None else None

    def _mirror(self, meta: ReplyMeta) -> R:
        mirror = self._make(meta)
        self._mirrors[meta.conversation_id] = mirror
        self._reading[self.link.keys.reply(meta.message_id).encode()] = (mirror, START)
        self.link.spawn(self._wake_reader())
        return mirror

    async def _wake_reader(self) -> None:
        wake = self.link.keys.wake(self.link.instance_id)
        async with self.link.redis.pipeline(transaction=False) as pipe:
            pipe.xadd(wake, {"w": 1}, maxlen=10, approximate=True)
            pipe.expire(wake, 60)
            await pipe.execute()

    async def read_loop(self) -> None:
        """The one reader of every stream this instance follows (and of its wake-up stream)."""
        wake = self.link.keys.wake(self.link.instance_id).encode()
        while True:
            streams: dict[Any, Any] = {wake: b"$", **{key: last for key, (_, last) in self._reading.items()}}
            try:
                # A list of [stream key, entries] (RESP2, the client's protocol).
                answer = cast(
                    "list[tuple[bytes, StreamRangeResponse]] | None",
                    await self._blocking.xread(streams, block=READ_BLOCK_MS),
                )
            except RedisError:
                log.exception("reading replies from Redis failed; trying again")
                await asyncio.sleep(self.link.lease / 3)
                continue
            for key, entries in answer or []:
                if key != wake:
                    self._apply(key, entries)

    async def caught_up(self, reply: R) -> None:
        """Read the mirror's stream so far at once, so a late reader's replay holds all of it (not only the tail)."""
        key = self.link.keys.reply(reply.message_id).encode()
        if key in self._reading and self._mirrors.get(reply.conversation_id) is reply:
            self._apply(key, await self.link.redis.xrange(key) or [])

    def _apply(self, key: bytes, entries: StreamRangeResponse) -> None:
        """Entries of a followed stream; those already applied (by the reader or `caught_up`) are skipped."""
        if key not in self._reading:
            return
        mirror, last = self._reading[key]
        for entry_id, fields in entries:
            if entry_id is None or fields is None or entry_order(entry_id) <= entry_order(last):
                continue
            last = entry_id
            entry = decode_entry(fields)
            if isinstance(entry, Deltas):
                if entry.first > len(mirror.chunks):
                    log.warning(
                        "reply %s: stream starts at delta %d, after the %d read", key, entry.first, len(mirror.chunks)
                    )
                for text in entry.texts[max(0, len(mirror.chunks) - entry.first) :]:
                    mirror.publish(text)
            elif isinstance(entry, Thoughts):
                for text in entry.texts[max(0, len(mirror.reasoning) - entry.first) :]:
                    mirror.think(text)
            elif isinstance(entry, ToolFrames):
                start = max(0, len(mirror.tool_events) - entry.first)
                for index, (at, frame) in enumerate(entry.frames[start:], entry.first + start):
                    mirror.mirror_step(int(at), frame, entry.seconds.get(index))
            elif isinstance(entry, ReplyEnd):
                if entry.usage is not None:
                    mirror.usage = entry.usage
                self._forget(key, mirror)
                mirror.finish(entry.status, entry.error, entry.code)
                return
        self._reading[key] = (mirror, last)

    def _forget(self, key: bytes, mirror: R) -> None:
        self._reading.pop(key, None)
        if self._mirrors.get(mirror.conversation_id) is mirror:
            del self._mirrors[mirror.conversation_id]
        meta = self._elsewhere.get(mirror.conversation_id)
        if meta is not None and meta.message_id == mirror.message_id:
            del self._elsewhere[mirror.conversation_id]

    async def close(self) -> None:
        await self._blocking.aclose()
