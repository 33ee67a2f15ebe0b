"""Rate limits on the `limits` library: moving windows kept in memory."""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter


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

    async def blocked(self, key: str) -> float:
        """Like `hit()` without counting: seconds to wait, 0 when another attempt would be allowed."""
        if await self._limiter.test(self._item, self.name, key):
            return 0.0
        return await self.retry_after(key)

    async def retry_after(self, key: str) -> float:
        stats = await self._limiter.get_window_stats(self._item, self.name, key)
        return max(1.0, math.ceil(stats.reset_time - time.time()))

    async def clear(self, key: str) -> None:
        await self._limiter.clear(self._item, self.name, key)


def limit_storage() -> Storage:
    """Counters kept in this process (one process serves the app)."""
    return MemoryStorage()
