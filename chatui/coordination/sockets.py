"""Caps on open `/ws` sockets per user and per session, so one account cannot hold thousands of them.

Each accepted socket costs a task, buffers and a share of every reply's fan-out; the outside attack of issue 11 held
3,000 sockets for one user and `/api/health` took 9.6 s while one reply streamed. A socket past either cap is refused
at the handshake (HTTP 403, before the upgrade), like any other refused socket.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable


class SocketSlots:
    def __init__(self, per_user: int, per_session: int) -> None:
        self.per_user = per_user
        self.per_session = per_session
        self._users: Counter[str] = Counter()
        self._sessions: Counter[str] = Counter()

    async def acquire(self, user_id: str, session_id: str) -> Callable[[], None] | None:
        """`take()` as the handshake calls it; with several instances (`SharedSocketSlots`) the caps count them all."""
        return self.take(user_id, session_id)

    def take(self, user_id: str, session_id: str) -> Callable[[], None] | None:
        """A slot for one more socket, as the function that gives it back; None when a cap is reached."""
        if self._users[user_id] >= self.per_user or self._sessions[session_id] >= self.per_session:
            return None
        self._users[user_id] += 1
        self._sessions[session_id] += 1
        released = False

        def release() -> None:
            nonlocal released
            if released:
                return
            released = True
            for counter, key in ((self._users, user_id), (self._sessions, session_id)):
                counter[key] -= 1
                if counter[key] <= 0:
                    del counter[key]

        return release

    def held(self, user_id: str) -> int:
        return self._users[user_id]
