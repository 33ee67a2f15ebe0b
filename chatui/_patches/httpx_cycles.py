"""A closed httpx response lets go of its stream, so a provider's reply leaves nothing in a reference cycle.

httpx's `AsyncClient` wraps every response's stream in a `BoundAsyncStream` that keeps the response (to set
`response.elapsed` when the stream closes) while the response keeps it as `response.stream`: a cycle, for every
request the providers make (each streamed reply, each model list, each title). With httpx-aiohttp it also holds
aiohttp's `ClientResponse`, its headers and reader: ~26 objects a reply that only the cyclic collector frees. The
collector freezes what survives its full collections (`chatui/bootstrap/collector.py`), and a reply that streams for
a second or more is frozen with it: measured on a live server, 173 of 200 replies stayed frozen after they ended,
until the hourly whole-heap pass (BENCHMARKS.md §4, 1,000 pages). `release_closed_responses()` makes the bound
stream drop the response once it has set `elapsed` and closed the stream: the cycle is gone, and reference counting
frees the response as soon as the provider's code drops it.

What breaks on upgrade: it wraps `httpx._client.BoundAsyncStream.aclose` and clears the private `_response` it
reads. `tests/test_framework_contract.py` checks both names; `tests/providers/test_response_memory.py` fails if a
closed response is left for the collector again.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from httpx._client import BoundAsyncStream

from chatui._patches.marks import marked, replace


def release_closed_responses() -> None:
    """Wrap `BoundAsyncStream.aclose` (once)."""
    if marked(BoundAsyncStream.aclose, "releases_response"):
        return
    replace(BoundAsyncStream, "aclose", _then_release(BoundAsyncStream.aclose), "releases_response")


Close = Callable[[BoundAsyncStream], Awaitable[None]]


def _then_release(aclose: Close) -> Close:
    @functools.wraps(aclose)  # httpx's own stays reachable as `__wrapped__`
    async def aclose_and_release(stream: BoundAsyncStream) -> None:
        if getattr(stream, "_response", None) is None:
            return  # closed and released already
        try:
            await aclose(stream)
        finally:
            stream._response = None  # type: ignore[assignment]  # the cycle's back reference (see the module)

    return aclose_and_release
