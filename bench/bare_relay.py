"""The floor for `/ws`: a bare WebSocket relay with no sign-in, no database and no app, on chatui's own stack.

    python -m bench.bare_relay --port 8901 --provider http://127.0.0.1:11500

Each socket (`/ws/<anything>`): accept, read one frame `{"content": "..."}`, ask the provider for a reply
(`POST /api/chat`, streaming NDJSON), and send every delta as `{"type": "token", ...}`, then `{"type": "done", ...}`.
The frames have chatui's shape, so `bench._clients.read_reply` reads both alike.

It runs on what chatui runs on (uvicorn with uvloop, httptools and the `websockets-sansio` protocol; aiohttp to read
the provider; orjson for the lines), in its own process. `bench.concurrent_ws` measures it beside chatui in the
same shape, so what the machine itself costs (200 handshakes, 10,000 frames, the client and the fake provider on the
same two cores) shows apart from what chatui adds.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import aiohttp
import orjson
import uvicorn

MODEL = "llama3.2:3b"


class Relay:
    """A raw ASGI app: one provider session shared by every socket."""

    def __init__(self, provider_url: str) -> None:
        self.provider_url = provider_url
        self.session: aiohttp.ClientSession | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":  # the benchmark's readiness check
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"ok"})
            return
        if scope["type"] != "websocket":
            return
        if self.session is None:
            self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        event = await receive()
        if event["type"] != "websocket.receive":
            return
        content = json.loads(event.get("text") or "{}").get("content", "")
        body = {"model": MODEL, "messages": [{"role": "user", "content": content}], "stream": True}
        count = 0
        async with self.session.post(f"{self.provider_url}/api/chat", json=body) as response:
            async for line in response.content:
                if not line.strip():
                    continue
                chunk = orjson.loads(line)
                text = (chunk.get("message") or {}).get("content")
                if text:
                    count += 1
                    await send({"type": "websocket.send", "text": f'{{"type":"token","token":{json.dumps(text)}}}'})
                if chunk.get("done"):
                    break
        await send({"type": "websocket.send", "text": f'{{"type":"done","status":"done","tokens":{count}}}'})
        await send({"type": "websocket.close", "code": 1000})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--provider", required=True)
    args = parser.parse_args()
    uvicorn.run(
        Relay(args.provider.rstrip("/")),
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        log_level="warning",
        lifespan="off",
        backlog=2048,
    )


if __name__ == "__main__":
    main()
