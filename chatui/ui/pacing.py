"""How often a streaming bubble is updated: every `base` seconds, less often when many stream at once.

Why: a bubble update costs the server about the same whatever it shows (render the growing Markdown block, send it
down the page's socket), so one process can afford only so many per second next to reading the providers. Below
that budget every bubble updates every `base` seconds (0.1 s by default); above it the budget is shared, so the
server stays responsive instead of falling behind: with the default budget of 500 a second, 100 pages streaming at
once update every 0.2 s each (`python -m bench.ui_pages`). No text is lost either way; an update carries every delta
since the previous one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class UpdatePacer:
    """Shared by every page of the process."""

    def __init__(self, base_seconds: float, updates_per_second: float) -> None:
        self.base_seconds = base_seconds
        self.updates_per_second = updates_per_second
        self.streaming = 0
        """Bubbles following a reply right now."""

    def interval(self) -> float:
        return max(self.base_seconds, self.streaming / self.updates_per_second)

    @contextmanager
    def following(self) -> Iterator[None]:
        """Count a bubble as streaming for the duration of the block."""
        self.streaming += 1
        try:
            yield
        finally:
            self.streaming -= 1
