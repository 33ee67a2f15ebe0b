"""Password policy and bcrypt hashing, done in a worker thread so the event loop never waits on it.

bcrypt reads only the first 72 bytes of its input. Rather than truncate silently (two passwords sharing those bytes
would both work) every password is first reduced with SHA-256 and base64-encoded (44 bytes, no NUL bytes), so all
of it counts. Lengths are checked before any hashing, so a megabyte "password" is refused at once.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib

import bcrypt

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024


class PasswordRejected(ValueError):
    """The password does not meet the policy; the message says why."""


def check_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordRejected(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordRejected(f"The password must have at most {MAX_PASSWORD_LENGTH} characters.")


def _prehash(password: str) -> bytes:
    return base64.b64encode(hashlib.sha256(password.encode("utf-8")).digest())


class PasswordHasher:
    def __init__(self, rounds: int = 12) -> None:
        self.rounds = rounds
        # Compared against when the account does not exist, so both cases cost one bcrypt check.
        self._dummy = bcrypt.hashpw(b"no such account", bcrypt.gensalt(rounds))

    async def hash(self, password: str) -> str:
        check_policy(password)
        digest = await asyncio.to_thread(bcrypt.hashpw, _prehash(password), bcrypt.gensalt(self.rounds))
        return digest.decode("ascii")

    async def verify(self, password: str, password_hash: str | None) -> bool:
        """True if it matches; with `password_hash=None` it still spends the same time and answers False."""
        if len(password) > MAX_PASSWORD_LENGTH:
            return False
        usable = password_hash is not None and password_hash.startswith("$2")
        stored = password_hash.encode("ascii") if usable and password_hash else self._dummy
        matches = await asyncio.to_thread(bcrypt.checkpw, _prehash(password), stored)
        return matches and usable
