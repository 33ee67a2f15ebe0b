"""Who may sign up: `CHATUI_SIGNUP` (open, approval or closed), invitations, and the switch an administrator flips.

    open       anyone who reaches the port gets an account that works at once
    approval   (the default) anyone may sign up, and the account waits until an administrator approves it: it can
               sign in to nothing until then (`AuthService.authenticate` refuses it, `resolve` ignores its sessions)
    closed     no one signs up; an administrator creates accounts or sends an invitation link

Whatever the mode, the first account can always be created and becomes the administrator (the repository decides
it in the same statement as the insert), and an invitation link (single-use, expiring) creates a working account.
The mode an administrator sets in the app is stored in the database, so every instance reads the same one, and it
wins over the environment's value from then on.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from enum import StrEnum

from chatui.accounts.auth import AuthService
from chatui.accounts.service import fresh_admin
from storage import AccountRepository, User
from storage.models import utcnow

SIGNUP_KEY = "signup"


class SignupMode(StrEnum):
    OPEN = "open"
    APPROVAL = "approval"
    CLOSED = "closed"


class SignUp:
    def __init__(
        self, accounts: AccountRepository, auth: AuthService, default: SignupMode, invite_lifetime: timedelta
    ) -> None:
        self._accounts = accounts
        self._auth = auth
        self.default = default
        self.invite_lifetime = invite_lifetime

    async def mode(self) -> SignupMode:
        """The mode an administrator set in the app, else `CHATUI_SIGNUP`'s (read each time: another instance may
        have changed it)."""
        stored = await self._accounts.app_setting(SIGNUP_KEY)
        return SignupMode(stored) if stored in set(SignupMode) else self.default

    async def set_mode(self, mode: SignupMode, *, by: User) -> None:
        await fresh_admin(self._accounts, by)
        await self._accounts.set_app_setting(SIGNUP_KEY, SignupMode(mode).value)

    async def first_account(self) -> bool:
        """Whether the next account would be the first (the administrator): it can be created in any mode."""
        return not await self._accounts.has_users()

    async def register(self, username: str, password: str, ip: str | None, invite: str | None = None) -> User:
        """A sign-up from the sign-in page or the API, under the mode; an invitation makes it work in any mode.
        The account returned may be pending (`is_approved` false): the caller says so instead of signing in."""
        mode = await self.mode()
        return await self._auth.register(
            username,
            password,
            ip,
            approved=mode == SignupMode.OPEN or invite is not None,
            only_first=mode == SignupMode.CLOSED and invite is None,
            invite=invite,
        )

    async def invite(self, *, by: User) -> str:
        """A new invitation token (only its HMAC is stored), good for one sign-up within `invite_lifetime`."""
        await fresh_admin(self._accounts, by)
        token = secrets.token_urlsafe(24)
        expires = utcnow() + self.invite_lifetime
        await self._accounts.create_invite(self._auth.invite_hash(token), by.id, expires)
        return token

    async def invite_usable(self, token: str) -> bool:
        return 0 < len(token) <= 100 and await self._accounts.invite_usable(self._auth.invite_hash(token))


def invite_url(base_url: str, token: str) -> str:
    """The sign-up page with the invitation, at the address the administrator reached this app by."""
    return f"{base_url.rstrip('/')}/login?invite={token}"
