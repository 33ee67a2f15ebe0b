"""A provider's reply, once streamed, leaves no httpx response in a reference cycle (`chatui/_patches/httpx_cycles.py`):
reference counting frees it at once, so the collector never freezes a dead one (`chatui/bootstrap/collector.py`).
Over real HTTP on loopback: an NDJSON stream as Ollama sends it, read by chatui's `OllamaProvider` (httpx on
httpx-aiohttp) and by a plain `httpx.AsyncClient`."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Iterator, Sequence

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from chatui._patches.httpx_cycles import release_closed_responses
from providers.base import ChatMessage
from providers.ollama import OllamaProvider
from testing.fakes.server import ThreadedServer


async def _lines() -> AsyncIterator[bytes]:
    for word in ("Hello", " there", "."):
        yield b'{"message":{"role":"assistant","content":"%s"},"done":false}\n' % word.encode()
    yield b'{"message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","eval_count":3}\n'


async def _chat(request: Request) -> StreamingResponse:
    await request.body()
    return StreamingResponse(_lines(), media_type="application/x-ndjson")


@pytest.fixture(scope="module")
def ollama() -> Iterator[str]:
    server = ThreadedServer(Starlette(routes=[Route("/api/chat", _chat, methods=["POST"])])).start()
    yield server.url
    server.stop()


def responses(besides: Sequence[httpx.Response] = ()) -> list[httpx.Response]:
    """The httpx responses the collector tracks, other than `besides`."""
    return [o for o in gc.get_objects() if isinstance(o, httpx.Response) and not any(o is b for b in besides)]


def held_by(left: list[httpx.Response]) -> list[str]:
    """Which request made each response (the provider's names model "m", the plain client's is `{}`), and what
    refers to it: for a failure's message."""
    return [
        f"{r.request.content[:24]!r}: {sorted({type(o).__name__ for o in gc.get_referrers(r)} - {'list'})}"
        for r in left
    ]


async def test_streamed_replies_leave_no_response_for_the_cyclic_collector(ollama: str) -> None:
    release_closed_responses()
    provider = OllamaProvider(ollama)
    plain = httpx.AsyncClient(base_url=ollama)
    gc.collect()
    gc.disable()  # from here only reference counting frees anything
    earlier = responses()  # any that an earlier test of this worker keeps alive are not this test's
    try:
        for _ in range(3):
            text = [e.text async for e in provider.stream([ChatMessage("user", "hi")], "m") if hasattr(e, "text")]
            assert "".join(text) == "Hello there."
            async with plain.stream("POST", "/api/chat", json={}) as response:
                assert [line async for line in response.aiter_lines()][-1].endswith('"eval_count":3}')
            del response
        for _ in range(5):  # the loop closes a stream's generators left at a `return` in tasks of their own
            await asyncio.sleep(0)
        left = responses(besides=earlier)
        assert left == [], f"{len(left)} closed responses wait for the cyclic collector: {held_by(left)}"
    finally:
        gc.enable()
        await plain.aclose()
