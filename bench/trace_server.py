"""Run `main.py` unchanged, with timers around the steps of a reply (diagnosis only).

    CHATUI_BENCH_TRACE=/tmp/trace.jsonl python -m bench.trace_server --port 8001 --no-browser --data-dir DIR

With CHATUI_BENCH_TRACE, each wrapped call appends one JSON line `{"name", "start", "end"}` (time.perf_counter of the
server process; CLOCK_MONOTONIC, comparable with the client's) to that file. Wrapped: the socket's frame handler,
`engine.send` and its steps (throttle, the history read, the write of the new messages), the reply task, the
provider stream's first event, the first `publish` of each reply, every `/ws` `send_text`, checkpoints and each
reply's final write; and the steps of a `/ws` handshake, from uvicorn accepting the TCP connection (each ASGI
layer included) to the socket's first read. With CHATUI_BENCH_STALLS, `bench.stall_watch` records the loop's lag
and what runs while it stalls. `bench.ttft --trace`, `bench.concurrent_ws --trace` and `bench.ui_pages --trace`
start the server this way.
"""

from __future__ import annotations

import functools
import json
import os
import runpy
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_TRACE = os.environ.get("CHATUI_BENCH_TRACE")
_out = open(_TRACE, "a", buffering=1) if _TRACE else None  # noqa: SIM115 - open for the process's lifetime


def _record(name: str, start: float, end: float) -> None:
    if _out is not None:
        _out.write(json.dumps({"name": name, "start": start, "end": end}) + "\n")


def span(owner: Any, attribute: str, name: str) -> None:
    """Time every await of `owner.attribute` (a coroutine function)."""
    original = getattr(owner, attribute)

    @functools.wraps(original)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return await original(*args, **kwargs)
        finally:
            _record(name, start, time.perf_counter())

    setattr(owner, attribute, wrapper)


def first_item(owner: Any, attribute: str, name: str) -> None:
    """Time from calling `owner.attribute` (an async generator function) to its first item."""
    original: Callable[..., AsyncIterator[Any]] = getattr(owner, attribute)

    @functools.wraps(original)
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        start = time.perf_counter()
        first = True
        async for item in original(*args, **kwargs):
            if first:
                _record(name, start, time.perf_counter())
                first = False
            yield item

    setattr(owner, attribute, wrapper)


def on_thread(owner: Any, attribute: str, name: str) -> None:
    """Time every call of `owner.attribute` (a plain function: the database thread's share of a transaction)."""
    original = getattr(owner, attribute)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            _record(name, start, time.perf_counter())

    setattr(owner, attribute, wrapper)


def at_call(owner: Any, attribute: str, name: str) -> None:
    """Record the moment `owner.attribute` (a plain function) is called: a step of the handshake."""
    original = getattr(owner, attribute)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        now = time.perf_counter()
        _record(name, now, now)
        return original(*args, **kwargs)

    setattr(owner, attribute, wrapper)


class _TimedLayer:
    """Records when a `/ws` handshake enters one layer of the ASGI stack."""

    def __init__(self, app: Any, name: str) -> None:
        self.app = app
        self.name = name

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            now = time.perf_counter()
            _record(f"hs: layer {self.name}", now, now)
        await self.app(scope, receive, send)


def time_layers() -> None:
    """Wrap each layer from uvicorn's loaded app down to the router (at start-up, once Starlette built its stack)."""
    from nicegui import core, server

    layer: Any = server.Server.instance.config.loaded_app
    parent: Any = None
    attribute = ""
    depth = 0
    while layer is not None and depth < 40:
        name = f"{depth:02d} {type(layer).__name__}"
        if parent is not None:
            setattr(parent, attribute, _TimedLayer(layer, name))
        if layer is core.app:
            parent, attribute, layer = layer, "middleware_stack", layer.middleware_stack
        elif hasattr(layer, "other_asgi_app"):
            parent, attribute, layer = layer, "other_asgi_app", layer.other_asgi_app
        elif hasattr(layer, "app") and not isinstance(layer.app, type):
            parent, attribute, layer = layer, "app", layer.app
        else:
            break
        depth += 1


def install() -> None:
    from nicegui import app
    from starlette.websockets import WebSocket
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

    from chatui.accounts.auth import AuthService
    from chatui.api.ws import ConversationSocket
    from chatui.conversations.service import ConversationService
    from chatui.coordination.sockets import SocketSlots
    from chatui.coordination.throttles import Throttle
    from chatui.engine.engine import GenerationEngine
    from chatui.engine.generation import Generation
    from providers.ollama import OllamaProvider
    from storage import ConversationRepository
    from storage.database import Database

    # the handshake, from the TCP connection to the socket's first read (`bench.ttft --trace`: the fresh socket)
    at_call(HttpToolsProtocol, "connection_made", "hs: tcp accepted")
    at_call(HttpToolsProtocol, "handle_websocket_upgrade", "hs: upgrade parsed")
    span(WebSocketsSansIOProtocol, "run_asgi", "hs: asgi app (whole socket)")
    span(AuthService, "resolve_socket", "hs: resolve_socket")
    span(SocketSlots, "acquire", "hs: socket slots")
    span(ConversationSocket, "run", "hs: socket run (whole)")
    span(ConversationService, "attach", "hs: attach")
    app.on_startup(time_layers)
    # the message
    span(ConversationSocket, "_handle", "ws.handle")
    span(GenerationEngine, "send", "engine.send")
    span(GenerationEngine, "_run", "engine._run (whole reply)")
    span(Throttle, "hit", "throttle.hit")
    span(AuthService, "resolve", "handshake: auth.resolve")
    span(ConversationService, "owner", "handshake: conversations.owner")
    span(WebSocket, "accept", "handshake: accept")
    span(ConversationRepository, "reply_context", "db.reply_context")
    on_thread(Database, "_transaction", "db thread: ORM transaction")
    on_thread(Database, "_statements", "db thread: statements")
    on_thread(Database, "_run_group", "db thread: group")
    span(ConversationRepository, "start_exchange", "db.start_exchange")
    if hasattr(ConversationRepository, "open_exchange"):  # since issue 28: a plain message's read and write at once
        span(ConversationRepository, "open_exchange", "db.open_exchange")
    span(ConversationRepository, "checkpoint", "db.checkpoint")
    span(ConversationRepository, "finish_message", "db.finish_message")
    first_item(OllamaProvider, "stream", "provider.stream → first event")
    span(WebSocket, "send_text", "ws.send_text")
    if os.environ.get("REDIS_URL"):  # what Redis adds to a message's path (bench.ttft --server-env REDIS_URL=...)
        from chatui.coordination.redis import RedisCoordination

        span(RedisCoordination, "reserve", "redis.reserve")
        span(RedisCoordination, "began", "redis.began")

    publish = Generation.publish

    def traced_publish(self: Generation, text: str) -> None:
        if not self.chunks:
            now = time.perf_counter()
            _record("generation.first_publish", now, now)
        publish(self, text)

    Generation.publish = traced_publish  # type: ignore[method-assign]


if __name__ == "__main__":
    if _out is not None:
        install()
    if os.environ.get("CHATUI_BENCH_STALLS"):
        from nicegui import app

        from bench import stall_watch

        app.on_startup(lambda: stall_watch.start(os.environ["CHATUI_BENCH_STALLS"]))
    sys.argv = [str(ROOT / "main.py"), *sys.argv[1:]]
    runpy.run_path(str(ROOT / "main.py"), run_name="__main__")
