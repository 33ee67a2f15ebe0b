"""Accounts, sign-in and server-side sessions — one design for the pages, the JSON API and `/ws`.

The browser holds one cookie, `chatui_session`: a random token (HttpOnly, SameSite=Strict, Path=/). The database
keeps only an HMAC of it under the app's secret, so neither a copy of the database nor a new secret yields a usable
cookie. Every request, page load and socket handshake resolves the cookie against the sessions table, so a revoked
or expired session stops working everywhere at once.

The UI signs in over NiceGUI's own socket, which cannot set cookies. It therefore gets a one-time ticket (valid for
a minute, and only in the browser that asked for it: `chatui.web.sign_in_binding`) and navigates to
`/auth/complete?ticket=...`, an ordinary HTTP response that sets the cookie.

Names and passwords are normalised by one rule everywhere (`chatui.accounts.names`; a password is compared in NFC:
`chatui.accounts.passwords`). Every password check and sign-up is limited first (`chatui.accounts.guesses`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chatui.accounts.checks import RecentChecks
from chatui.accounts.errors import AuthError, AuthRefusal
from chatui.accounts.guesses import AuthLimits
from chatui.accounts.live_sessions import TOUCH_INTERVAL, LiveSessions
from chatui.accounts.names import (
    NAME_INPUT_MAX,
    USERNAME_PATTERN,
    USERNAME_RULE,
    display_username,
    username_key,
)
from chatui.accounts.passwords import PasswordHasher, PasswordRejected, check_policy, normalize_password
from chatui.coordination.base import Coordination, RevocationKind
from storage import AccountRepository, InviteUnusable, NotFirst, SignedIn, User, UsernameTaken
from storage.models import utcnow

log = logging.getLogger(__name__)

COOKIE_NAME = "chatui_session"
LOCAL_USERNAME = "local"
NO_PASSWORD = "!"  # not a bcrypt hash: no password matches it
TICKET_SECONDS = 60
SIGNUP_CLOSED = "Sign-up is closed; ask an administrator for an account or an invitation link."
PENDING_MESSAGE = "Your account is waiting for an administrator's approval."
INVITE_UNUSABLE = "This invitation link was already used or has expired; ask for a new one."


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """How long a session lives unused (`idle`) and at most (`absolute`), and how long a cookie's check is reused
    (`reuse`, see `AuthService.resolve`); from `Settings`."""

    idle: timedelta
    absolute: timedelta
    reuse: timedelta


RevocationListener = Callable[[], None]


class AuthService:
    def __init__(
        self,
        accounts: AccountRepository,
        secret: bytes,
        hasher: PasswordHasher,
        limits: AuthLimits,
        policy: SessionPolicy,
        clock: Callable[[], datetime] = utcnow,
        single_user: bool = False,
        *,
        coordination: Coordination[Any] | None = None,
        on_user_revoked: Iterable[Callable[[str], None]] = (),
        on_session_revoked: Iterable[Callable[[str], None]] = (),
    ) -> None:
        """`coordination`: the other instances, told of every revocation made here (None: one process). The
        `on_*_revoked` callbacks stop what a revoked user or session was doing (its replies)."""
        self.accounts = accounts
        self.hasher = hasher
        self.policy = policy
        self.clock = clock
        self._secret = secret
        self.limits = limits
        self.single_user = single_user
        # Sessions with open pages or sockets: checked in memory on every UI event and frame, closed at expiry.
        self.live = LiveSessions(None if single_user else self.policy.idle, clock, accounts.touch_session)
        self.live.on_expired.append(lambda session_id: self._session_ended(session_id))
        self._local: SignedIn | None = None
        self._local_lock = asyncio.Lock()
        self._resolving: dict[str, asyncio.Future[SignedIn | None]] = {}
        self._recent = RecentChecks(policy.reuse, TOUCH_INTERVAL)
        self.on_user_revoked = list(on_user_revoked)
        self.on_session_revoked = list(on_session_revoked)
        self.coordination = coordination

    def token_hash(self, token: str) -> str:
        return hmac.new(self._secret, token.encode(), hashlib.sha256).hexdigest()

    def invite_hash(self, token: str) -> str:
        """What is stored of an invitation's token (an HMAC, like a session's, in a space of its own)."""
        return self.token_hash(f"invite:{token}")

    # -- accounts -----------------------------------------------------------------------------------------------

    async def register(
        self,
        username: str,
        password: str,
        ip: str | None = None,
        *,
        approved: bool = True,
        only_first: bool = False,
        invite: str | None = None,
    ) -> User:
        """Create an account. `ip` is the client's address, whose sign-ups are limited (None: not a client's).

        Who may sign up is decided by `chatui.accounts.signup`, which passes its terms: `approved` (else the account
        waits for an administrator, unless it is the first), `only_first` (sign-up closed: only the first account),
        `invite` (an invitation token, used up with the sign-up)."""
        username = display_username(username)
        if not USERNAME_PATTERN.match(username):
            raise AuthError(AuthRefusal.INVALID_REGISTRATION, USERNAME_RULE)
        try:
            check_policy(normalize_password(password))
        except PasswordRejected as exc:
            raise AuthError(AuthRefusal.INVALID_REGISTRATION, str(exc)) from exc
        if ip is not None:
            await self.limits.registration(ip)
        password_hash = await self.hasher.hash(password)
        try:
            return await self.accounts.create_user(
                username,
                password_hash,
                approved=approved,
                only_first=only_first,
                invite_hash=self.invite_hash(invite) if invite is not None else None,
            )
        except UsernameTaken:
            raise AuthError(AuthRefusal.NAME_TAKEN, "That username is taken.") from None
        except NotFirst:
            raise AuthError(AuthRefusal.SIGNUP_CLOSED, SIGNUP_CLOSED) from None
        except InviteUnusable:
            raise AuthError(AuthRefusal.BAD_INVITE, INVITE_UNUSABLE) from None

    async def authenticate(self, username: str, password: str, ip: str) -> User:
        """Check a sign-in; failures count against both the address and the name, and read the same either way."""
        name = username_key(username)[:NAME_INPUT_MAX]
        user = await self.user_named(username)
        if not await self._check_password(name, user, password, ip, "Too many sign-in attempts") or user is None:
            raise AuthError(AuthRefusal.INVALID_CREDENTIALS, "Wrong username or password.")
        if user.is_disabled:
            raise AuthError(AuthRefusal.INVALID_CREDENTIALS, "This account is disabled; ask an administrator.")
        if not user.is_approved:  # told only to the one who knows the password
            raise AuthError(AuthRefusal.PENDING, PENDING_MESSAGE)
        await self.limits.signed_in(name, ip)
        return user

    async def user_named(self, username: str) -> User | None:
        """The account of that name under the one rule (NFKC, casefold), for every way a name is typed in."""
        return await self.accounts.user_by_name(username_key(username)) if len(username) <= NAME_INPUT_MAX else None

    async def change_own_password(self, user_id: str, current_password: str, new_password: str, ip: str) -> None:
        """A signed-in user's change: the current password is checked (and its guesses limited) first."""
        try:
            check_policy(normalize_password(new_password))
        except PasswordRejected as exc:
            raise AuthError(AuthRefusal.INVALID_REGISTRATION, str(exc)) from exc
        user = await self.accounts.user_by_id(user_id)
        name = username_key(user.username) if user else user_id
        if not await self._check_password(name, user, current_password, ip, "Too many wrong passwords"):
            raise AuthError(AuthRefusal.WRONG_PASSWORD, "The current password is wrong.")
        await self.change_password(user_id, new_password)

    async def _check_password(self, name: str, user: User | None, password: str, ip: str, refusal: str) -> bool:
        """Whether `password` is `user`'s (False for no user, at the same cost), within the limits on guesses."""

        async def verify() -> bool:
            return await self.hasher.verify(password, user.password_hash if user else None) and user is not None

        return await self.limits.check(name, ip, verify, refusal)

    async def change_password(self, user_id: str, new_password: str) -> None:
        """Set a new password and end every session of the account (the caller signs in again)."""
        try:
            password_hash = await self.hasher.hash(new_password)
        except PasswordRejected as exc:
            raise AuthError(AuthRefusal.INVALID_REGISTRATION, str(exc)) from exc
        await self.accounts.set_password_hash(user_id, password_hash)  # and ends its sessions: one transaction
        await self._user_revoked(user_id)

    async def set_disabled(self, user_id: str, disabled: bool) -> bool:
        changed = await self.accounts.set_disabled(user_id, disabled)
        if changed and disabled:
            await self.revoke_user(user_id)
        return changed

    # -- sessions -----------------------------------------------------------------------------------------------

    async def start_session(self, user: User) -> str:
        """A new session for the JSON API; returns the cookie token (a fresh one at every sign-in)."""
        token = secrets.token_urlsafe(32)
        await self.accounts.create_session(
            user.id, token_hash=self.token_hash(token), expires_at=self.clock() + self.policy.absolute
        )
        return token

    async def issue_ticket(self, user: User, binding: str) -> str:
        """A pending session for the UI, redeemable once within a minute at `/auth/complete`, and only by the
        browser whose sign-in cookie is `binding` (only the HMAC of both together is stored)."""
        if not binding:
            raise ValueError("a sign-in ticket needs the browser's binding")
        ticket = secrets.token_urlsafe(32)
        now = self.clock()
        await self.accounts.create_session(
            user.id,
            ticket_hash=self._ticket_hash(ticket, binding),
            ticket_expires_at=now + timedelta(seconds=TICKET_SECONDS),
            expires_at=now + self.policy.absolute,
        )
        return ticket

    async def redeem_ticket(self, ticket: str, binding: str | None) -> str | None:
        """The session token for a valid, unused ticket presented by the browser it was issued to; None otherwise."""
        if not binding or len(binding) > 100:
            return None
        token = secrets.token_urlsafe(32)
        ticket_hash = self._ticket_hash(ticket, binding)
        session = await self.accounts.redeem_ticket(ticket_hash, self.token_hash(token), self.clock())
        return token if session is not None else None

    def _ticket_hash(self, ticket: str, binding: str) -> str:
        return self.token_hash(f"{ticket}:{binding}")

    async def resolve(self, token: str | None) -> SignedIn | None:
        """The live session behind a cookie token: not revoked, not idle too long, not past its lifetime.

        Calls for the same token while one is being looked up wait for that one rather than read again: a browser
        opening many sockets and pages at once (issue 13: 25 chats of one user in the same second) costs one read.
        """
        if self.single_user:
            return await self.local_account()
        if not token or len(token) > 200:
            return None
        token_hash = self.token_hash(token)
        pending = self._resolving.get(token_hash)
        if pending is None:
            pending = asyncio.ensure_future(self._resolve(token_hash))
            self._resolving[token_hash] = pending
            pending.add_done_callback(lambda _: self._resolving.pop(token_hash, None))
        return await asyncio.shield(pending)

    async def resolve_socket(self, token: str | None) -> SignedIn | None:
        """`resolve` for a `/ws` handshake, which reuses a check made in the last `policy.reuse`
        (`chatui.accounts.checks`): a client that just made a request (created the conversation, opened the page,
        or another socket) opens its socket without a database trip."""
        if self.single_user or not token or len(token) > 200:
            return await self.resolve(token)
        recent = self._recent.get(self.token_hash(token), self.clock())
        return recent if recent is not None else await self.resolve(token)

    async def _resolve(self, token_hash: str) -> SignedIn | None:
        revocations = self._recent.revocations
        found = await self.accounts.signed_in(token_hash)
        if found is None:
            return None
        session, user = found.session, found.user
        now = self.clock()
        if (
            session.revoked_at is not None
            or user.is_disabled
            or not user.is_approved
            or now >= session.expires_at
            or now - session.last_seen_at >= self.policy.idle
        ):
            if self.live.watched(session.id):  # ended by another instance, or expired: its pages here close too
                self.live.end(session.id)
            return None
        last_seen = session.last_seen_at
        if now - last_seen >= TOUCH_INTERVAL:
            await self.accounts.touch_session(session.id, now)
            self.live.seen(session.id, now)
            last_seen = now
        if revocations == self._recent.revocations:  # no revocation came in while it was read
            self._recent.remember(token_hash, found, now, last_seen)
        return found

    async def local_account(self) -> SignedIn:
        """Single-user mode: the one local account, always signed in (it has no password)."""
        async with self._local_lock:
            if self._local is None:
                user = await self.accounts.user_by_name(LOCAL_USERNAME)
                if user is None:
                    user = await self.accounts.create_user(LOCAL_USERNAME, NO_PASSWORD)
                session = await self.accounts.create_session(user.id, expires_at=self.clock() + timedelta(days=36500))
                self._local = SignedIn(session, user)
            return self._local

    async def sign_out(self, token: str | None) -> None:
        found = await self.accounts.signed_in(self.token_hash(token)) if token else None
        if found is not None:
            await self.end_session(found.session.id)

    async def end_session(self, session_id: str) -> None:
        """Revoke one session: its pages go to sign-in, its sockets close, its replies stop (on every instance)."""
        await self.accounts.revoke_session(session_id)
        self.session_revoked_here(session_id)
        if self.coordination is not None:
            await self.coordination.revoked(RevocationKind.SESSION, session_id)

    async def revoke_user(self, user_id: str) -> None:
        """End every session of an account now: pages go to sign-in, sockets close, replies stop."""
        await self.accounts.revoke_user_sessions(user_id)
        await self._user_revoked(user_id)

    async def _user_revoked(self, user_id: str) -> None:
        """The account's sessions were revoked in the database: carry it out here and on every other instance."""
        self.user_revoked_here(user_id)
        if self.coordination is not None:
            await self.coordination.revoked(RevocationKind.USER, user_id)

    def session_revoked_here(self, session_id: str) -> None:
        """The session's pages and sockets in this process close, and the replies it started stop."""
        self.live.end(session_id)
        self._session_ended(session_id)

    def user_revoked_here(self, user_id: str) -> None:
        """Every page and socket of the account in this process closes, and its replies stop."""
        self._recent.forget(user_id=user_id)
        self.live.end_user(user_id)
        for callback in self.on_user_revoked:
            callback(user_id)

    def on_revoked(self, signed_in: SignedIn, listener: RevocationListener) -> Callable[[], None]:
        """Call `listener` once when this session ends (revoked, or expired while open); returns the unsubscribe."""
        return self.live.watch(signed_in, listener)

    def alive(self, session_id: str) -> bool:
        """Whether a session with an open page or socket may still act (in memory, never awaits; see `LiveSessions`)."""
        return self.live.alive(session_id)

    def _session_ended(self, session_id: str) -> None:
        self._recent.forget(session_id=session_id)  # revoked, or expired with pages open: no check of it is reused
        for callback in self.on_session_revoked:
            callback(session_id)
