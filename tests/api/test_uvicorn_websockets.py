"""The running server answers WebSockets with uvicorn's `websockets-sansio` protocol (`chatui._patches.uvicorn_ws`).

The switch sets an attribute on uvicorn's running config; an upgrade that stops reading it would leave every socket on
wsproto without an error. The two protocols answer a refused handshake differently on the wire, so this test looks
there: websockets' sans-I/O protocol sends a full status line and a plain-text body (`HTTP/1.1 403 Forbidden`,
`Content-Type: text/plain`), wsproto a bare `HTTP/1.1 403 ` with only `content-length`.
"""

from __future__ import annotations

import asyncio

from testing.live import LiveApp


async def refused_handshake(app: LiveApp) -> bytes:
    """The raw HTTP answer to an upgrade on `/ws/<unknown>` without a session (refused before the upgrade)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", app.port)
    writer.write(
        b"GET /ws/no-such-conversation HTTP/1.1\r\n"
        + f"Host: 127.0.0.1:{app.port}\r\n".encode()
        + b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    await writer.drain()
    try:
        async with asyncio.timeout(10):
            return await reader.readuntil(b"\r\n\r\n")
    finally:
        writer.close()


async def test_sockets_are_served_by_websockets_sansio_not_wsproto(live_app: LiveApp) -> None:
    head = (await refused_handshake(live_app)).decode("latin-1")
    status_line, *header_lines = head.strip().split("\r\n")
    headers = {line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip() for line in header_lines}
    assert status_line == "HTTP/1.1 403 Forbidden", f"served by wsproto? the refusal reads {head!r}"
    assert headers.get("content-type", "").startswith("text/plain"), head
