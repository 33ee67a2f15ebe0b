"""Closed pages are deleted one after another, a few milliseconds apart, rather than all in one turn of the loop.

What it fixes: NiceGUI deletes a page's client `reconnect_timeout` (3 s) after its socket closed, each from a task
that sleeps exactly that long. Pages that close together (a wave of tabs closed, a proxy dropping its connections,
a burst of short visits) therefore come due in the same turn of the event loop, and deleting a chat page costs
~2.5 ms on a quiet machine (its ~7,000 objects unhooked one by one): 50 of them held the loop for 110-137 ms, the
longest stalls left in the 1,000-page benchmark once the garbage collector was tamed (BENCHMARKS.md §4). Here each
deletion takes the next free slot, `SPACING` after the previous one, so a burst of N closes is spread over
N × `SPACING` and the loop serves other pages and replies between them. A page that reconnects in time is kept, as
before; one that does not is deleted at most N × `SPACING` later than it would have been.

How: NiceGUI's deletion task (named `delete content <document>`) asks its page's `resolve_reconnect_timeout()` how
long to sleep; the wrapper answers that task, and only it, with the time to its slot. Every other caller (the outbox
reads it to age its message history) gets the plain timeout.

What breaks on upgrade: a renamed task or method would leave deletions unstaggered (not wrong, only the stall
back); `tests/test_framework_contract.py` checks both names and `tests/pages/test_staggered_deletes.py` the spacing.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable

from nicegui.page import page as Page

from chatui._patches.marks import marked, replace

SPACING = 0.01
"""Seconds between two deletions: several times a page's deletion on a quiet machine, so deletions never pile up."""
DELETE_TASK = "delete content"
"""The start of the name NiceGUI gives a closed page's deletion task (`Client.handle_disconnect`)."""


class Slots:
    """The next free moment (on the loop's clock) for a deletion: each taken slot moves it `spacing` on."""

    def __init__(self, spacing: float) -> None:
        self.spacing = spacing
        self.next_free = 0.0

    def wait(self, now: float, timeout: float) -> float:
        """How long a deletion due `timeout` after `now` sleeps to take its slot."""
        due = max(now + timeout, self.next_free)
        self.next_free = due + self.spacing
        return due - now


_slots = Slots(SPACING)


def stagger_page_deletions() -> None:
    """Wrap `page.resolve_reconnect_timeout` (once: `create_app` runs for every test of the `user` fixture)."""
    if marked(Page.resolve_reconnect_timeout, "staggered"):
        return
    replace(Page, "resolve_reconnect_timeout", _staggered(Page.resolve_reconnect_timeout), "staggered")


def _staggered(resolve: Callable[[Page], float]) -> Callable[[Page], float]:
    @functools.wraps(resolve)
    def resolve_staggered(page: Page) -> float:
        timeout = resolve(page)
        try:
            task = asyncio.current_task()
        except RuntimeError:  # no running loop
            return timeout
        if task is None or not task.get_name().startswith(DELETE_TASK):
            return timeout
        return _slots.wait(asyncio.get_running_loop().time(), timeout)

    return resolve_staggered
