"""Sign-in attempts counted over several instances, against a real Redis: two coordinations on one key prefix stand
for two instances (each with its own connection pool, instance id and lease)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from chatui.coordination.redis import RedisCoordination
from chatui.coordination.throttles import AttemptLimiter, RateLimited, Throttle
from storage.orphans import StreamingReplies
from tests.redis_server import drop_redis_prefix, fresh_redis_prefix, redis_url

KEY = "10.9.0.1"


class Instance:
    """One instance as far as sign-in attempts go: its coordination, holding its lease, and a limit on failures."""

    def __init__(self, prefix: str, limit: int) -> None:
        self.coordination: RedisCoordination = RedisCoordination(
            redis_url(),
            prefix,
            10.0,
            StreamingReplies(None),  # type: ignore[arg-type]  # no sweep runs here
        )
        self.throttle = Throttle("login-ip", limit, 60, self.coordination.limit_storage)
        self.limiter: AttemptLimiter = self.coordination.attempt_limiter()

    async def take_lease(self) -> None:
        link = self.coordination.link
        await link.redis.set(link.keys.instance(link.instance_id), b"1", px=60_000)

    async def die(self) -> None:
        """As a killed instance looks to the others: its lease is gone (nothing of it runs any more)."""
        link = self.coordination.link
        await link.redis.delete(link.keys.instance(link.instance_id))


@pytest.fixture
async def instances() -> AsyncIterator[Callable[[int], Awaitable[tuple[Instance, Instance]]]]:
    prefix = fresh_redis_prefix()
    made: list[Instance] = []

    async def make(limit: int) -> tuple[Instance, Instance]:
        pair = Instance(prefix, limit), Instance(prefix, limit)
        for instance in pair:
            await instance.take_lease()
        made.extend(pair)
        return pair

    yield make
    for instance in made:
        await instance.coordination.link.close()
    drop_redis_prefix(prefix)


class Burst:
    """Attempts that, once admitted, hold their place until `finish()`: as long password checks would."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.admitted = 0
        self.refused: list[RateLimited] = []
        self.gate = asyncio.Event()
        self.all_tried = asyncio.Event()

    def _tried(self) -> None:
        if self.admitted + len(self.refused) == self.total:
            self.all_tried.set()

    async def attempt(self, instance: Instance) -> None:
        try:
            async with instance.limiter.attempt((instance.throttle, KEY)):
                self.admitted += 1
                self._tried()
                await self.gate.wait()  # a wrong password, once the whole burst has been tried
        except RateLimited as refused:
            self.refused.append(refused)
            self._tried()


async def test_a_burst_spread_over_two_instances_runs_at_most_the_limit_of_checks(instances):
    a, b = await instances(10)
    burst = Burst(total=200)
    tasks = [asyncio.create_task(burst.attempt(a if n % 2 else b)) for n in range(burst.total)]
    await burst.all_tried.wait()
    assert burst.admitted == 10  # not 10 on each instance
    assert all(refused.retry_after >= 1 for refused in burst.refused)
    burst.gate.set()
    await asyncio.gather(*tasks)
    for instance in (a, b):  # the ten failures lock the address out on both
        with pytest.raises(RateLimited):
            async with instance.limiter.attempt((instance.throttle, KEY)):
                pytest.fail("a place was given past the limit")


async def test_a_right_password_gives_its_place_back_on_every_instance(instances):
    a, b = await instances(1)
    for instance in (a, b, a, b):
        async with instance.limiter.attempt((instance.throttle, KEY)) as attempt:
            attempt.succeeded()
    assert await a.throttle.room(KEY) == 1


async def test_the_attempts_of_an_instance_that_died_stop_counting(instances):
    a, b = await instances(2)
    held = Burst(total=2)
    on_a = [asyncio.create_task(held.attempt(a)) for _ in range(2)]
    await held.all_tried.wait()
    assert held.admitted == 2
    with pytest.raises(RateLimited):  # both places are taken, by checks running on A
        async with b.limiter.attempt((b.throttle, KEY)):
            pass
    await a.die()
    async with b.limiter.attempt((b.throttle, KEY)) as attempt:  # A's places went with its lease
        attempt.succeeded()
    for task in on_a:
        task.cancel()
    await asyncio.gather(*on_a, return_exceptions=True)


async def test_an_attempt_cancelled_during_its_check_counts_and_gives_its_place_back(instances):
    a, b = await instances(2)
    held = Burst(total=1)
    task = asyncio.create_task(held.attempt(a))
    await held.all_tried.wait()
    task.cancel()  # the client hung up while its password was being checked
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await b.throttle.room(KEY) == 1  # counted as a failure...
    async with b.limiter.attempt((b.throttle, KEY)) as attempt:  # ...and its place is free again
        attempt.succeeded()


class EndingOneFirst(Throttle):
    """A throttle whose next reading of the room is followed, before it is used, by `then` (another attempt ends)."""

    then: Callable[[], Awaitable[None]] | None = None

    async def room(self, key: str) -> int:
        room = await super().room(key)
        then, self.then = self.then, None
        if then is not None:
            await then()
        return room


async def test_a_reading_made_stale_by_an_attempt_that_ended_is_read_again(instances):
    """Two checks run (limit 2); a third reads the room (2: no failure yet), then the first check fails before the
    third reserves. Reserving on that reading would run a check past the limit (1 failure + 2 running)."""
    a, b = await instances(2)
    first, second = Burst(total=1), Burst(total=1)
    running = [asyncio.create_task(first.attempt(a)), asyncio.create_task(second.attempt(b))]
    await first.all_tried.wait()
    await second.all_tried.wait()
    throttle = EndingOneFirst("login-ip", 2, 60, b.coordination.limit_storage)

    async def first_fails() -> None:
        first.gate.set()
        await running[0]

    throttle.then = first_fails
    with pytest.raises(RateLimited):
        async with b.limiter.attempt((throttle, KEY)):
            pytest.fail("a third check ran while one had failed and another was running, with a limit of 2")
    second.gate.set()
    await running[1]
