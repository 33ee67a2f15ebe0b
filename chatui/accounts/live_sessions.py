"""The sessions that open pages and sockets stand on, kept in memory so each UI event and frame is checked at once.

A page or a `/ws` socket is authorised once, when it opens. From then on it acts for its session for as long as it
stays open, so the session must be re-checked on every event and frame, and the check must not wait for the
database: NiceGUI runs each UI event as its own task, and an awaiting check would let a later event overtake an
earlier one. So every session with an open page or socket is *watched* here: its owner, its absolute end and when it
was last used. `alive()` answers from that, synchronously; revocation (`end`, `end_user`) and expiry (a timer at
the session's next deadline, and `alive()` itself) call the session's listeners, which close its pages and sockets.

Activity on a page or socket counts as use of the session, like any request: `alive()` moves the idle deadline and
writes `last_seen_at` at most once a minute, in the background.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from storage import SignedIn

log = logging.getLogger(__name__)

Listener = Callable[[], None]
TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(eq=False)
class _Watched:
    user_id: str
    expires_at: datetime
    last_seen: datetime
    listeners: set[Listener] = field(default_factory=set)
    timer: asyncio.TimerHandle | None = None


class LiveSessions:
    """Watched sessions, their listeners and expiry timers (one per process; all methods run on the event loop)."""

    def __init__(
        self,
        idle: timedelta | None,
        clock: Callable[[], datetime],
        touch: Callable[[str, datetime], Awaitable[None]],
    ) -> None:
        """`idle`: the idle limit, None for sessions that never idle out (single-user mode)."""
        self.idle = idle
        self.clock = clock
        self._touch = touch
        self._sessions: dict[str, _Watched] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.on_expired: list[Callable[[str], None]] = []

    def watch(self, signed_in: SignedIn, listener: Listener) -> Callable[[], None]:
        """Call `listener` once when this session ends (revoked or expired); returns the unsubscribe."""
        session_id = signed_in.session.id
        watched = self._sessions.get(session_id)
        if watched is None:
            watched = _Watched(signed_in.user.id, signed_in.session.expires_at, signed_in.session.last_seen_at)
            self._sessions[session_id] = watched
            self._arm(session_id, watched)
        else:
            watched.last_seen = max(watched.last_seen, signed_in.session.last_seen_at)
        watched.listeners.add(listener)

        def unsubscribe() -> None:
            current = self._sessions.get(session_id)
            if current is watched:
                watched.listeners.discard(listener)
                if not watched.listeners:
                    self._forget(session_id)

        return unsubscribe

    def alive(self, session_id: str) -> bool:
        """Whether a watched session may still act, now; a use of it (moves its idle deadline). Never awaits."""
        watched = self._sessions.get(session_id)
        if watched is None:
            return False
        now = self.clock()
        if now >= self._deadline(watched):
            self._expire(session_id)
            return False
        if now - watched.last_seen >= TOUCH_INTERVAL:
            watched.last_seen = now
            self._write_last_seen(session_id, now)
        return True

    def seen(self, session_id: str, last_seen: datetime) -> None:
        """A request resolved this session elsewhere (a page load, an API call): it was used at `last_seen`."""
        watched = self._sessions.get(session_id)
        if watched is not None and last_seen > watched.last_seen:
            watched.last_seen = last_seen

    def end(self, session_id: str) -> None:
        """The session was revoked: its pages and sockets close now."""
        watched = self._forget(session_id)
        for listener in watched.listeners if watched else ():
            try:
                listener()
            except Exception:
                log.exception("a session listener failed")

    def end_user(self, user_id: str) -> None:
        """Every session of the account was revoked."""
        for session_id in [s for s, w in self._sessions.items() if w.user_id == user_id]:
            self.end(session_id)

    def watched(self, session_id: str) -> bool:
        return session_id in self._sessions

    # -- expiry ---------------------------------------------------------------------------------------------------

    def _deadline(self, watched: _Watched) -> datetime:
        if self.idle is None:
            return datetime.max.replace(tzinfo=watched.expires_at.tzinfo)
        return min(watched.expires_at, watched.last_seen + self.idle)

    def _arm(self, session_id: str, watched: _Watched) -> None:
        """A timer at the session's deadline; when it fires and the session was used meanwhile, it is set again."""
        if self.idle is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a unit test): `alive()` still checks the deadline
            return
        delay = (self._deadline(watched) - self.clock()).total_seconds()
        watched.timer = loop.call_later(max(delay, 0) + 0.01, self._check, session_id)

    def _check(self, session_id: str) -> None:
        watched = self._sessions.get(session_id)
        if watched is None:
            return
        if self.clock() >= self._deadline(watched):
            self._expire(session_id)
        else:
            self._arm(session_id, watched)

    def _expire(self, session_id: str) -> None:
        log.info("session %s expired with pages or sockets open; closing them", session_id)
        self.end(session_id)
        for callback in self.on_expired:
            callback(session_id)

    def _forget(self, session_id: str) -> _Watched | None:
        watched = self._sessions.pop(session_id, None)
        if watched is not None and watched.timer is not None:
            watched.timer.cancel()
        return watched

    def _write_last_seen(self, session_id: str, now: datetime) -> None:
        """Store the use in the background: the check itself must not wait for the database."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a unit test): nothing to write with
            return

        async def write() -> None:
            try:
                await self._touch(session_id, now)
            except Exception as exc:
                log.warning("could not store the last use of session %s: %r", session_id, exc)

        task = loop.create_task(write())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
