"""A page's socket.io connection, once closed, is freed by reference counting at once: nothing of it waits in a
reference cycle for the cyclic collector (which, with live pages frozen out of it, would never come:
`chatui/bootstrap/collector.py`). Served as chatui serves it: engine.io's ASGI driver behind uvicorn's
`websockets-sansio` protocol on a loopback port, a python-socketio client on the other end."""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref
from collections.abc import AsyncIterator
from typing import Any

import pytest
import socketio

from chatui._patches.engineio_cycles import close_without_cycles
from testing.fakes.server import ThreadedServer


class Recorded:
    """The ASGI app between uvicorn and engine.io, keeping a weak reference to each request's `receive`: engine.io's
    request body and its socket's read loop hold it, and through them the connection. (Not the engine.io socket
    itself: its ping task and the server's service task keep it a while after the close, with no cycle.)"""

    def __init__(self) -> None:
        self.sio = socketio.AsyncServer(async_mode="asgi")
        self.app = socketio.ASGIApp(self.sio)
        self.refs: list[weakref.ref[Any]] = []
        self.disconnected = threading.Event()
        self.sio.on("disconnect", self.gone)
        self.sio.on("echo", self.echo)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        async def passed_on() -> Any:
            return await receive()

        self.refs.append(weakref.ref(passed_on))
        await self.app(scope, passed_on, send)

    async def gone(self, sid: str, reason: str) -> None:
        self.disconnected.set()

    async def echo(self, sid: str, data: Any) -> Any:
        return data


@pytest.fixture
async def served() -> AsyncIterator[tuple[Recorded, str]]:
    close_without_cycles()
    recorded = Recorded()
    server = await asyncio.to_thread(ThreadedServer(recorded, ws="websockets-sansio").start)
    yield recorded, server.url
    await asyncio.to_thread(server.stop)


async def alive_after_close(recorded: Recorded, close: Any) -> list[object]:
    """Close the connection with `close`, with the cyclic collector off; what of it is still alive once engine.io
    has let go of it (bounded wait)."""
    gc.collect()
    gc.disable()
    try:
        await close()
        assert await asyncio.to_thread(recorded.disconnected.wait, 5)
        for _ in range(100):  # the socket's read loop and its writer end a moment after the disconnect event
            if all(ref() is None for ref in recorded.refs):
                break
            await asyncio.sleep(0.02)
        return [thing for ref in recorded.refs if (thing := ref()) is not None]
    finally:
        gc.enable()


@pytest.mark.parametrize("how", ["disconnect", "tab closed", "upgraded from polling"])
async def test_a_closed_socket_is_freed_without_the_cyclic_collector(served: tuple[Recorded, str], how: str) -> None:
    recorded, url = served
    client = socketio.AsyncClient(reconnection=False)
    polling_first = how == "upgraded from polling"  # a browser's fallback: HTTP requests, then the WebSocket
    await client.connect(url, transports=["polling", "websocket"] if polling_first else ["websocket"])
    assert await client.call("echo", {"text": "é" * 2000}) == {"text": "é" * 2000}  # bodies read whole either way
    if polling_first:
        for _ in range(100):
            if client.transport() == "websocket":
                break
            await asyncio.sleep(0.02)
        assert client.transport() == "websocket"
        assert await client.call("echo", "over the WebSocket") == "over the WebSocket"
    assert len(recorded.sio.eio.sockets) == 1 and recorded.refs

    async def close() -> None:
        if how == "tab closed":  # the WebSocket just closes, nothing said first
            await client.eio.ws.close()
        else:  # socket.io's own goodbye (a CLOSE packet), then the WebSocket closes
            await client.disconnect()

    left = await alive_after_close(recorded, close)
    await client.disconnect()
    assert left == [], f"{len(left)} objects of a closed socket wait for the cyclic collector: {left}"
