"""How password guesses and sign-ups are limited, in the coordination's store (so every instance counts them).

Every password check (sign-in, and the current password of a password change) first reserves an attempt under
the limits (`chatui.coordination.throttles.AttemptLimiter`): per client address always, and per username when the
address is not one the account has signed in from before, so guessing from many addresses cannot lock the owner
out of the addresses they use. Reserved before the bcrypt check, so a burst cannot run more checks than the limit
allows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from chatui.accounts.errors import AuthError, AuthRefusal
from chatui.coordination.base import Coordination
from chatui.coordination.throttles import AttemptLimiter, RateLimited, Remembered, Throttle

KNOWN_ADDRESS_DAYS = 30


@dataclass
class AuthLimits:
    """The limits on password checks and sign-ups, all kept in the coordination's store (seen by every instance)."""

    per_address: Throttle  # failed password checks per client address: always applies
    per_name: Throttle  # failed password checks per username, from addresses it never signed in from
    known: Remembered  # "username|address" pairs that signed in successfully
    registrations: Throttle  # sign-ups per client address
    attempts: AttemptLimiter  # password checks in progress, on every instance

    @classmethod
    def build(
        cls, coordination: Coordination[Any], attempts: int, window_seconds: int, registrations_per_hour: int
    ) -> AuthLimits:
        storage = coordination.limit_storage
        return cls(
            per_address=Throttle("login-ip", attempts, window_seconds, storage),
            per_name=Throttle("login-name", attempts, window_seconds, storage),
            known=Remembered("login-known", KNOWN_ADDRESS_DAYS * 86400, storage),
            registrations=Throttle("register-ip", registrations_per_hour, 3600, storage),
            attempts=coordination.attempt_limiter(),
        )

    async def check(self, name: str, ip: str, verify: Callable[[], Awaitable[bool]], refusal: str) -> bool:
        """`verify()`'s answer, once an attempt is reserved for `name` from `ip`; a failure counts against both.

        `AuthError(TOO_MANY_ATTEMPTS)` with `refusal` and the wait when the limits are reached."""
        limits = [(self.per_address, ip)]
        if not await self.known.has(f"{name}|{ip}"):
            limits.append((self.per_name, name))
        try:
            async with self.attempts.attempt(*limits) as attempt:
                if await verify():
                    attempt.succeeded()
                    return True
                return False
        except RateLimited as limited:
            raise AuthError(
                AuthRefusal.TOO_MANY_ATTEMPTS,
                f"{refusal}; try again in {limited.retry_after:g} s.",
                retry_after=limited.retry_after,
            ) from None

    async def signed_in(self, name: str, ip: str) -> None:
        """`name` signed in from `ip`: from now on its guesses from there count against the address only."""
        await self.known.add(f"{name}|{ip}")

    async def registration(self, ip: str) -> None:
        """One sign-up from `ip`; `AuthError(TOO_MANY_ATTEMPTS)` past the hourly limit."""
        if wait := await self.registrations.hit(ip):
            raise AuthError(
                AuthRefusal.TOO_MANY_ATTEMPTS,
                f"Too many new accounts from this address; try again in {wait:g} s.",
                retry_after=wait,
            )
