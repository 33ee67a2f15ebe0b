"""Sessions and passwords in the auth service: lifetimes on an injected clock, the password policy, timing."""

from __future__ import annotations

import time
from datetime import timedelta

import bcrypt
import pytest

from chatui.auth import AuthService, InvalidCredentials, InvalidRegistration, SessionPolicy
from chatui.passwords import PasswordHasher
from chatui.ratelimit import Throttle, limit_storage
from chatui.services import Services
from storage.models import utcnow


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):
        return self.now


def make_auth(services: Services, clock: Clock, rounds: int = 4) -> AuthService:
    storage = limit_storage()
    return AuthService(
        services.accounts,
        b"s" * 32,
        PasswordHasher(rounds),
        Throttle("ip", 1000, 60, storage),
        Throttle("name", 1000, 60, storage),
        SessionPolicy(idle=timedelta(days=7), absolute=timedelta(days=30)),
        clock=clock,
    )


async def test_idle_timeout_ends_a_session(services):
    clock = Clock()
    auth = make_auth(services, clock)
    user = await auth.register("idler", "password123")
    token = await auth.start_session(user)
    clock.now += timedelta(days=6, hours=23)
    assert await auth.resolve(token) is not None  # used within the idle window: still alive, and touched
    clock.now += timedelta(days=6, hours=23)
    assert await auth.resolve(token) is not None
    clock.now += timedelta(days=7)
    assert await auth.resolve(token) is None


async def test_absolute_lifetime_ends_a_session_even_when_used_daily(services):
    clock = Clock()
    auth = make_auth(services, clock)
    user = await auth.register("daily", "password123")
    token = await auth.start_session(user)
    for _ in range(29):
        clock.now += timedelta(days=1)
        assert await auth.resolve(token) is not None
    clock.now += timedelta(days=1, seconds=1)
    assert await auth.resolve(token) is None


async def test_each_sign_in_gets_a_new_session_token(services):
    auth = make_auth(services, Clock())
    user = await auth.register("fresh", "password123")
    first, second = await auth.start_session(user), await auth.start_session(user)
    assert first != second
    assert await auth.resolve("planted-before-sign-in") is None


async def test_sign_in_ticket_works_once_and_expires(services):
    clock = Clock()
    auth = make_auth(services, clock)
    user = await auth.register("ticketed", "password123")
    ticket = await auth.issue_ticket(user)
    token = await auth.redeem_ticket(ticket)
    assert token and await auth.resolve(token) is not None
    assert await auth.redeem_ticket(ticket) is None  # used
    late = await auth.issue_ticket(user)
    clock.now += timedelta(seconds=61)
    assert await auth.redeem_ticket(late) is None  # expired
    assert await auth.resolve(ticket) is None  # a ticket is not a session token


@pytest.mark.parametrize(
    ("password", "accepted"), [("1234567", False), ("12345678", True), ("x" * 64, True), ("x" * 1025, False)]
)
async def test_password_length_policy(services, password, accepted):
    auth = make_auth(services, Clock())
    if accepted:
        assert await auth.register(f"len{len(password)}", password)
    else:
        with pytest.raises(InvalidRegistration):
            await auth.register(f"len{len(password)}", password)


async def test_no_silent_72_byte_truncation(services):
    auth = make_auth(services, Clock())
    prefix = "p" * 72
    await auth.register("longpass", prefix + "-the-real-ending")
    assert await auth.authenticate("longpass", prefix + "-the-real-ending", "10.0.0.1")
    with pytest.raises(InvalidCredentials):
        await auth.authenticate("longpass", prefix + "-another-ending", "10.0.0.1")


async def test_megabyte_password_is_refused_without_hashing(services):
    auth = make_auth(services, Clock(), rounds=12)
    await auth.register("bigpass", "password123")
    started = time.perf_counter()
    with pytest.raises(InvalidRegistration):
        await auth.register("bigger", "x" * 1_000_000)
    with pytest.raises(InvalidCredentials):
        await auth.authenticate("bigpass", "x" * 1_000_000, "10.0.0.2")
    assert time.perf_counter() - started < 0.1  # one bcrypt at cost 12 alone takes ~0.2 s


async def test_default_cost_is_at_least_12(services):
    stored = await PasswordHasher().hash("password123")
    assert stored.startswith("$2b$12$")
    assert bcrypt.checkpw(b"anything", stored.encode()) is False


async def test_unknown_user_and_wrong_password_read_and_take_the_same(services):
    auth = make_auth(services, Clock(), rounds=12)
    await auth.register("realuser", "password123")

    async def attempt(name: str) -> tuple[str, float]:
        started = time.perf_counter()
        with pytest.raises(InvalidCredentials) as caught:
            await auth.authenticate(name, "wrong-password", "10.0.0.3")
        return caught.value.message, time.perf_counter() - started

    known_text, known_time = await attempt("realuser")
    unknown_text, unknown_time = await attempt("nosuchuser")
    assert known_text == unknown_text == "Wrong username or password."
    assert 0.5 < unknown_time / known_time < 2.0  # both pay for one bcrypt check
