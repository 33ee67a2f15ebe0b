"""Sessions and passwords in the auth service: lifetimes on an injected clock, the password policy, timing,
the attempt limits under bursts, and the one normalisation rule for names and passwords."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import unicodedata
from collections.abc import Iterator
from datetime import timedelta

import bcrypt
import pytest

from chatui.accounts.auth import AuthService, SessionPolicy
from chatui.accounts.errors import AuthError, AuthRefusal
from chatui.accounts.guesses import AuthLimits
from chatui.accounts.passwords import PasswordHasher
from chatui.bootstrap import Services
from chatui.config import Settings
from chatui.coordination.local import LocalCoordination
from storage.models import utcnow


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):
        return self.now


class CountingHasher(PasswordHasher):
    """A real bcrypt hasher that counts the checks it runs, and the most hashes it ever ran at once."""

    def __init__(self, rounds: int = 4, threads: int | None = None) -> None:
        super().__init__(rounds, threads)
        self.checks = 0
        self.running = self.most_at_once = 0
        self._lock = threading.Lock()

    def _check(self, prehashed: bytes, stored: bytes) -> bool:
        with self._lock:
            self.checks += 1
        return super()._check(prehashed, stored)

    def _hash(self, prehashed: bytes) -> bytes:
        with self._lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            return super()._hash(prehashed)
        finally:
            with self._lock:
                self.running -= 1


@contextlib.contextmanager
def refused(reason: AuthRefusal) -> Iterator[pytest.ExceptionInfo[AuthError]]:
    """Like `pytest.raises(AuthError)`, for that reason only."""
    with pytest.raises(AuthError) as caught:
        yield caught
    assert caught.value.reason is reason


def is_refusal(result: object, reason: AuthRefusal) -> bool:
    return isinstance(result, AuthError) and result.reason is reason


def make_auth(
    services: Services,
    clock: Clock,
    rounds: int = 4,
    attempts: int = 1000,
    hasher: PasswordHasher | None = None,
    registrations: int = 1000,
) -> AuthService:
    return AuthService(
        services.store.accounts,
        b"s" * 32,
        hasher or PasswordHasher(rounds),
        AuthLimits.build(LocalCoordination(), attempts, 60, registrations),
        SessionPolicy(idle=timedelta(days=7), absolute=timedelta(days=30), reuse=timedelta(seconds=10)),
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
    ticket = await auth.issue_ticket(user, "this-browser")
    token = await auth.redeem_ticket(ticket, "this-browser")
    assert token and await auth.resolve(token) is not None
    assert await auth.redeem_ticket(ticket, "this-browser") is None  # used
    late = await auth.issue_ticket(user, "this-browser")
    clock.now += timedelta(seconds=61)
    assert await auth.redeem_ticket(late, "this-browser") is None  # expired
    assert await auth.resolve(ticket) is None  # a ticket is not a session token


async def test_a_ticket_works_only_in_the_browser_it_was_issued_to(services):
    auth = make_auth(services, Clock())
    user = await auth.register("bound", "password123")
    ticket = await auth.issue_ticket(user, "the-asking-browser")
    assert await auth.redeem_ticket(ticket, "another-browser") is None
    assert await auth.redeem_ticket(ticket, None) is None
    assert await auth.redeem_ticket(ticket, "") is None
    token = await auth.redeem_ticket(ticket, "the-asking-browser")  # the failed tries did not use it up
    assert token and (await auth.resolve(token)).user.id == user.id


@pytest.mark.parametrize(
    ("password", "accepted"), [("1234567", False), ("12345678", True), ("x" * 64, True), ("x" * 1025, False)]
)
async def test_password_length_policy(services, password, accepted):
    auth = make_auth(services, Clock())
    if accepted:
        assert await auth.register(f"len{len(password)}", password)
    else:
        with refused(AuthRefusal.INVALID_REGISTRATION):
            await auth.register(f"len{len(password)}", password)


async def test_no_silent_72_byte_truncation(services):
    auth = make_auth(services, Clock())
    prefix = "p" * 72
    await auth.register("longpass", prefix + "-the-real-ending")
    assert await auth.authenticate("longpass", prefix + "-the-real-ending", "10.0.0.1")
    with refused(AuthRefusal.INVALID_CREDENTIALS):
        await auth.authenticate("longpass", prefix + "-another-ending", "10.0.0.1")


async def test_megabyte_password_is_refused_without_hashing(services):
    auth = make_auth(services, Clock(), rounds=12)
    await auth.register("bigpass", "password123")
    started = time.perf_counter()
    with refused(AuthRefusal.INVALID_REGISTRATION):
        await auth.register("bigger", "x" * 1_000_000)
    with refused(AuthRefusal.INVALID_CREDENTIALS):
        await auth.authenticate("bigpass", "x" * 1_000_000, "10.0.0.2")
    assert time.perf_counter() - started < 0.1  # one bcrypt at cost 12 alone takes ~0.2 s


async def test_default_cost_is_at_least_12(services):
    stored = await PasswordHasher(Settings.model_fields["bcrypt_rounds"].default).hash("password123")
    assert stored.startswith("$2b$12$")
    assert bcrypt.checkpw(b"anything", stored.encode()) is False


async def test_unknown_user_and_wrong_password_read_and_take_the_same(services):
    # cost 10: a check (~60 ms) still outweighs everything else on the path many times over, at a quarter of 12's
    auth = make_auth(services, Clock(), rounds=10)
    await auth.register("realuser", "password123")

    async def attempt(name: str) -> tuple[str, float]:
        started = time.perf_counter()
        with refused(AuthRefusal.INVALID_CREDENTIALS) as caught:
            await auth.authenticate(name, "wrong-password", "10.0.0.3")
        return caught.value.message, time.perf_counter() - started

    known, unknown = [], []
    for _ in range(4):  # alternated, so that load from other processes falls on both kinds alike
        known.append(await attempt("realuser"))
        unknown.append(await attempt("nosuchuser"))
    assert {text for text, _ in known + unknown} == {"Wrong username or password."}
    known_time, unknown_time = min(t for _, t in known), min(t for _, t in unknown)  # the least disturbed by load
    assert 0.5 < unknown_time / known_time < 2.0  # both pay for one bcrypt check


async def test_a_burst_of_sign_ins_runs_at_most_the_limit_of_password_checks(services):
    hasher = CountingHasher()
    auth = make_auth(services, Clock(), attempts=10, hasher=hasher)
    await auth.register("burst-target", "the right one")
    guesses = [f"guess number {n}" for n in range(300)] + ["the right one"] * 5  # all sent at once
    results = await asyncio.gather(
        *(auth.authenticate("burst-target", guess, "10.1.1.1") for guess in guesses), return_exceptions=True
    )
    assert hasher.checks <= 10
    assert all(isinstance(r, BaseException) for r in results)  # nobody signed in, not even the owner
    assert sum(is_refusal(r, AuthRefusal.TOO_MANY_ATTEMPTS) for r in results) >= 295
    with refused(AuthRefusal.TOO_MANY_ATTEMPTS):  # and afterwards, the right password waits too
        await auth.authenticate("burst-target", "the right one", "10.1.1.1")
    assert hasher.checks <= 10


async def test_a_burst_of_current_password_guesses_is_limited_too(services):
    hasher = CountingHasher()
    auth = make_auth(services, Clock(), attempts=5, hasher=hasher)
    user = await auth.register("changer", "current password")
    results = await asyncio.gather(
        *(auth.change_own_password(user.id, f"guess {n:03}", "new password", "10.1.1.2") for n in range(100)),
        return_exceptions=True,
    )
    assert hasher.checks <= 5
    assert {r.reason for r in results} == {AuthRefusal.WRONG_PASSWORD, AuthRefusal.TOO_MANY_ATTEMPTS}
    with refused(AuthRefusal.TOO_MANY_ATTEMPTS):
        await auth.change_own_password(user.id, "current password", "new password", "10.1.1.2")
    assert (await services.store.accounts.user_by_id(user.id)).password_hash == user.password_hash  # unchanged


async def test_a_right_sign_in_does_not_use_up_the_allowance(services):
    auth = make_auth(services, Clock(), attempts=3)
    await auth.register("regular", "password123")
    for _ in range(10):
        assert await auth.authenticate("regular", "password123", "10.1.1.3")


async def test_guessing_from_many_addresses_does_not_lock_the_owner_out_of_a_known_one(services):
    auth = make_auth(services, Clock(), attempts=3)
    await auth.register("owner", "password123")
    assert await auth.authenticate("owner", "password123", "10.2.0.1")  # the owner's usual address
    for n in range(3):
        with refused(AuthRefusal.INVALID_CREDENTIALS):
            await auth.authenticate("owner", "wrong guess", f"10.3.0.{n}")
    with refused(AuthRefusal.TOO_MANY_ATTEMPTS):  # the name is locked for addresses it never signed in from...
        await auth.authenticate("owner", "password123", "10.3.0.99")
    assert await auth.authenticate("owner", "password123", "10.2.0.1")  # ...but not for the owner's own
    for _ in range(3):  # while every address stays strictly limited, known or not
        with refused(AuthRefusal.INVALID_CREDENTIALS):
            await auth.authenticate("owner", "wrong guess", "10.2.0.1")
    with refused(AuthRefusal.TOO_MANY_ATTEMPTS):
        await auth.authenticate("owner", "password123", "10.2.0.1")


KELVIN = "\u212aevin"  # "Kevin" with the Kelvin sign for its K


async def test_kelvin_sign_and_kevin_are_one_name_at_sign_up_and_sign_in(services):
    auth = make_auth(services, Clock())
    created = await auth.register(KELVIN, "password123")
    assert created.username == "Kevin"  # stored in NFKC
    assert (await auth.authenticate("kevin", "password123", "10.4.0.1")).id == created.id
    assert (await auth.authenticate(KELVIN, "password123", "10.4.0.1")).id == created.id
    assert (await auth.user_named(KELVIN)).id == created.id  # as the reset-password command finds it
    with refused(AuthRefusal.NAME_TAKEN):
        await auth.register("kevin", "password123")
    with refused(AuthRefusal.NAME_TAKEN):
        await auth.register("KEVIN", "password123")
    other = make_auth(services, Clock())
    await other.register("elvis", "password123")
    with refused(AuthRefusal.NAME_TAKEN):
        await other.register("\uff45lvis", "password123")  # fullwidth "e"


async def test_nfc_and_nfd_forms_of_a_password_are_the_same_password(services):
    auth = make_auth(services, Clock())
    nfc = unicodedata.normalize("NFC", "café crème brûlée")
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfc != nfd
    user = await auth.register("accented", nfd)
    assert await auth.authenticate("accented", nfc, "10.5.0.1")
    assert await auth.authenticate("accented", nfd, "10.5.0.1")
    await auth.change_own_password(user.id, nfc, nfd + "!", "10.5.0.1")  # change, and the administrator's reset
    assert await auth.authenticate("accented", nfc + "!", "10.5.0.1")
    await auth.change_password(user.id, nfc)
    assert await auth.authenticate("accented", nfd, "10.5.0.1")


async def test_sign_ups_per_address_are_limited_before_any_hashing(services):
    hasher = CountingHasher(threads=2)
    auth = make_auth(services, Clock(), registrations=5, hasher=hasher)
    results = await asyncio.gather(
        *(auth.register(f"newcomer{n}", "password123", "10.6.0.1") for n in range(40)), return_exceptions=True
    )
    created = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if is_refusal(r, AuthRefusal.TOO_MANY_ATTEMPTS)]
    assert len(created) == 5 and len(refused) == 35
    assert all(r.retry_after and r.retry_after > 0 for r in refused)
    assert hasher.most_at_once <= 2  # hashing waits for the bounded pool
    assert await auth.register("from-elsewhere", "password123", "10.6.0.2")  # other addresses are unaffected


async def test_a_sign_in_cancelled_while_its_password_is_checked_still_counts(services):
    loop = asyncio.get_running_loop()
    checking = asyncio.Event()

    class SignallingHasher(PasswordHasher):
        def _check(self, prehashed: bytes, stored: bytes) -> bool:
            loop.call_soon_threadsafe(checking.set)
            return super()._check(prehashed, stored)

    auth = make_auth(services, Clock(), attempts=2, hasher=SignallingHasher(4))
    await auth.register("hangup", "password123")
    for _ in range(2):  # the client hangs up while bcrypt runs
        checking.clear()
        attempt = asyncio.create_task(auth.authenticate("hangup", "a guess here", "10.7.0.1"))
        await checking.wait()
        attempt.cancel()
        with pytest.raises(asyncio.CancelledError):
            await attempt
    with refused(AuthRefusal.TOO_MANY_ATTEMPTS):
        await auth.authenticate("hangup", "password123", "10.7.0.1")


async def test_a_burst_of_requests_with_one_cookie_reads_the_session_once(services):
    """25 sockets of one browser opening in the same instant: one read of the session, the same answer for all."""
    auth = make_auth(services, Clock())
    user = await auth.register("opener", "password123")
    token = await auth.start_session(user)
    reads = 0
    original = auth.accounts.signed_in

    async def counted(token_hash: str):
        nonlocal reads
        reads += 1
        return await original(token_hash)

    auth.accounts.signed_in = counted  # type: ignore[method-assign]
    try:
        resolved = await asyncio.gather(*(auth.resolve(token) for _ in range(25)))
        assert reads == 1
        assert {r.session.id for r in resolved if r is not None} == {resolved[0].session.id}
        assert all(r is not None and r.user.id == user.id for r in resolved)
        await auth.end_session(resolved[0].session.id)
        assert await auth.resolve(token) is None  # a later request reads again, and sees the revocation
        assert reads == 2
    finally:
        auth.accounts.signed_in = original  # type: ignore[method-assign]


async def test_the_hasher_starts_without_hashing_and_an_unknown_account_costs_one_check_of_its_cost(
    monkeypatch: pytest.MonkeyPatch,
):
    """No bcrypt run at start (it cost every start 0.24 s, issue 28); a missing account still pays one full check."""
    checked: list[bytes] = []

    def no_hash(*_: object) -> bytes:
        raise AssertionError("bcrypt.hashpw at start")

    def check(password: bytes, stored: bytes) -> bool:
        checked.append(stored)
        return real_check(password, stored)

    real_check = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "hashpw", no_hash)
    monkeypatch.setattr(bcrypt, "checkpw", check)
    hasher = PasswordHasher(6, threads=1)
    try:
        assert await hasher.verify("password123", None) is False
    finally:
        hasher.close()
    assert [stored[:7] for stored in checked] == [b"$2b$06$"]  # bcrypt ran, at the hasher's cost


@contextlib.contextmanager
def counting_reads(auth: AuthService) -> Iterator[list[str]]:
    """The session reads `auth` makes, as they happen."""
    reads: list[str] = []
    original = auth.accounts.signed_in

    async def counted(token_hash: str):
        reads.append(token_hash)
        return await original(token_hash)

    auth.accounts.signed_in = counted  # type: ignore[method-assign]
    try:
        yield reads
    finally:
        auth.accounts.signed_in = original  # type: ignore[method-assign]


async def test_a_recent_check_is_reused_until_the_reuse_time_or_a_revocation(services):
    """A socket opened right after the request that checked its cookie is not read again (issue 28); a revocation,
    here or announced by another instance, is seen at once, and so is the end of the reuse time."""
    clock = Clock()
    auth = make_auth(services, clock)
    user = await auth.register("reuser", "password123")
    token, other = await auth.start_session(user), await auth.start_session(user)
    with counting_reads(auth) as reads:
        first = await auth.resolve_socket(token)
        assert first is not None
        clock.now += timedelta(seconds=9)
        assert await auth.resolve_socket(token) is first and len(reads) == 1
        clock.now += timedelta(seconds=1)  # 10 s: read again
        again = await auth.resolve_socket(token)
        assert again is not None and again.session.id == first.session.id and len(reads) == 2
        await auth.resolve_socket(other)
        auth.session_revoked_here(first.session.id)  # as another instance announces it (it revoked in the database)
        await auth.accounts.revoke_session(first.session.id)
        assert await auth.resolve_socket(token) is None and len(reads) == 4  # read again: revoked
        assert await auth.resolve_socket(other) is not None and len(reads) == 4  # the other session's check stands
        await auth.revoke_user(user.id)
        assert await auth.resolve_socket(other) is None


async def test_a_check_overtaken_by_a_revocation_is_not_kept(services):
    auth = make_auth(services, Clock())
    user = await auth.register("overtaken", "password123")
    token = await auth.start_session(user)
    original = auth.accounts.signed_in

    async def read_then_revoked(token_hash: str):
        found = await original(token_hash)  # read while still valid ...
        auth.session_revoked_here(found.session.id)  # ... and revoked before the answer arrives
        await auth.accounts.revoke_session(found.session.id)
        return found

    auth.accounts.signed_in = read_then_revoked  # type: ignore[method-assign]
    try:
        assert await auth.resolve_socket(token) is not None  # the answer of its time
    finally:
        auth.accounts.signed_in = original  # type: ignore[method-assign]
    assert await auth.resolve_socket(token) is None  # not kept for the next one
