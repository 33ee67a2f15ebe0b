"""Sessions with open pages and sockets: every check answers from memory, with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from chatui.accounts.live_sessions import LiveSessions
from storage import SignedIn

START = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def signed_in(session_id: str = "s1", user_id: str = "u1", lifetime: timedelta = timedelta(days=30)) -> SignedIn:
    session = SimpleNamespace(id=session_id, expires_at=START + lifetime, last_seen_at=START)
    return SignedIn(session, SimpleNamespace(id=user_id))  # type: ignore[arg-type]


def sessions(clock: Clock, touched: list[tuple[str, datetime]] | None = None) -> LiveSessions:
    async def touch(session_id: str, when: datetime) -> None:
        if touched is not None:
            touched.append((session_id, when))

    return LiveSessions(timedelta(days=7), clock, touch)


def test_idle_limit_ends_the_session_at_the_first_check_after_it() -> None:
    clock = Clock()
    live = sessions(clock)
    ended: list[str] = []
    live.watch(signed_in(), lambda: ended.append("s1"))
    clock.now = START + timedelta(days=6, hours=23)
    assert ended == []  # no check yet
    clock.now = START + timedelta(days=7)
    assert not live.alive("s1")
    assert ended == ["s1"] and not live.watched("s1")


def test_absolute_limit_ends_even_an_active_session() -> None:
    clock = Clock()
    live = sessions(clock)
    ended: list[str] = []
    live.watch(signed_in(lifetime=timedelta(days=2)), lambda: ended.append("s1"))
    for hours in range(0, 48, 6):
        clock.now = START + timedelta(hours=hours)
        assert live.alive("s1")
    clock.now = START + timedelta(days=2)
    assert not live.alive("s1") and ended == ["s1"]


async def test_use_moves_the_idle_deadline_and_is_written_back() -> None:
    clock = Clock()
    touched: list[tuple[str, datetime]] = []
    live = sessions(clock, touched)
    live.watch(signed_in(), lambda: None)
    clock.now = START + timedelta(days=6)
    assert live.alive("s1")  # a UI event or frame: the session was used now
    clock.now = START + timedelta(days=12)
    assert live.alive("s1")
    clock.now = START + timedelta(days=19, minutes=1)
    assert not live.alive("s1")
    for task in list(live._tasks):
        await task
    assert [when for _, when in touched] == [START + timedelta(days=6), START + timedelta(days=12)]


def test_revoking_a_user_ends_all_its_sessions_and_only_those() -> None:
    live = sessions(Clock())
    ended: list[str] = []
    for session_id, user_id in (("a", "u1"), ("b", "u1"), ("c", "u2")):
        live.watch(signed_in(session_id, user_id), lambda s=session_id: ended.append(s))
    live.end_user("u1")
    assert sorted(ended) == ["a", "b"]
    assert not live.alive("a") and live.alive("c")


def test_an_unsubscribed_listener_is_not_called_and_the_session_is_forgotten() -> None:
    live = sessions(Clock())
    ended: list[str] = []
    unsubscribe = live.watch(signed_in(), lambda: ended.append("s1"))
    unsubscribe()
    live.end("s1")
    assert ended == [] and not live.watched("s1")
