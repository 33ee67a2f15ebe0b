"""One instance's connection to the shared Redis: the client, its pool, the key names, this instance's id and lease,
and the background writes it spawns (awaited at stop, so none is cut off)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import redis.asyncio as redis

from chatui.coordination.redis.wire import Keys
from storage.models import new_id

POOL_SIZE = 32
POOL_WAIT_SECONDS = 10
SETTLE_SECONDS = 5


class Link:
    def __init__(self, url: str, prefix: str, lease_seconds: float) -> None:
        self.url = url
        # A burst of 200 messages waits for one of these connections rather than opening 200 (redis-py's plain pool
        # refuses past its maximum: "Too many connections"). The throttles' counters share it.
        self.pool = redis.BlockingConnectionPool.from_url(url, max_connections=POOL_SIZE, timeout=POOL_WAIT_SECONDS)
        self.redis = redis.Redis(connection_pool=self.pool)
        self.keys = Keys(prefix)
        self.lease = lease_seconds
        """Seconds an instance's lease lasts; it is renewed every third of that."""
        self.instance_id = new_id()
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run `work` in the background (a write nobody waits for), kept until done."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(self) -> None:
        """Wait (at most SETTLE_SECONDS) for the background writes under way."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=SETTLE_SECONDS)

    async def close(self) -> None:
        await self.redis.aclose()
        await self.pool.disconnect()
