"""The limits of one process (`MemoryLimits`): counted as `limits` counts them, with no thread hand-over per hit,
and expired entries still dropped."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pytest
from limits.aio.storage import MemoryStorage

from chatui.coordination.throttles import MemoryLimits, Throttle


async def test_hits_are_counted_without_handing_anything_to_a_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    handed: list[Any] = []

    async def to_thread(function: Any, *args: Any) -> Any:
        handed.append(function)
        return function(*args)

    monkeypatch.setattr(asyncio, "to_thread", to_thread)
    throttle = Throttle("messages", 3, 60, MemoryLimits())
    for user in range(40):  # forty users' counts: `limits`' own sweep hands each key to a thread, on every hit
        assert await throttle.hit(f"user-{user}") == 0
    assert [await throttle.hit("user-0") for _ in range(3)][:2] == [0, 0]
    assert await throttle.hit("user-0") > 0  # the fourth within the minute waits
    others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    await asyncio.gather(*others)  # a sweep still running would hand keys over now
    assert handed == []


async def test_expired_entries_are_dropped_by_the_sweep_a_hit_starts() -> None:
    storage = MemoryLimits()
    throttle = Throttle("messages", 2, 60, storage)
    for user in ("ann", "bob"):
        await throttle.hit(user)
    (ann,) = [key for key in storage.events if "/ann/" in key]
    for entry in storage.events[ann]:
        entry.expiry = 0.0  # as if the minute had passed
    storage._swept_at = float("-inf")  # and the last sweep more than a second ago
    await throttle.hit("bob")
    assert ann not in storage.events
    assert [len(entries) for entries in storage.events.values()] == [2]  # bob's two


def test_the_sweep_replaced_is_the_one_every_hit_schedules() -> None:
    assert hasattr(MemoryStorage, "_MemoryStorage__schedule_expiry")
    assert "self.__schedule_expiry()" in inspect.getsource(MemoryStorage.acquire_entry)
    ours, theirs = MemoryLimits._MemoryStorage__schedule_expiry, MemoryStorage._MemoryStorage__schedule_expiry  # type: ignore[attr-defined]
    assert ours is not theirs
