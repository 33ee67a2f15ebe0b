"""A page's socket leaves nothing in reference cycles once it closes, so it is freed at once by reference counting.

Two spots in engine.io's ASGI driver (`engineio.async_drivers.asgi`) tie a socket's objects into cycles that only
the cyclic collector frees: through them, the engine.io socket, its queue, the ASGI `send` and `receive` closures of
every middleware and uvicorn's protocol and transport — ~170 objects for each page that closed. They made the full
collections that still ran after many pages closed (BENCHMARKS.md §4, 1,000 pages opened and closed), and they stand
in the way of freezing live pages out of the collector (`chatui/collector.py`): a frozen cycle is never collected.

- `WebSocket.wait` raises `OSError` when the browser's WebSocket closes (an ASGI `websocket.disconnect`). The
  socket's read loop (`AsyncSocket._websocket_handler`) awaits each read as a task, catches the error and ends, but
  the finished task keeps the exception, the exception's traceback keeps the loop's frame, and the frame keeps the
  task. `_wait` answers the same disconnect with `None`, engine.io's own "connection closed by client" (the loop's
  `if p is None: break`), which raises nothing. During a transport upgrade (a socket that began on HTTP
  long-polling: `AsyncSocket.upgrading`) the handler expects the `OSError` and gets it, as before; so does any
  other event that is not a message.
- `translate_request` defines its request-body class inside the function, so every request (each socket's
  handshake among them) creates a class (a class is a cycle of its own) whose methods close over the request's
  ASGI `receive`. `_translate_request` builds the same WSGI environ with one class defined here.

What breaks on upgrade: it replaces `WebSocket.wait` and the driver's `_async["translate_request"]` (which
`AsyncServer.handle_request` reads on every request), and reads the driver's `asgi_receive`, its `handler` (the
socket's bound `_websocket_handler`) and the socket's `upgrading`. `tests/test_framework_contract.py` checks those
names, that engine.io's read loop still treats `None` as the close, and that the environ equals engine.io's own;
`tests/pages/test_socket_memory.py` fails if a closed socket is left for the collector again.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from engineio.async_drivers import asgi

from chatui._patches.marks import marked, replace

Receive = Callable[[], Awaitable[dict[str, Any]]]
ENGINEIOS_WAIT = asgi.WebSocket.wait
"""engine.io's own `wait` (what the contract test reads)."""


def close_without_cycles() -> None:
    """Put `_wait` and `_translate_request` in place of the ASGI driver's (once)."""
    if marked(asgi.WebSocket.wait, "closes_without_cycles"):
        return
    replace(asgi.WebSocket, "wait", _wait, "closes_without_cycles")
    if "translate_request" not in asgi._async:
        raise AttributeError("engineio's ASGI driver has no translate_request to patch (see its contract test)")
    asgi._async["translate_request"] = _translate_request


async def _wait(ws: Any) -> bytes | str | None:
    """The next message's data; `None` once the browser closed the socket (unless mid-upgrade: then `OSError`)."""
    event = await ws.asgi_receive()
    if event["type"] == "websocket.receive":
        if event.get("bytes") is not None:
            return event["bytes"]  # type: ignore[no-any-return]
        if event.get("text") is not None:
            return event["text"]  # type: ignore[no-any-return]
    elif event["type"] == "websocket.disconnect" and not getattr(ws.handler.__self__, "upgrading", True):
        return None
    raise OSError()


class RequestBody:
    """The environ's `wsgi.input`: an HTTP request's body, read from ASGI when engine.io asks (a long-polling POST)."""

    __slots__ = ("_event", "_receive", "_unread")

    def __init__(self, event: dict[str, Any], receive: Receive) -> None:
        self._event = event
        self._receive = receive
        self._unread: bytes | None = None  # None: not received yet

    async def read(self, length: int | None = None) -> bytes:
        """Up to `length` bytes of what is left (all of it without `length`); the rest of the body is still drained."""
        if self._unread is None:
            self._unread = await self._receive_body(length) if self._event["type"] == "http.request" else b""
        cut = len(self._unread) if length is None else length
        taken, self._unread = self._unread[:cut], self._unread[cut:]
        return taken

    async def _receive_body(self, length: int | None) -> bytes:
        chunks = [self._event.get("body") or b""]
        size = len(chunks[0])
        while self._event.get("more_body"):
            self._event = await self._receive()
            if self._event["type"] != "http.request":
                break
            if length is None or size < length:
                chunk = self._event.get("body") or b""
                chunks.append(chunk)
                size += len(chunk)
        return b"".join(chunks)


async def _translate_request(scope: dict[str, Any], receive: Receive, send: Any) -> dict[str, Any]:
    """engine.io's WSGI-style environ for an ASGI request: `{}` unless it begins as an HTTP request or a WebSocket."""
    event = await receive()
    if event["type"] not in ("http.request", "websocket.connect"):
        return {}
    path, query = scope["path"], ""
    if scope.get("query_string"):
        with contextlib.suppress(UnicodeDecodeError):  # left out, as engine.io does
            query = scope["query_string"].decode("utf-8")
    environ: dict[str, Any] = {
        "wsgi.input": RequestBody(event, receive),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.async": True,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "SERVER_SOFTWARE": "asgi",
        "REQUEST_METHOD": scope.get("method", "GET"),
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "RAW_URI": f"{path}?{query}" if query else path,
        "SCRIPT_NAME": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "0",
        "SERVER_NAME": "asgi",
        "SERVER_PORT": "0",
        "asgi.receive": receive,
        "asgi.send": send,
        "asgi.scope": scope,
    }
    for raw_name, raw_value in scope["headers"]:
        try:
            name, value = raw_name.upper().decode("utf-8"), raw_value.decode("utf-8")
        except UnicodeDecodeError:
            continue  # a header that is not UTF-8 is left out, as engine.io does
        if name in ("CONTENT-TYPE", "CONTENT-LENGTH"):
            environ[name.replace("-", "_")] = value
            continue
        key = "HTTP_" + name.replace("-", "_")
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    environ["wsgi.url_scheme"] = environ.get("HTTP_X_FORWARDED_PROTO", "http")
    return environ
