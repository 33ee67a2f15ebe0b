"""The caps on open `/ws` sockets, counted over every instance.

Each instance's count is a field of a Redis hash per user and per session (`sockets:user:<id>`,
`sockets:session:<id>`); a slot is taken by a Lua script that checks both caps and counts only instances whose
lease is alive, so the sockets of an instance that died stop counting when its lease ends.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from redis.exceptions import RedisError

from chatui.coordination.redis.link import Link
from chatui.coordination.redis.wire import GIVE_SOCKET, TAKE_SOCKET
from chatui.coordination.sockets import SocketSlots

log = logging.getLogger(__name__)


class SharedSocketSlots(SocketSlots):
    def __init__(self, link: Link, per_user: int, per_session: int) -> None:
        super().__init__(per_user, per_session)
        self.link = link
        self._take = link.redis.register_script(TAKE_SOCKET)
        self._give = link.redis.register_script(GIVE_SOCKET)

    async def acquire(self, user_id: str, session_id: str) -> Callable[[], None] | None:
        keys = self._keys(user_id, session_id)
        try:
            args: list[str | int] = [
                self.link.instance_id,
                self.per_user,
                self.per_session,
                self.link.keys.lease_prefix,
            ]
            taken = await self._take(keys=keys, args=args)
        except RedisError:
            log.exception("the shared socket caps could not be checked; counting this instance's sockets only")
            return self.take(user_id, session_id)
        if not taken:
            return None
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self.link.spawn(self._give(keys=keys, args=[self.link.instance_id]))

        return release

    def _keys(self, user_id: str, session_id: str) -> list[str]:
        return [self.link.keys.sockets("user", user_id), self.link.keys.sockets("session", session_id)]
