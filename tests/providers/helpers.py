"""What the provider tests share: reading a stream into its texts and its usage reports."""

from __future__ import annotations

from collections.abc import AsyncIterable

from providers import StreamEvent, TextDelta, Usage


async def collect(events: AsyncIterable[StreamEvent]) -> tuple[list[str], list[Usage]]:
    """The streamed texts in order, and the usage events (a `Queued` event is neither)."""
    texts: list[str] = []
    usages: list[Usage] = []
    async for event in events:
        if isinstance(event, TextDelta):
            texts.append(event.text)
        elif isinstance(event, Usage):
            usages.append(event)
    return texts, usages
