"""Rate limits on the `limits` library: moving windows, all kept in the one store the coordination gives
(`Coordination.limit_storage`: this process's memory, or Redis, where every instance sees every hit)."""

from __future__ import annotations

import asyncio
import bisect
import math
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

SWEEP_SECONDS = 1.0


class MemoryLimits(MemoryStorage):
    """`limits`' store in this process's memory, without a thread hand-over per key on every hit.

    `MemoryStorage` sweeps expired entries after every hit (once the previous sweep has ended), and hands each
    key's bisect to a thread (`asyncio.to_thread`): one wake-up of a worker thread, and the GIL passed back and
    forth, per key per hit — 8 per message in `bench.ttft`, 40 per message with 40 users' message counts, all
    while replies stream. The sweep only frees memory (every check compares the entries' times itself), so here it
    runs on the loop in one pass, at most once a second. What breaks on an upgrade: the override is found by
    `MemoryStorage`'s private (name-mangled) `__schedule_expiry`, which `tests/coordination/test_limits.py`
    names; renamed, `limits`' own sweep would come back (slower, still correct).
    """

    def __init__(self) -> None:
        super().__init__()
        self._swept_at = float("-inf")

    async def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the private `__schedule_expiry`
        now = time.monotonic()
        if now - self._swept_at >= SWEEP_SECONDS:
            self._swept_at = now
            self.sweep()

    def sweep(self) -> None:
        """Drop expired entries and counters (synchronous: nothing else runs on the loop meanwhile)."""
        now = time.time()
        for key, entries in list(self.events.items()):  # newest first, so expired ones are at the end
            kept = entries[: bisect.bisect_left(entries, -now, key=lambda entry: -entry.expiry)]
            if kept:
                self.events[key] = kept
            else:
                del self.events[key]
                self.locks.pop(key, None)
        for key, expires in list(self.expirations.items()):
            if expires <= now:
                self.storage.pop(key, None)
                del self.expirations[key]
                self.locks.pop(key, None)


class Throttle:
    """At most `amount` hits per `seconds` for each key; `hit()` answers how long to wait, 0 when allowed."""

    def __init__(self, name: str, amount: int, seconds: int, storage: Storage) -> None:
        self.name = name
        self._item = RateLimitItemPerSecond(amount, seconds)
        self._limiter = MovingWindowRateLimiter(storage)

    async def hit(self, key: str) -> float:
        if await self._limiter.hit(self._item, self.name, key):
            return 0.0
        return await self.retry_after(key)

    async def blocked(self, key: str, cost: int = 1) -> float:
        """Like `hit()` without counting: seconds to wait, 0 when `cost` more hits would be allowed."""
        if await self._limiter.test(self._item, self.name, key, cost=cost):
            return 0.0
        return await self.retry_after(key)

    async def room(self, key: str) -> int:
        """How many more hits the window allows now."""
        return (await self._limiter.get_window_stats(self._item, self.name, key)).remaining

    async def retry_after(self, key: str) -> float:
        stats = await self._limiter.get_window_stats(self._item, self.name, key)
        return max(1.0, math.ceil(stats.reset_time - time.time()))

    async def clear(self, key: str) -> None:
        await self._limiter.clear(self._item, self.name, key)


class RateLimited(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after:g} s")
        self.retry_after = retry_after


class Attempt:
    """One reserved attempt. It counts as a failure unless `succeeded()` is called — also when it is cancelled or
    raises, so a client cannot avoid the count by hanging up while its password is being checked."""

    def __init__(self) -> None:
        self.ok = False

    def succeeded(self) -> None:
        self.ok = True


class AttemptLimiter:
    """Failed attempts (wrong passwords) limited per key, each attempt reserved *before* the costly check.

    Checking a limit before a bcrypt check and counting the failure after it lets a burst through: 300 simultaneous
    guesses all pass the check before the first failure is counted. Here `attempt()` reserves, atomically, a place
    under every limit it is given: the failures already counted plus the attempts still in progress never exceed a
    limit, so at most `amount` checks per window ever run. A wrong (or unfinished) attempt then counts as a hit; a
    right one only gives its place back, so signing in does not use up anyone's allowance.

    This one counts the attempts in progress in this process; with several instances the coordination gives one
    that counts them on all (`chatui.coordination.redis.attempts`).
    """

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._pending: Counter[tuple[str, str]] = Counter()

    @asynccontextmanager
    async def attempt(self, *limits: tuple[Throttle, str]) -> AsyncIterator[Attempt]:
        """Reserve a place under each `(throttle, key)`, or raise `RateLimited` with the longest wait."""
        await self.reserve(limits)
        attempt = Attempt()
        try:
            yield attempt
        finally:
            # Shielded: a second cancellation (the server stopping) must not leave the place taken or the failure
            # uncounted.
            await asyncio.shield(self._end(limits, attempt.ok))

    async def _end(self, limits: Sequence[tuple[Throttle, str]], ok: bool) -> None:
        try:
            if not ok:  # counted before the place is given back, so the sum never dips below the truth
                for throttle, key in limits:
                    await throttle.hit(key)
        finally:
            await self.give_back(limits)

    async def reserve(self, limits: Sequence[tuple[Throttle, str]]) -> None:
        """Take a place under every limit at once, or raise `RateLimited` (nothing taken)."""
        async with self._lock:
            wait = 0.0
            for throttle, key in limits:
                wait = max(wait, await throttle.blocked(key, cost=1 + self._pending[(throttle.name, key)]))
            if wait:
                raise RateLimited(wait)
            for throttle, key in limits:
                self._pending[(throttle.name, key)] += 1

    async def give_back(self, limits: Sequence[tuple[Throttle, str]]) -> None:
        for throttle, key in limits:
            self._pending[(throttle.name, key)] -= 1
            if not self._pending[(throttle.name, key)]:
                del self._pending[(throttle.name, key)]


class Remembered:
    """Keys remembered for `seconds` after `add()`, kept in the same store as the throttles' counts."""

    def __init__(self, name: str, seconds: int, storage: Storage) -> None:
        self._throttle = Throttle(name, 1, seconds, storage)

    async def add(self, key: str) -> None:
        await self._throttle.hit(key)

    async def has(self, key: str) -> bool:
        return bool(await self._throttle.blocked(key))
