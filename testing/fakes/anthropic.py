"""A fake Anthropic Messages API: `POST /v1/messages` streams named SSE events, `GET /v1/models` lists.

Shapes follow Anthropic's streaming reference: `message_start` (a message with empty content and the input usage),
`content_block_start`, `ping`, one `content_block_delta` with a `text_delta` per piece, `content_block_stop`,
`message_delta` (stop_reason and the cumulative `output_tokens`), `message_stop`. Errors are
`{"type": "error", "error": {"type": ..., "message": ...}, "request_id": ...}` with the HTTP status (529 for
`overloaded_error`), or an `event: error` in the middle of a stream. Like the real API it refuses a request without
`max_tokens`, with a `system` role among the messages, or whose first message is not the user's, and a content
block it would refuse: an empty text, an unknown type, an image whose base64 is not an image, is not the declared
`media_type`, is over 5 MB of base64 or over 8,000 px a side.


Extended thinking: with `thinking: {"type": "enabled", "budget_tokens": n}` the real API wants n ≥ 1,024 and below
`max_tokens`, and no `temperature` other than 1; the reply then opens with a `thinking` block (`thinking_delta`s,
one `signature_delta`, `content_block_stop`) before the `text` block at the next index.

Tool use (`Script.tool_calls`): `tool_use` blocks after the text (none when the turn is only calls), `stop_reason:
"tool_use"`; tools, `tool_use`/`tool_result` pairing and signed thinking sent back are checked as the API checks them
(`testing.fakes.anthropic_tools`).
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

from testing.fakes.anthropic_tools import TOOL_BLOCKS, invalid_tools, tool_use_events
from testing.fakes.images import BadImage, SeenImage, decode
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
        self.signatures: set[str] = set()
        """The thinking blocks' signatures this fake sent: a thinking block sent back must carry one of them."""
        self.images: list[list[SeenImage]] = []
        """Per request, the images of all its messages, decoded."""


IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
MAX_BASE64 = 5 * 1024 * 1024
MAX_EDGE = 8000


def _invalid_block(index: int, position: int, block: Any, seen: list[SeenImage]) -> str | None:
    where = f"messages.{index}.content.{position}"
    kind = block.get("type") if isinstance(block, dict) else None
    if kind == "text":
        return None if str(block.get("text") or "").strip() else f"{where}.text: text content blocks must be non-empty"
    if kind in TOOL_BLOCKS:  # paired and checked by `invalid_tools`
        return None
    if kind != "image":
        return f"{where}: Input tag '{kind}' found using 'type' does not match any of the expected tags"
    source = block.get("source") or {}
    if source.get("type") != "base64" or source.get("media_type") not in IMAGE_TYPES:
        return f"{where}.source: media_type must be one of {', '.join(IMAGE_TYPES)}"
    data = str(source.get("data") or "")
    if len(data) > MAX_BASE64:
        return f"{where}.image.source.base64: image exceeds 5 MB maximum: {len(data)} bytes > {MAX_BASE64} bytes"
    try:
        image = decode(data)
    except BadImage:
        return f"{where}.image.source.base64.data: Could not process image"
    if image.media_type != source["media_type"]:
        return (
            f"{where}.image.source.base64.data: The image was specified using the {source['media_type']} media "
            f"type, but the image appears to be a {image.media_type} image"
        )
    if max(image.width, image.height) > MAX_EDGE:
        return f"{where}.image.source.base64.data: At least one of the image dimensions exceed max allowed size: 8000"
    seen.append(image)
    return None


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
    thinking = body.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") == "enabled":
        budget = thinking.get("budget_tokens")
        if not isinstance(budget, int) or budget < 1024:
            return "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
        if budget >= body["max_tokens"]:
            return "`max_tokens` must be greater than `thinking.budget_tokens`."
        if body.get("temperature") not in (None, 1):
            return "`temperature` may only be set to 1 when thinking is enabled."
    return None


def _invalid_content(state: FakeAnthropic, body: dict[str, Any]) -> str | None:
    """What the API says about a content block it would refuse, or None; the images seen go to `state.images`."""
    seen: list[SeenImage] = []
    for index, message in enumerate(body.get("messages") or []):
        content = message.get("content")
        if isinstance(content, str):
            if not content.strip():
                return f"messages.{index}: all messages must have non-empty content"
            continue
        for position, block in enumerate(content or []):
            problem = _invalid_block(index, position, block, seen)
            if problem:
                return problem
    state.images.append(seen)
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
        problem = _invalid(body) or _invalid_content(state, body) or invalid_tools(body, state.signatures)
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
        """Pages of `limit` models (20 unless asked), after the model `after_id` names, as the real API pages."""
        if not _key_accepted(state, request):
            return _error(401, "invalid x-api-key")
        limit = int(request.query_params.get("limit", 20))
        after = request.query_params.get("after_id")
        start = state.models.index(after) + 1 if after in state.models else 0
        data = [
            {
                "type": "model",
                "id": name,
                "display_name": name.replace("-", " ").title(),
                "created_at": "2025-10-01T00:00:00Z",
            }
            for name in state.models[start : start + limit]
        ]
        return JSONResponse(
            {
                "data": data,
                "has_more": start + limit < len(state.models),
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
        text_index = 0
        if script.thinking:
            block = {"type": "thinking", "thinking": "", "signature": ""}
            yield _event("content_block_start", {"type": "content_block_start", "index": 0, "content_block": block})
            for thought in script.thinking:
                if script.delay:
                    await asyncio.sleep(script.delay)
                yield _delta(0, {"type": "thinking_delta", "thinking": thought})
            state.signatures.add(script.signature)
            yield _delta(0, {"type": "signature_delta", "signature": script.signature})
            yield _event("content_block_stop", {"type": "content_block_stop", "index": 0})
            text_index = 1
        with_text = bool(script.tokens) or not script.tool_calls  # a turn of calls alone has no text block
        if with_text:
            yield _event(
                "content_block_start",
                {"type": "content_block_start", "index": text_index, "content_block": {"type": "text", "text": ""}},
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
            yield _delta(text_index, {"type": "text_delta", "text": token})
        if script.error_after is not None and script.error_after >= len(script.tokens):
            yield error_event()
            return
        if script.drop_after is not None and script.drop_after >= len(script.tokens):
            raise DropConnection
        if with_text:
            yield _event("content_block_stop", {"type": "content_block_stop", "index": text_index})
        for name, data in tool_use_events(script.tool_calls, text_index + with_text):
            yield _event(name, data)
        completion = script.completion_tokens
        if completion is None:
            completion = len(script.tokens) + len(script.thinking)
        yield _event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": _stop_reason(script), "stop_sequence": None},
                "usage": {"output_tokens": completion},
            },
        )
        yield _event("message_stop", {"type": "message_stop"})
        state.completed += 1
    except (asyncio.CancelledError, GeneratorExit):  # the client closed the connection mid-stream
        state.disconnected.set()
        raise


def _stop_reason(script: Script) -> str:
    return "tool_use" if script.tool_calls else "max_tokens" if script.cut_off else "end_turn"


def _delta(index: int, delta: dict[str, Any]) -> bytes:
    return _event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()
