"""The account service: what pages and routes do with accounts besides signing in, with its rules in one place.

    set_theme       the colour theme a person chose (stored with the account)
    dismiss_fallback_note   a person has read that new chats start on another model than the default
    list_users      every account, for an administrator
    create_user     an administrator makes an account (approved, whatever the sign-up mode)
    set_approved    approve a pending account, or take the approval back (its sessions end); never one's own
    reject          a pending account is deleted (it never had anything)
    set_admin       promote or demote; never one's own (so there is always an administrator)
    set_disabled    an administrator disables (every session ends at once) or enables an account; never their own
    reset_password  an administrator sets a new password (every session of the account ends)
    delete_user     the account and everything it owns go; never one's own

Refusals are `AuthError`s with a reason (`chatui.accounts.errors`): the administrator rules are enforced here,
whatever page or route asks (the admin page hiding the button for one's own account is a courtesy, not the rule).
The acting administrator is read from the database for each of them: one demoted on another instance a moment ago
is refused, whatever their open page's copy of the account says. Every change that ends sessions does so on every
instance (`AuthService.revoke_user`).
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

    async def dismiss_fallback_note(self, user_id: str, default_model: str) -> None:
        """Stored with the account, so the note stays dismissed on every browser, until the default changes."""
        await self._accounts.set_dismissed_fallback(user_id, default_model)

    async def list_users(self, *, by: User) -> list[User]:
        """Every account, oldest first."""
        await fresh_admin(self._accounts, by)
        return await self._accounts.list_users()

    async def user(self, user_id: str, *, by: User) -> User:
        """One account as it is stored now."""
        await fresh_admin(self._accounts, by)
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

    async def create_user(self, username: str, password: str, *, is_admin: bool = False, by: User) -> User:
        """An account made by an administrator: approved at once, in any sign-up mode (the name and password rules
        are the sign-up's)."""
        await fresh_admin(self._accounts, by)
        user = await self._auth.register(username, password, approved=True)
        if is_admin and not user.is_admin:
            await self._accounts.set_admin(user.id, True)
        return await self.user(user.id, by=by)

    async def set_approved(self, user_id: str, approved: bool, *, by: User) -> User:
        """Approve (the account can sign in from now on) or take the approval back (its sessions end at once)."""
        user = await self.user(user_id, by=by)
        if not approved and user.id == by.id:
            raise AuthError(AuthRefusal.NOT_YOURSELF, "You cannot withdraw your own approval.")
        await self._accounts.set_approved(user.id, approved)
        if not approved:
            await self._auth.revoke_user(user.id)
        return await self.user(user_id, by=by)

    async def reject(self, user_id: str, *, by: User) -> None:
        """Turn a sign-up down: the pending account is deleted (an approved one is deleted with `delete_user`)."""
        user = await self.user(user_id, by=by)
        if user.is_approved:
            raise AuthError(AuthRefusal.NOT_PENDING, f"{user.username} is not waiting for approval.")
        await self._accounts.delete_user(user.id)

    async def set_admin(self, user_id: str, is_admin: bool, *, by: User) -> User:
        """Promote or demote. Not oneself: the one demoting is an administrator who stays one, so one always is."""
        user = await self.user(user_id, by=by)
        if not is_admin and user.id == by.id:
            raise AuthError(AuthRefusal.NOT_YOURSELF, "You cannot demote yourself; another administrator can.")
        await self._accounts.set_admin(user.id, is_admin)
        return await self.user(user_id, by=by)

    async def delete_user(self, user_id: str, *, by: User) -> None:
        """Delete an account and everything it owns. Its pages and sockets close and its replies stop first, on
        every instance, so nothing writes for it once it is gone."""
        user = await self.user(user_id, by=by)
        if user.id == by.id:
            raise AuthError(AuthRefusal.NOT_YOURSELF, "You cannot delete your own account.")
        await self._auth.revoke_user(user.id)
        await self._accounts.delete_user(user.id)

    async def reset_password(self, user_id: str, password: str, *, by: User) -> User:
        """A new password chosen by an administrator; every session of the account ends."""
        user = await self.user(user_id, by=by)
        await self._auth.change_password(user.id, password)
        return user


async def fresh_admin(accounts: AccountRepository, by: User) -> User:
    """The acting account as stored now, if it is a working administrator's; else `ADMINS_ONLY`."""
    current = await accounts.user_by_id(by.id)
    if current is None or not current.is_admin or current.is_disabled or not current.is_approved:
        raise AuthError(AuthRefusal.ADMINS_ONLY, "Administrators only.")
    return current
