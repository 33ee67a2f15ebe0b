"""Waiting for something to happen, with a deadline, instead of sleeping a fixed time.

A fixed sleep is wrong both ways: too short on a loaded machine (the test fails for no fault of the code) and too long
on a quiet one (every run pays for the worst case). Waiting on the thing itself ends as soon as it happens and fails
with a message that names it when it never does. Prefer an event the code offers (a future, a frame, a closed
socket); poll with these only where the thing can be seen but not awaited (a row in another process's database, a
task's state, a server that answers).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

__all__ = ["until", "until_sync"]

T = TypeVar("T")


async def until(
    condition: Callable[[], T | Awaitable[T]], *, within: float = 10.0, every: float = 0.02, what: str = ""
) -> T:
    """Call `condition` (plain or async) until it returns something truthy, and return that.

    Raises AssertionError after `within` seconds, naming `what` and the last value seen, so a failure says what
    never happened rather than timing out somewhere later.
    """
    deadline = time.monotonic() + within
    while True:
        returned = condition()
        value: T = await returned if inspect.isawaitable(returned) else returned
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {within} s: {what or condition!r} (last: {value!r})")
        await asyncio.sleep(every)


def until_sync(condition: Callable[[], T], *, within: float = 10.0, every: float = 0.05, what: str = "") -> T:
    """`until` for code without an event loop (fixtures that start processes): blocks this thread only."""
    deadline = time.monotonic() + within
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {within} s: {what or condition!r} (last: {value!r})")
        time.sleep(every)
