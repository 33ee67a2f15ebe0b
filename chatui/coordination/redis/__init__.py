"""Several chatui instances on one database, coordinated through Redis (`REDIS_URL`).

Keys, all under `CHATUI_REDIS_PREFIX` (default `chatui:`; names in `wire.Keys`):

    instance:<id>        an instance's lease: set for one lease period, renewed every third of it    (leases.py)
    busy:<conversation>  the conversation's busy guard (SET NX), held by the instance writing a reply  (busy.py)
    replies              hash: reply id -> who owns it and what a follower needs (`ReplyMeta`)          (relay.py)
    reply:<id>           a Redis Stream of the reply's text: entries {i: index of the first delta, t: JSON list of
                         deltas}, its reasoning {ri, r} and tool events {si, s: JSON list of [at, frame]} alike,
                         then one {end: status, error, usage}; expires a minute after the end          (relay.py)
    wake:<id>            wakes an instance's stream reader when it starts following another reply     (mirrors.py)
    events               pub/sub: started, ended, stop, approve, revoke_user, revoke_session         (events.py)
    sockets:...          open `/ws` sockets per user and per session, a count per instance           (sockets.py)
    attempts...          sign-in attempts in progress per limit and key, a count per instance       (attempts.py)
    limits...            the `limits` library's counters (message and sign-in throttles), on the same pool

This module is the facade the engine and the bootstrap see; each job is in its own module.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Generic

import redis.asyncio as redis
from limits.aio.storage import RedisStorage
from redis.exceptions import RedisError

from chatui.coordination.base import InstanceHooks, R, RevocationKind
from chatui.coordination.redis.attempts import SharedAttemptLimiter
from chatui.coordination.redis.busy import BusyGuard
from chatui.coordination.redis.events import Listener, publish
from chatui.coordination.redis.leases import Leases
from chatui.coordination.redis.link import Link
from chatui.coordination.redis.mirrors import Mirrors
from chatui.coordination.redis.relay import Relay
from chatui.coordination.redis.sockets import SharedSocketSlots
from chatui.coordination.redis.wire import ApproveAsked, Revoked, StopAsked
from chatui.coordination.reply import CancelReason
from chatui.coordination.sockets import SocketSlots
from chatui.coordination.throttles import AttemptLimiter
from storage.orphans import StreamingReplies

if TYPE_CHECKING:
    from sqlalchemy import Connection

__all__ = ["RedisCoordination"]


class RedisCoordination(Generic[R]):
    def __init__(self, url: str, prefix: str, lease_seconds: float, replies: StreamingReplies) -> None:
        self.link = Link(url, prefix, lease_seconds)
        self.limit_storage = RedisStorage(
            f"async+{url}",
            implementation="redispy",
            key_prefix=self.link.keys.limits,
            # One pool for everything this instance asks Redis: limits passes its options on to redis-py
            connection_pool=self.link.pool,  # type: ignore[arg-type]  # limits types its options as scalars
        )
        self._busy = BusyGuard(self.link)
        self._relay: Relay[R] = Relay(self.link, self._busy)
        self._leases: Leases[R] = Leases(self.link, self._busy, self._relay, replies)
        self._mirrors: Mirrors[R] | None = None
        self._listener: Listener[R] | None = None
        self._loops: list[asyncio.Task[None]] = []

    @property
    def instance_id(self) -> str:
        return self.link.instance_id

    # For other state every instance shares (import slots and jobs: `chatui.transfer`), on the same pool and prefix.

    @property
    def redis(self) -> redis.Redis:
        return self.link.redis

    @property
    def prefix(self) -> str:
        return self.link.keys.prefix

    @property
    def lease(self) -> float:
        return self.link.lease

    # -- what is built here for the rest of the app -------------------------------------------------------------

    def attempt_limiter(self) -> AttemptLimiter:
        return SharedAttemptLimiter(self.link)

    def socket_slots(self, per_user: int, per_session: int) -> SocketSlots:
        return SharedSocketSlots(self.link, per_user, per_session)

    def recover_at_start(self, connection: Connection) -> int:
        """Other instances may be writing the replies the database holds as `streaming`: the sweep decides."""
        return 0

    # -- life cycle ---------------------------------------------------------------------------------------------

    async def start(self, hooks: InstanceHooks[R]) -> None:
        """Take the lease, listen to the others (answered through `hooks`), and start the background loops."""
        await self._leases.renew()
        self._mirrors = mirrors = Mirrors(self.link, hooks.mirror)
        self._listener = listener = Listener(self.link, hooks, mirrors)
        await listener.subscribe()
        await mirrors.load()
        loops = (
            listener.listen_loop,
            mirrors.read_loop,
            self._relay.flush_loop,
            self._leases.renew_loop,
            self._leases.sweep_loop,
        )
        self._loops = [asyncio.create_task(loop(), name=f"chatui-coordination-{loop.__name__}") for loop in loops]

    async def stop(self) -> None:
        """After the engine stored the end of every reply: write those ends, give the lease back, disconnect."""
        await self.link.settle()
        with contextlib.suppress(RedisError):
            await self._relay.flush()
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        with contextlib.suppress(RedisError):
            await self._leases.give_back()
        if self._listener is not None:
            await self._listener.close()
        if self._mirrors is not None:
            await self._mirrors.close()
        await self.link.close()

    # -- a reply's life -----------------------------------------------------------------------------------------

    async def reserve(self, conversation_id: str) -> bool:
        return await self._busy.reserve(conversation_id)

    async def release(self, conversation_id: str) -> None:
        await self._busy.release(conversation_id)

    async def began(self, reply: R) -> None:
        await self._relay.began(reply)

    def elsewhere(self, conversation_id: str) -> R | None:
        return self._mirrors.get(conversation_id) if self._mirrors is not None else None

    async def caught_up(self, reply: R) -> None:
        if self._mirrors is not None:
            await self._mirrors.caught_up(reply)

    def request_stop(self, conversation_id: str, reason: CancelReason) -> None:
        self.link.spawn(publish(self.link, StopAsked(self.link.instance_id, conversation_id, reason)))

    def request_approve(self, conversation_id: str, user_id: str, call_id: str, allow: bool) -> None:
        asked = ApproveAsked(self.link.instance_id, conversation_id, user_id, call_id, allow)
        self.link.spawn(publish(self.link, asked))

    async def revoked(self, kind: RevocationKind, identifier: str) -> None:
        await publish(self.link, Revoked(self.link.instance_id, kind, identifier))

    async def sweep(self) -> int:
        """Mark `interrupted` the replies whose owner is gone, now (it also runs every lease period)."""
        return await self._leases.sweep()
