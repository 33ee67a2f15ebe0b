"""Connections that never finish their request headers are closed after `CHATUI_HEADER_TIMEOUT` (raw sockets)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

from testing.fakes.server import ScriptedProvider, ThreadedServer
from testing.live import LiveApp, module_app

TIMEOUT = 1.0


@pytest.fixture(scope="module")
def app(
    tmp_path_factory: pytest.TempPathFactory, ollama_server: tuple[ScriptedProvider, ThreadedServer]
) -> Iterator[LiveApp]:
    yield from module_app(tmp_path_factory, ollama_server[1].url, "headers", CHATUI_HEADER_TIMEOUT=str(TIMEOUT))


async def seconds_until_closed(app: LiveApp, sent: bytes, limit: float = 10.0) -> float:
    """Send `sent` on a raw connection, then wait for the server to close it; how long that took."""
    reader, writer = await asyncio.open_connection("127.0.0.1", app.port)
    try:
        started = time.monotonic()
        writer.write(sent)
        await writer.drain()
        async with asyncio.timeout(limit):
            while await reader.read(1024):
                pass  # an answer would be a bug too, but what matters is the close
        return time.monotonic() - started
    finally:
        writer.close()


async def test_half_sent_headers_are_cut_off(app: LiveApp) -> None:
    assert await seconds_until_closed(app, b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow:") < TIMEOUT + 2.5


async def test_a_silent_connection_is_cut_off(app: LiveApp) -> None:
    assert await seconds_until_closed(app, b"") < TIMEOUT + 2.5


async def test_a_second_request_on_a_kept_alive_connection_is_timed_too(app: LiveApp) -> None:
    first = b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    assert await seconds_until_closed(app, first + b"GET /api/health HTTP/1.1\r\nHost:") < TIMEOUT + 2.5


async def test_complete_requests_and_kept_alive_connections_are_unaffected(app: LiveApp) -> None:
    async with httpx.AsyncClient(base_url=app.url) as client:
        first = await client.get("/api/health")
        assert first.status_code == 200
        # A silent connection opened after the first answer is cut off by the server's own header timeout: once
        # it is, the kept-alive connection has been idle longer than that timeout, and must still serve.
        assert await seconds_until_closed(app, b"") > TIMEOUT / 2  # its timer ran: not closed at once
        second = await client.get("/api/health")
        assert second.status_code == 200
        assert local_address(second) == local_address(first), "the kept-alive connection was closed and replaced"


def local_address(response: httpx.Response) -> tuple[str, int]:
    """The client's end of the connection that carried `response` (the same for requests on one kept-alive one)."""
    return response.extensions["network_stream"].get_extra_info("client_addr")
