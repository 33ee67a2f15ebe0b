"""Why an account operation was refused: a reason, never an HTTP status (the API maps reasons in one place,
`chatui.api.errors`; pages show `message` as is)."""

from __future__ import annotations

from enum import StrEnum


class AuthRefusal(StrEnum):
    INVALID_CREDENTIALS = "invalid_credentials"
    """Wrong name or password, or a disabled account: both read the same to the one signing in."""
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    INVALID_REGISTRATION = "invalid_registration"
    """A name or a new password that breaks the rules."""
    NAME_TAKEN = "name_taken"
    WRONG_PASSWORD = "wrong_password"
    """The current password given to change it was wrong."""
    NO_SUCH_USER = "no_such_user"
    NOT_YOURSELF = "not_yourself"
    """An administrator cannot disable, demote, un-approve or delete their own account."""
    ADMINS_ONLY = "admins_only"
    NOT_PENDING = "not_pending"
    """Only an account waiting for approval can be rejected."""
    PENDING = "pending"
    """The password was right, but an administrator has not approved the account yet."""
    SIGNUP_CLOSED = "signup_closed"
    BAD_INVITE = "bad_invite"
    """The invitation is unknown, used, or expired."""


class AuthError(Exception):
    """Registration, sign-in or an account change refused; `message` can be shown as is."""

    def __init__(self, reason: AuthRefusal, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.retry_after = retry_after
