"""What the instances tell each other on one pub/sub channel (`events`), and what this one does when told.

Pub/sub delivers only to the instances listening at that moment, which is what each of these needs: a reply that
started (one that began before an instance listened is read from `replies` at its start), a reply that ended, a
Stop or Delete for a reply owned elsewhere, a revocation (an instance that was not listening had no page or socket
of that session open, and every request checks the database anyway).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Generic

from redis.exceptions import RedisError

from chatui.coordination.base import InstanceHooks, R, RevocationKind
from chatui.coordination.redis.link import Link
from chatui.coordination.redis.mirrors import Mirrors
from chatui.coordination.redis.wire import (
    ApproveAsked,
    Ended,
    Event,
    Revoked,
    Started,
    StopAsked,
    decode_event,
    encode_event,
)

log = logging.getLogger(__name__)


async def publish(link: Link, event: Event) -> None:
    """Tell every other instance (logged, not raised, when Redis does not answer: the caller has done its part)."""
    try:
        await link.redis.publish(link.keys.events, encode_event(event))
    except RedisError:
        log.exception("could not tell the other instances: %s", type(event).__name__)


class Listener(Generic[R]):
    """Carries out here, through the instance's hooks, what the other instances announce."""

    def __init__(self, link: Link, hooks: InstanceHooks[R], mirrors: Mirrors[R]) -> None:
        self.link = link
        self.hooks = hooks
        self.mirrors = mirrors
        self._pubsub: Any = None

    async def subscribe(self) -> None:
        self._pubsub = self.link.redis.pubsub(ignore_subscribe_messages=True)
        await self._pubsub.subscribe(self.link.keys.events)

    async def listen_loop(self) -> None:
        while True:
            try:
                async for message in self._pubsub.listen():
                    if message["type"] == "message":
                        self.handle(message["data"])
            except RedisError:
                log.exception("listening to the other instances failed; listening again")
                await asyncio.sleep(self.link.lease / 3)

    def handle(self, raw: bytes) -> None:
        try:
            event = decode_event(raw)
        except (KeyError, ValueError):
            log.exception("an unreadable message from another instance was ignored: %r", raw[:200])
            return
        if event.origin == self.link.instance_id:
            return
        try:
            self._carry_out(event)
        except Exception:
            log.exception("handling %s from another instance failed", type(event).__name__)

    def _carry_out(self, event: Event) -> None:
        match event:
            case Started(meta=meta):
                self.mirrors.started(meta)
                if self.hooks.watched(meta.conversation_id):
                    mirror = self.mirrors.get(meta.conversation_id)
                    if mirror is not None:
                        self.hooks.announce(mirror)
            case Ended():
                self.mirrors.ended(event)
            case StopAsked():
                self.hooks.stop(event.conversation_id, event.reason)
            case ApproveAsked():
                self.hooks.approve(event.conversation_id, event.user_id, event.call_id, event.allow)
            case Revoked(kind=RevocationKind.USER):
                self.hooks.user_revoked(event.identifier)
            case Revoked(kind=RevocationKind.SESSION):
                self.hooks.session_revoked(event.identifier)

    async def close(self) -> None:
        if self._pubsub is not None:
            with contextlib.suppress(RedisError):
                await self._pubsub.aclose()
