"""Password policy and bcrypt hashing, done in a small pool of worker threads so the event loop never waits on it.

bcrypt reads only the first 72 bytes of its input. Rather than truncate silently (two passwords sharing those bytes
would both work) every password is first reduced with SHA-256 and base64-encoded (44 bytes, no NUL bytes), so all
of it counts. Lengths are checked before any hashing, so a megabyte "password" is refused at once.

Passwords are compared in Unicode normal form C: "é" typed as one code point or as "e" plus a combining accent
(keyboards and operating systems differ) is the same password.

bcrypt releases the GIL, so each hash in progress takes a whole core. The pool has one thread fewer than the
machine has cores (at least one): however many sign-ins and sign-ups arrive at once, they queue for the pool and
leave a core to the event loop, so streaming replies and page loads go on meanwhile.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import bcrypt

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
T = TypeVar("T")


class PasswordRejected(ValueError):
    """The password does not meet the policy; the message says why."""


def normalize_password(password: str) -> str:
    """The one form a password is checked, hashed and compared in (NFC)."""
    return unicodedata.normalize("NFC", password)


def check_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordRejected(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordRejected(f"The password must have at most {MAX_PASSWORD_LENGTH} characters.")


def hashing_threads() -> int:
    """One thread fewer than the cores this process may use, at least one."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores - 1)


def _prehash(password: str) -> bytes:
    return base64.b64encode(hashlib.sha256(password.encode("utf-8")).digest())


class PasswordHasher:
    def __init__(self, rounds: int, threads: int | None = None) -> None:
        self.rounds = rounds
        self.threads = threads or hashing_threads()
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="chatui-bcrypt")
        # Compared against when the account does not exist, so both cases cost one bcrypt check. Any well-formed
        # hash of this cost does: checking one runs bcrypt with its salt and cost whatever the digest says, and a
        # made-up digest saves start-up a whole hash (0.24 s at 12 rounds, BENCHMARKS.md §12).
        self._dummy = bcrypt.gensalt(rounds) + b"." * 31

    async def hash(self, password: str) -> str:
        password = normalize_password(password)
        check_policy(password)
        digest = await self._in_pool(self._hash, _prehash(password))
        return digest.decode("ascii")

    async def verify(self, password: str, password_hash: str | None) -> bool:
        """True if it matches; with `password_hash=None` it still spends the same time and answers False."""
        if len(password) > MAX_PASSWORD_LENGTH:
            return False
        usable = password_hash is not None and password_hash.startswith("$2")
        stored = password_hash.encode("ascii") if usable and password_hash else self._dummy
        matches = await self._in_pool(self._check, _prehash(normalize_password(password)), stored)
        return matches and usable

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # The two calls that cost a bcrypt run, on a pool thread (tests count them).
    def _hash(self, prehashed: bytes) -> bytes:
        return bcrypt.hashpw(prehashed, bcrypt.gensalt(self.rounds))

    def _check(self, prehashed: bytes, stored: bytes) -> bool:
        return bcrypt.checkpw(prehashed, stored)

    async def _in_pool(self, work: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, work, *args)
