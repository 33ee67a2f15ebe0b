"""A real HTTP server on 127.0.0.1 (uvicorn in a background thread) and the scripts that drive fake providers."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from testing.fakes.embeddings import FakeEmbedder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ClosedPort(int):
    """A loopback port where nothing listens, held so until `release()`: bound, never listening, so a connection is
    refused at once, and no other process (a test suite running beside this one) can be given the port meanwhile, as
    it could a port `free_port` only found free."""

    _socket: socket.socket

    def __new__(cls) -> ClosedPort:
        held = socket.socket()
        held.bind(("127.0.0.1", 0))
        port = super().__new__(cls, held.getsockname()[1])
        port._socket = held
        return port

    def release(self) -> None:
        """Free the port (for a server that comes up on it)."""
        self._socket.close()


@dataclass(frozen=True)
class ScriptedCall:
    """A tool call a fake provider makes: its name and arguments (each fake sends them in its own wire's shape, in
    fragments where that wire fragments them), and its id (None: one in the provider's own style)."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    raw_arguments: str | None = None
    """Sent instead of the arguments' JSON (a model that writes broken JSON); OpenAI and Anthropic only."""

    def json(self) -> str:
        return self.raw_arguments if self.raw_arguments is not None else json.dumps(self.arguments)

    def fragments(self, size: int = 7) -> list[str]:
        """The arguments' JSON text cut every `size` characters, as the streaming APIs cut it anywhere."""
        text = self.json()
        return [text[i : i + size] for i in range(0, len(text), size)]


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
    thinking      reasoning deltas streamed before the text, in each wire's own field (Ollama `message.thinking`,
                  OpenAI-compatible `delta.reasoning_content`, Anthropic `thinking_delta`s in a `thinking` block)
    signature     the Anthropic thinking block's `signature_delta`
    cut_off       end as a reply that reached its token limit (each provider's own way of saying so)
    tool_calls    calls the model makes after its text (OpenAI `tool_calls` deltas, Anthropic `tool_use` blocks,
                  Ollama `message.tool_calls`); the reply then ends as each API ends a turn that calls tools
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
    thinking: list[str] = field(default_factory=list)
    signature: str = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"
    cut_off: bool = False
    tool_calls: list[ScriptedCall] = field(default_factory=list)


class ScriptedProvider:
    """State shared by a fake provider's routes and the test: scripts to play, requests seen, disconnects seen; and
    the embeddings endpoint's (`embedder`, `testing.fakes.embeddings`)."""

    embedding_models: tuple[str, ...] = ("nomic-embed-text", "all-minilm")

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
            self.embedder = FakeEmbedder(self.embedding_models)

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

    def __init__(self, app: Any, port: int | None = None, **options: Any) -> None:
        """`options` go to `uvicorn.Config` (`ws="websockets-sansio"`: the WebSocket protocol chatui serves with)."""
        self.port = port or free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="critical", lifespan="off", **options)
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
