"""A real HTTP server on 127.0.0.1 (uvicorn in a background thread) and the scripts that drive fake providers."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Script:
    """What a fake provider does with the next chat request.

    tokens        the deltas it streams, in order
    delay         seconds before each delta
    status        an HTTP status other than 200 answers at once with the provider's error body
    error         the error text (for `status`, and for `error_after`)
    error_after   after this many deltas, send the provider's own mid-stream error event
    drop_after    after this many deltas, cut the TCP connection without ending the stream
    stall_after   after this many deltas, go silent (until the client gives up)
    retry_after   a `Retry-After` header value for `status` 429
    prompt_tokens / completion_tokens   the usage the final event reports
    """

    tokens: list[str] = field(default_factory=lambda: ["8", "."])
    delay: float = 0.0
    status: int = 200
    error: str = "something went wrong"
    error_after: int | None = None
    drop_after: int | None = None
    stall_after: int | None = None
    retry_after: str | None = None
    prompt_tokens: int = 12
    completion_tokens: int | None = None


class ScriptedProvider:
    """State shared by a fake provider's routes and the test: scripts to play, requests seen, disconnects seen."""

    def __init__(self) -> None:
        self.scripts: deque[Script] = deque()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.disconnected = threading.Event()
        self.started = threading.Event()
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.default = Script()
            self.scripts.clear()
            self.requests.clear()
            self.headers.clear()
            self.models = ["llama3.2:3b"]
            self.list_stalls = False  # while True, a model list asked for is never answered (a provider that hangs)
            self.api_key: str | None = None  # when set, a request without it gets the provider's 401
            self.malformed_after: int | None = None  # after this many deltas, send data that is not JSON
            self.disconnected.clear()
            self.started.clear()
            self.completed = 0

    def then(self, *scripts: Script) -> None:
        """Queue scripts for the next requests; when the queue is empty, `default` plays."""
        with self._lock:
            self.scripts.extend(scripts)

    def take(self, body: dict[str, Any], headers: dict[str, str]) -> Script:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
            return self.scripts.popleft() if self.scripts else self.default

    async def wait_disconnected(self, seconds: float = 5.0) -> bool:
        return await asyncio.to_thread(self.disconnected.wait, seconds)

    async def wait_started(self, seconds: float = 5.0) -> bool:
        return await asyncio.to_thread(self.started.wait, seconds)


class DropConnection(Exception):
    """Raised inside a streaming body to make uvicorn cut the connection mid-stream."""


class ThreadedServer:
    """Serves an ASGI app on a free loopback port until `stop()`."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.port = port or free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="critical", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ThreadedServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
