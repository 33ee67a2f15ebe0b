"""The import slots and jobs in Redis, when several instances share one database: one import per user over all of
them, and any instance answers how an import goes.

On the coordination's own pool and prefix (`RedisCoordination.redis`, `.prefix`, `.lease`):

- `import-slot:<user>` holds the id of the job that has the user's slot, from before its upload is read until it
  ends. `SET NX` takes it; it expires three leases after its instance last renewed it (every lease), so the slot of
  an instance that was killed frees itself within seconds, as its replies do.
- `import-job:<job>` is the job's state as JSON, saved as its progress comes and kept an hour after it ends. A job
  still `running` whose slot is gone (or held by another) belonged to an instance that stopped: it reads as failed.

The end of a job and the release of its slot are one script, so no instance sees the job ended while the slot is
still taken (a new import right after the end would be refused).
"""

from __future__ import annotations

import redis.asyncio as redis

from chatui.transfer.board import KEEP_SECONDS, ImportJob

LEASES_HELD = 3

_KEEP = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_FINISH = """
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisImportBoard:
    def __init__(self, client: redis.Redis, prefix: str, lease: float) -> None:
        self.redis = client
        self.prefix = prefix
        self.lease = lease
        self._keep = client.register_script(_KEEP)
        self._release = client.register_script(_RELEASE)
        self._finish = client.register_script(_FINISH)

    def _slot(self, user_id: str) -> str:
        return f"{self.prefix}import-slot:{user_id}"

    def _job(self, job_id: str) -> str:
        return f"{self.prefix}import-job:{job_id}"

    @property
    def _held_ms(self) -> int:
        return int(self.lease * LEASES_HELD * 1000)

    @property
    def renew_seconds(self) -> float | None:
        return self.lease

    async def reserve(self, user_id: str, holder: str) -> bool:
        return bool(await self.redis.set(self._slot(user_id), holder, nx=True, px=self._held_ms))

    async def keep(self, user_id: str, holder: str) -> None:
        await self._keep(keys=[self._slot(user_id)], args=[holder, self._held_ms])

    async def release(self, user_id: str, holder: str) -> None:
        await self._release(keys=[self._slot(user_id)], args=[holder])

    async def holder(self, user_id: str) -> str | None:
        value = await self.redis.get(self._slot(user_id))
        return value.decode() if isinstance(value, bytes) else value

    async def save(self, job: ImportJob) -> None:
        await self.redis.set(self._job(job.id), job.dumps(), ex=KEEP_SECONDS)

    async def finish(self, job: ImportJob) -> None:
        await self._finish(keys=[self._slot(job.user_id), self._job(job.id)], args=[job.id, job.dumps(), KEEP_SECONDS])

    async def load(self, job_id: str) -> ImportJob | None:
        value = await self.redis.get(self._job(job_id))
        return ImportJob.loads(value) if value is not None else None
