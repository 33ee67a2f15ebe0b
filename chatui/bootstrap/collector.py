"""The garbage collector tuned so that no collection walks the live heap: each full collection walks only what was
allocated since the one before, then freezes what survived.

Why: a full (oldest-generation) collection stops the event loop for as long as it walks every object the collector
tracks. With 50 pages open that is ~300,000 objects, and the full collections of 1,000 pages opened and closed took
170-350 ms each although they found almost nothing to free (BENCHMARKS.md §4). Python 3.11 has no incremental
collector; `gc.freeze()` moves every tracked object to a permanent generation that no collection walks, at no cost.
So after each full collection its survivors (live by then) are frozen, and the next full collection walks only the
objects that reached the oldest generation since: a page's objects are walked once, while they are young, never
again while the page stays open.

Reference counting still frees a frozen object the moment its last reference goes (it leaves the permanent
generation then): a closed page is freed that way, because nothing it leaves behind is in a reference cycle
(`chatui/_patches/nicegui_cycles.py`, `chatui/_patches/engineio_cycles.py`, `chatui/ui/weak.py`;
`tests/pages/test_page_memory.py`, `tests/pages/test_socket_memory.py`). What a frozen object can no longer be is
collected in a cycle: anything frozen while alive that later dies in a cycle stays. So `complete()` unfreezes,
collects the whole heap and freezes again, once every `COMPLETE_EVERY` seconds: one long pause an hour bounds that.

Start-up: what start-up built (modules, classes, settings: ~200,000 objects that live as long as the process) is
frozen before the first request. The launcher turns collection off while it imports and builds the app
(`chatui.launcher.main`): nothing is collected before the freeze, which would walk every object built so far
(0.3-0.5 s, before the server answers); the ~10,000 objects of cyclic garbage that start-up leaves (~3 MB, measured)
stay frozen with the rest. Started any other way, with collection on, only the young generations are collected first
(cheap: a full collection there walked 174,000 objects to free ~20).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from typing import Any

log = logging.getLogger(__name__)

FULL_AFTER = 2
"""Middle-generation collections between two full ones (CPython's default is 10): a full collection then walks at
most ~14,000 new objects (2 × 10 × 700), a few milliseconds, rather than ~70,000."""
COMPLETE_EVERY = 3600.0
"""Seconds between two collections of the whole heap, frozen part included."""


class Collector:
    """Freezes the survivors of every full collection; `start()` once the app is built, `stop()` at shutdown."""

    def __init__(self, complete_every: float = COMPLETE_EVERY) -> None:
        self.complete_every = complete_every
        self._timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Freeze start-up's objects, collect in full every `FULL_AFTER`, freeze after each; collection on again
        if the launcher had turned it off (call on the loop, before the first request)."""
        if gc.isenabled():
            gc.collect(1)
        gc.freeze()
        young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, FULL_AFTER)
        if self._after_collection not in gc.callbacks:
            gc.callbacks.append(self._after_collection)
        gc.enable()
        self._schedule()

    def stop(self) -> None:
        if self._after_collection in gc.callbacks:
            gc.callbacks.remove(self._after_collection)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def complete(self) -> None:
        """Collect everything, the frozen objects too, then freeze what is left (logged: what it freed shows
        whether frozen objects died in cycles, which nothing else would collect)."""
        began, frozen = time.perf_counter(), gc.get_freeze_count()
        gc.unfreeze()
        freed = gc.collect()  # its own callback freezes the survivors
        log.info(
            "garbage collector: the whole heap (%d frozen objects) walked in %.0f ms, %d objects freed",
            frozen,
            (time.perf_counter() - began) * 1000,
            freed,
        )

    def _after_collection(self, phase: str, info: dict[str, Any]) -> None:
        """After a full collection every object still tracked is alive: none needs to be walked again."""
        if phase == "stop" and info["generation"] == 2:
            gc.freeze()

    def _schedule(self) -> None:
        self._timer = asyncio.get_running_loop().call_later(self.complete_every, self._complete_and_schedule)

    def _complete_and_schedule(self) -> None:
        self.complete()
        self._schedule()
