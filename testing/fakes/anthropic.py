"""A fake Anthropic Messages API: `POST /v1/messages` streams named SSE events, `GET /v1/models` lists.

Shapes follow Anthropic's streaming reference: `message_start` (a message with empty content and the input usage),
`content_block_start`, `ping`, one `content_block_delta` with a `text_delta` per piece, `content_block_stop`,
`message_delta` (stop_reason and the cumulative `output_tokens`), `message_stop`. Errors are
`{"type": "error", "error": {"type": ..., "message": ...}, "request_id": ...}` with the HTTP status (529 for
`overloaded_error`), or an `event: error` in the middle of a stream. Like the real API it refuses a request without
`max_tokens`, with a `system` role among the messages, or whose first message is not the user's.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from testing.fakes.server import DropConnection, Script, ScriptedProvider

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


class FakeAnthropic(ScriptedProvider):
    """The scripted state, plus what only the Anthropic fake can be asked to do.

    api_key           when set, requests without that key (`x-api-key`, or `Authorization: Bearer`) get a 401
    malformed_after   after this many deltas, send an event whose data is not JSON
    """

    def reset(self) -> None:
        super().reset()
        self.models = ["claude-haiku-4-5", "claude-sonnet-4-5"]


def error_body(status: int, message: str, kind: str | None = None) -> dict[str, Any]:
    kind = kind or ERROR_TYPES.get(status, "invalid_request_error" if status < 500 else "api_error")
    return {"type": "error", "error": {"type": kind, "message": message}, "request_id": _request_id()}


def _request_id() -> str:
    return f"req_{secrets.token_hex(12)}"


def sent_key(headers: Mapping[str, str]) -> str | None:
    """The API key a request carries: `x-api-key` as documented, or `Authorization: Bearer`, which the SDK sends."""
    bearer = headers.get("authorization", "")
    return headers.get("x-api-key") or (bearer.removeprefix("Bearer ") if bearer.startswith("Bearer ") else None)


def _key_accepted(state: FakeAnthropic, request: Request) -> bool:
    return state.api_key is None or sent_key(request.headers) == state.api_key


def _invalid(body: dict[str, Any]) -> str | None:
    """What the real API says about a request it would refuse, or None."""
    if not isinstance(body.get("max_tokens"), int):
        return "max_tokens: Field required"
    messages = body.get("messages") or []
    if not messages:
        return "messages: at least one message is required"
    for index, message in enumerate(messages):
        if message.get("role") not in ("user", "assistant"):
            return (
                f'messages.{index}.role: Unexpected role "{message.get("role")}". The Messages API accepts a '
                'top-level `system` parameter, not "system" as an input message role.'
            )
    if messages[0]["role"] != "user":
        return "messages: first message must use the user role"
    return None


def anthropic_app(state: FakeAnthropic) -> Starlette:
    async def messages(request: Request) -> Response:
        body = await request.json()
        script = state.take(body, dict(request.headers))
        model = body.get("model", "")
        if not _key_accepted(state, request):
            return _error(401, "invalid x-api-key")
        if script.status != 200:
            headers = {"retry-after": script.retry_after} if script.retry_after else {}
            return _error(script.status, script.error, headers)
        problem = _invalid(body)
        if problem:
            return _error(400, problem)
        if model not in state.models:
            return _error(404, f"model: {model}")
        if not body.get("stream"):
            return _error(400, "this fake only streams; send `stream: true`")
        return StreamingResponse(
            _stream(state, script, model),
            media_type="text/event-stream",
            headers={"request-id": _request_id(), "cache-control": "no-cache"},
        )

    async def models(request: Request) -> Response:
        if not _key_accepted(state, request):
            return _error(401, "invalid x-api-key")
        data = [
            {
                "type": "model",
                "id": name,
                "display_name": name.replace("-", " ").title(),
                "created_at": "2025-10-01T00:00:00Z",
            }
            for name in state.models
        ]
        return JSONResponse(
            {
                "data": data,
                "has_more": False,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
            }
        )

    return Starlette(routes=[Route("/v1/messages", messages, methods=["POST"]), Route("/v1/models", models)])


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(
        error_body(status, message), status_code=status, headers={"request-id": _request_id(), **(headers or {})}
    )


async def _stream(state: FakeAnthropic, script: Script, model: str) -> AsyncIterator[bytes]:
    def error_event() -> bytes:
        kind = "overloaded_error" if "overload" in script.error.lower() else "api_error"
        return _event("error", {"type": "error", "error": {"type": kind, "message": script.error}})

    state.started.set()
    try:
        yield _event(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": f"msg_{secrets.token_hex(12)}",
                    "type": "message",
                    "role": "assistant",
                    "content": [],
                    "model": model,
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": script.prompt_tokens,
                        "cache_creation_input_tokens": 0,
                        "cache_read_input_tokens": 0,
                        "output_tokens": 1,
                    },
                },
            },
        )
        yield _event(
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        )
        yield _event("ping", {"type": "ping"})
        for index, token in enumerate(script.tokens):
            if index == script.error_after:
                yield error_event()
                return
            if index == script.drop_after:
                raise DropConnection
            if index == state.malformed_after:
                yield b'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, "delta": \n\n'
                return
            if index == script.stall_after:
                await asyncio.sleep(3600)
            if script.delay:
                await asyncio.sleep(script.delay)
            yield _event(
                "content_block_delta",
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": token}},
            )
        if script.error_after is not None and script.error_after >= len(script.tokens):
            yield error_event()
            return
        if script.drop_after is not None and script.drop_after >= len(script.tokens):
            raise DropConnection
        yield _event("content_block_stop", {"type": "content_block_stop", "index": 0})
        completion = script.completion_tokens if script.completion_tokens is not None else len(script.tokens)
        yield _event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": completion},
            },
        )
        yield _event("message_stop", {"type": "message_stop"})
        state.completed += 1
    except (asyncio.CancelledError, GeneratorExit):  # the client closed the connection mid-stream
        state.disconnected.set()
        raise


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()
