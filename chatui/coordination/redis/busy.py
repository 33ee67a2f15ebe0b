"""The busy guard: one reply at a time per conversation, over every instance.

`busy:<conversation>` is set (SET NX) to the id of the instance that writes a reply there, for three lease periods,
extended at every lease renewal while the reply lasts; it is deleted when the reply ends, only by its holder (a
guard that expired and was taken by another instance stays theirs).
"""

from __future__ import annotations

import contextlib

from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from chatui.coordination.base import CoordinationUnavailable
from chatui.coordination.redis.link import Link
from chatui.coordination.redis.wire import RELEASE


class BusyGuard:
    def __init__(self, link: Link) -> None:
        self.link = link
        self._release = link.redis.register_script(RELEASE)

    @property
    def _hold_ms(self) -> int:
        return int(self.link.lease * 3000)

    async def reserve(self, conversation_id: str) -> bool:
        """True when this instance now holds the conversation; raises `CoordinationUnavailable` without Redis."""
        try:
            key = self.link.keys.busy(conversation_id)
            return bool(await self.link.redis.set(key, self.link.instance_id, nx=True, px=self._hold_ms))
        except RedisError as exc:
            raise CoordinationUnavailable(str(exc)) from exc

    async def release(self, conversation_id: str) -> None:
        with contextlib.suppress(RedisError):
            await self._release(keys=[self.link.keys.busy(conversation_id)], args=[self.link.instance_id])

    async def release_in(self, pipe: Pipeline, conversation_id: str, owner: str) -> None:
        """Queue the release of `owner`'s guard on `pipe` (a reply's end, written by its owner or by the sweep)."""
        await self._release(keys=[self.link.keys.busy(conversation_id)], args=[owner], client=pipe)

    def extend_in(self, pipe: Pipeline, conversation_id: str) -> None:
        """Queue another three lease periods for this instance's guard (a reply still being written)."""
        pipe.pexpire(self.link.keys.busy(conversation_id), self._hold_ms)
