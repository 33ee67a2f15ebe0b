"""What a request body may be, as pure ASGI: at most so many bytes, and JSON that JSON can carry back.

- Bodies larger than `max_body_bytes` are refused with 413: at once when `Content-Length` says so, and while reading
  when a chunked body grows past the limit. `large_bodies` raises the limit of POSTs to named paths only (the import
  upload, which streams to disk), and `large_patterns` to paths that match a pattern (a collection's documents:
  the path holds its id); every other route keeps the small one.
- A JSON body of a state-changing request must be interoperable JSON (I-JSON, RFC 7493): a lone UTF-16 surrogate
  (`"\\ud800"`) or a number that is not finite (`NaN`, `Infinity`, `1e999`) is refused with 400. Python's parser
  accepts both, but they cannot be stored or sent back as JSON: FastAPI's 422 answer echoes the bad value and fails
  to encode it (a 500), and SQLite cannot store a lone surrogate. Other parse errors are left to the route (400/422
  as usual). Only these JSON bodies (at most `max_body_bytes`) are read ahead; every other body streams through.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatui.web.csrf import SAFE_METHODS

TOO_LARGE = "The request body is too large."


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a body grows past the limit (FastAPI re-raises HTTPExceptions as they are)."""

    def __init__(self) -> None:
        super().__init__(413, TOO_LARGE)


def is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


def json_problem(body: bytes) -> str | None:
    """Why a JSON body that Python can parse is still unacceptable (see the module docstring); None if fine."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None  # not JSON at all: the route answers that
    try:
        json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except UnicodeEncodeError:
        return "The request body contains a lone UTF-16 surrogate, which is not valid Unicode text."
    except ValueError:
        return "The request body contains a number that is not finite (NaN, Infinity or out of range)."
    except RecursionError:
        return None
    return None


class BodyLimits:
    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int = 1_000_000,
        large_bodies: Mapping[str, int] | None = None,
        large_patterns: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.large_bodies = dict(large_bodies or {})
        self.large_patterns = [(re.compile(pattern), limit) for pattern, limit in (large_patterns or {}).items()]

    def _large(self, path: str) -> int | None:
        if path in self.large_bodies:
            return self.large_bodies[path]
        return next((limit for pattern, limit in self.large_patterns if pattern.fullmatch(path)), None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        headers = Headers(scope=scope)
        large = self._large(path) if method == "POST" else None
        limit = self.max_body_bytes if large is None else large
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await _refuse(scope, receive, send, 413, TOO_LARGE)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def send_noting_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        app_receive = limited_receive
        if method not in SAFE_METHODS and is_json(headers.get("content-type", "")) and self._large(path) is None:
            try:
                body, app_receive = await _read_body(limited_receive)
            except BodyTooLarge:
                await _refuse(scope, receive, send, 413, TOO_LARGE)
                return
            problem = json_problem(body)
            if problem is not None:
                await _refuse(scope, receive, send, 400, problem)
                return
        try:
            await self.app(scope, app_receive, send_noting_start)
        except BodyTooLarge:
            if started:
                raise
            await _refuse(scope, receive, send, 413, TOO_LARGE)


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole request body, and a `receive` that hands it to the app again (then the client's own events)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away: let the app see that
            pending: list[Message] = [message]
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            pending = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]
            break

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return b"".join(chunks), replay


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, detail: str) -> None:
    await JSONResponse({"detail": detail}, status_code=status)(scope, receive, send)
