"""The account service: what pages and routes do with accounts besides signing in, with its rules in one place.

    set_theme       the colour theme a person chose (stored with the account)
    list_users      every account, for an administrator
    set_disabled    an administrator disables (every session ends at once) or enables an account; never their own
    reset_password  an administrator sets a new password (every session of the account ends)

Refusals are `AuthError`s with a reason (`chatui.accounts.errors`): the administrator rules are enforced here,
whatever page or route asks (the admin page hiding the button for one's own account is a courtesy, not the rule).
"""

from __future__ import annotations

from chatui.accounts.auth import AuthService
from chatui.accounts.errors import AuthError, AuthRefusal
from storage import AccountRepository, User

THEMES = ("system", "light", "dark")
"""`system` follows the device."""


class AccountService:
    def __init__(self, accounts: AccountRepository, auth: AuthService) -> None:
        self._accounts = accounts
        self._auth = auth

    async def set_theme(self, user_id: str, theme: str) -> None:
        if theme not in THEMES:
            raise ValueError(f"unknown theme {theme!r}")
        await self._accounts.set_theme(user_id, theme)

    async def list_users(self, *, by: User) -> list[User]:
        """Every account, oldest first."""
        _admin(by)
        return await self._accounts.list_users()

    async def user(self, user_id: str, *, by: User) -> User:
        """One account as it is stored now."""
        _admin(by)
        user = await self._accounts.user_by_id(user_id)
        if user is None:
            raise AuthError(AuthRefusal.NO_SUCH_USER, "User not found.")
        return user

    async def set_disabled(self, user_id: str, disabled: bool, *, by: User) -> User:
        """Disable (every session of the account ends at once) or enable an account; not one's own."""
        user = await self.user(user_id, by=by)
        if disabled and user.id == by.id:
            raise AuthError(AuthRefusal.NOT_YOURSELF, "You cannot disable your own account.")
        await self._auth.set_disabled(user.id, disabled)
        return await self.user(user_id, by=by)

    async def reset_password(self, user_id: str, password: str, *, by: User) -> User:
        """A new password chosen by an administrator; every session of the account ends."""
        user = await self.user(user_id, by=by)
        await self._auth.change_password(user.id, password)
        return user


def _admin(user: User) -> None:
    if not user.is_admin:
        raise AuthError(AuthRefusal.ADMINS_ONLY, "Administrators only.")
