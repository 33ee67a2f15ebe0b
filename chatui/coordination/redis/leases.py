"""Who is alive, and the replies left behind by an instance that is not.

Each instance holds a lease (`instance:<id>`, set for one lease period and renewed every third of it); at each
renewal it also extends the busy guards of its replies and re-asserts its ownership of them in `replies` (which
Redis may have lost in a restart).

The sweep (at start and every lease period) lists the replies the database holds as `streaming` and marks
`interrupted` those whose owner's lease is gone — at once — or that no instance owns, when seen so in two sweeps in
a row and older than two lease periods (an owner re-asserts within a third of a period). A killed instance's
replies are therefore marked within about two lease periods; another live instance's never.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Generic

from redis.exceptions import RedisError

from chatui.coordination.base import R
from chatui.coordination.redis.busy import BusyGuard
from chatui.coordination.redis.link import Link
from chatui.coordination.redis.relay import Relay
from chatui.coordination.redis.wire import ReplyEnd, decode_meta, encode_meta
from chatui.coordination.reply import ReplyMeta
from storage import INTERRUPTED_NOTE
from storage.models import MessageStatus, utcnow
from storage.orphans import StreamingReplies

log = logging.getLogger(__name__)


class Leases(Generic[R]):
    def __init__(self, link: Link, busy: BusyGuard, relay: Relay[R], replies: StreamingReplies) -> None:
        self.link = link
        self.busy = busy
        self.relay = relay
        self.replies = replies
        self._suspects: set[str] = set()

    async def renew(self) -> None:
        """The lease, the busy guards of this instance's replies, and its ownership of them, for another period."""
        link = self.link
        async with link.redis.pipeline(transaction=False) as pipe:
            pipe.set(link.keys.instance(link.instance_id), b"1", px=int(link.lease * 1000))
            for reply in list(self.relay.owned.values()):
                self.busy.extend_in(pipe, reply.conversation_id)
                pipe.hset(link.keys.replies, reply.message_id, encode_meta(self.relay.meta(reply)))
            await pipe.execute()

    async def renew_loop(self) -> None:
        while True:
            await asyncio.sleep(self.link.lease / 3)
            try:
                await self.renew()
            except RedisError:
                log.exception("could not renew this instance's lease")

    async def give_back(self) -> None:
        """At stop: the lease ends now rather than at its expiry (the sweeps of the others act at once)."""
        await self.link.redis.delete(self.link.keys.instance(self.link.instance_id))

    async def sweep_loop(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("the sweep of interrupted replies failed; will try again")
            await asyncio.sleep(self.link.lease)

    async def sweep(self) -> int:
        """Mark `interrupted` the replies whose owner is gone (see the module); returns how many."""
        link = self.link
        streaming = await self.replies.all()
        if not streaming:
            self._suspects.clear()
            return 0
        ids = [message_id for message_id, _ in streaming]
        metas = [decode_meta(raw) if raw else None for raw in await link.redis.hmget(link.keys.replies, ids)]
        owners = sorted({meta.owner for meta in metas if meta} - {link.instance_id})
        async with link.redis.pipeline(transaction=False) as pipe:
            for owner in owners:
                pipe.exists(link.keys.instance(owner))
            alive = {owner for owner, found in zip(owners, await pipe.execute(), strict=True) if found}
        alive.add(link.instance_id)
        old = utcnow() - timedelta(seconds=2 * link.lease)
        orphans: list[tuple[str, ReplyMeta | None]] = []
        suspects = set()
        for (message_id, created_at), meta in zip(streaming, metas, strict=True):
            if meta is not None:
                if meta.owner not in alive:
                    orphans.append((message_id, meta))
            elif created_at < old:
                if message_id in self._suspects:
                    orphans.append((message_id, None))
                else:
                    suspects.add(message_id)
        self._suspects = suspects
        if not orphans:
            return 0
        marked = await self.replies.interrupt([message_id for message_id, _ in orphans])
        log.warning("%d replies of instances that are gone were marked 'interrupted'", marked)
        end = ReplyEnd(MessageStatus.INTERRUPTED, INTERRUPTED_NOTE)
        async with link.redis.pipeline(transaction=False) as pipe:
            for message_id, meta in orphans:
                if meta is not None:
                    await self.relay.end_in(pipe, message_id, meta.conversation_id, meta.owner, end)
            await pipe.execute()
        return marked
