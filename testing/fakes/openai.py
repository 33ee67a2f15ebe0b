"""A fake OpenAI (and OpenAI-compatible server): `POST /v1/chat/completions` streams SSE, `GET /v1/models` lists.

Shapes follow OpenAI's API reference for streamed chat completions: each event is `data: <chat.completion.chunk>`
with `id`, `object`, `created`, `model`, `system_fingerprint` and `choices[{index, delta, logprobs, finish_reason}]`;
the first delta carries the role, the last choice a `finish_reason`; with `stream_options.include_usage` every chunk
has `"usage": null` and one more chunk with empty `choices` carries the usage; the stream ends with `data: [DONE]`.
Errors are `{"error": {"message", "type", "param", "code"}}` with the HTTP status, or as a `data:` event mid-stream.
Tool calls (`Script.tool_calls`) and the results sent back are checked as OpenAI checks them:
`testing.fakes.openai_tools`.
Embeddings: `POST /v1/embeddings` answers `{"object": "list", "data": [{"object": "embedding", "index", "embedding"}],
"model", "usage"}`, each embedding JSON floats or, with `encoding_format: "base64"` (what the SDK asks for unless
told otherwise), base64 of little-endian float32s; vectors from `state.embedder` (`testing.fakes.embeddings`).
Reasoning streams before the content as deltas `{"content": null, "reasoning_content": "..."}`, as DeepSeek's API
and llama.cpp send it (`reasoning_field = "reasoning"`: as newer vLLM and Ollama's `/v1` do), and is counted in
`usage.completion_tokens_details.reasoning_tokens`.

A message's `content` is a string or a list of parts (`{"type": "text", "text"}`, `{"type": "image_url",
"image_url": {"url"}}`); like OpenAI, the fake answers 400 to an unknown part, an image in a message that is not the
user's, a URL that is not a base64 `data:` URL of an image of a type it takes, or a type that is not the image's.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import struct
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from testing.fakes.embeddings import inputs_of
from testing.fakes.images import BadImage, SeenImage, decode
from testing.fakes.openai_tools import invalid_tools
from testing.fakes.server import DropConnection, Script, ScriptedProvider

ERROR_TYPES: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    503: ("server_error", None),
}


class FakeOpenAI(ScriptedProvider):
    """The scripted state, plus what only an OpenAI-compatible server can be asked to do.

    api_key                  when set, requests without `Authorization: Bearer <api_key>` get OpenAI's 401
    reject_stream_options    answer 400 to any request carrying `stream_options`, as older compatible servers do
    malformed_after          after this many deltas, send an event whose data is not JSON
    reasoning_field          the delta field reasoning streams in (`reasoning_content`, or `reasoning`)
    """

    embedding_models = ("text-embedding-3-small", "text-embedding-3-large")

    def reset(self) -> None:
        super().reset()
        self.models = ["gpt-4o-mini", "gpt-4.1"]
        self.reject_stream_options = False
        self.reasoning_field = "reasoning_content"
        self.images: list[list[SeenImage]] = []
        """Per chat request, the images of all its messages, decoded."""


IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


def _invalid_content(state: FakeOpenAI, body: dict[str, Any]) -> str | None:
    """What OpenAI says about a message content it would refuse, or None; the images seen go to `state.images`."""
    seen: list[SeenImage] = []
    for index, message in enumerate(body.get("messages") or []):
        content = message.get("content")
        if isinstance(content, str) or content is None:
            continue
        if not isinstance(content, list):
            return f"Invalid type for 'messages[{index}].content': expected a string or an array."
        for position, part in enumerate(content):
            where = f"messages[{index}].content[{position}]"
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "text" and isinstance(part.get("text"), str):
                continue
            if kind != "image_url":
                return f"Invalid value for '{where}.type': supported values are 'text' and 'image_url'."
            if message.get("role") != "user":
                return (
                    "Image URLs are only allowed for messages with role 'user', but this message with role "
                    f"'{message.get('role')}' contains an image URL."
                )
            url = (part.get("image_url") or {}).get("url", "")
            declared, _, data = url.removeprefix("data:").partition(";base64,")
            if not url.startswith("data:") or declared not in IMAGE_TYPES or not data:
                return f"Invalid '{where}.image_url.url': expected a base64-encoded data URL with an image MIME type."
            try:
                image = decode(data)
            except BadImage:
                return "You uploaded an unsupported image. Please make sure your image is valid."
            if image.media_type != declared:
                return f"Invalid image: the data is {image.media_type}, the URL says {declared}."
            seen.append(image)
    state.images.append(seen)
    return None


def error_body(status: int, message: str) -> dict[str, Any]:
    kind, code = ERROR_TYPES.get(status, ("invalid_request_error" if status < 500 else "server_error", None))
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def openai_app(state: FakeOpenAI) -> Starlette:
    async def completions(request: Request) -> Response:
        body = await request.json()
        script = state.take(body, dict(request.headers))
        model = body.get("model", "")
        refused = _refuse_key(state, request)
        if refused is not None:
            return refused
        if script.status != 200:
            headers = {"retry-after": script.retry_after} if script.retry_after else {}
            return _error(script.status, script.error, headers)
        problem = _invalid_content(state, body) or invalid_tools(body)
        if problem:
            return _error(400, problem)
        if state.reject_stream_options and "stream_options" in body:
            return _error(400, "Unrecognized request argument supplied: stream_options")
        if model not in state.models:
            return _error(404, f"The model `{model}` does not exist or you do not have access to it.")
        if not body.get("stream"):
            return _error(400, "this fake only streams; send `stream: true`")
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return StreamingResponse(
            _stream(state, script, model, include_usage),
            media_type="text/event-stream",
            headers={"x-request-id": f"req_{secrets.token_hex(16)}", "cache-control": "no-cache"},
        )

    async def models(request: Request) -> Response:
        refused = _refuse_key(state, request)
        if refused is not None:
            return refused
        return JSONResponse(
            {
                "object": "list",
                "data": [
                    {"id": name, "object": "model", "created": 1686935002, "owned_by": "openai"}
                    for name in state.models
                ],
            }
        )

    async def embeddings(request: Request) -> Response:
        """`POST /v1/embeddings`: `{"model", "input", "encoding_format"}` → a list of `embedding` objects."""
        refused = _refuse_key(state, request)
        if refused is not None:
            return refused
        body = await request.json()
        embedder = state.embedder
        model, inputs = body.get("model", ""), inputs_of(body)
        embedder.seen(inputs or [])
        if embedder.status != 200:
            return _error(embedder.status, embedder.error)
        if model not in embedder.models:
            return _error(404, f"The model `{model}` does not exist or you do not have access to it.")
        if not inputs or any(not text for text in inputs):
            return _error(400, "'$.input' is invalid. Please check the API reference.")
        base64_wanted = body.get("encoding_format") == "base64"  # the SDK asks for it unless told otherwise
        data = [
            {"object": "embedding", "index": index, "embedding": _encoded(embedder.vector(text), base64_wanted)}
            for index, text in enumerate(inputs)
        ]
        tokens = sum(len(text.split()) for text in inputs)
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        return JSONResponse(
            {"object": "list", "data": data, "model": model, "usage": usage},
            headers={"x-request-id": f"req_{secrets.token_hex(16)}"},
        )

    return Starlette(
        routes=[
            Route("/v1/chat/completions", completions, methods=["POST"]),
            Route("/v1/models", models),
            Route("/v1/embeddings", embeddings, methods=["POST"]),
        ]
    )


def _encoded(vector: list[float], as_base64: bool) -> list[float] | str:
    """A vector as OpenAI sends it: JSON floats, or with `encoding_format: base64` its little-endian float32 bytes."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii") if as_base64 else vector


def _refuse_key(state: FakeOpenAI, request: Request) -> Response | None:
    """OpenAI's 401 for a missing or wrong bearer key, which it shows masked: first 8 and last 4 characters."""
    if state.api_key is None:
        return None
    sent = request.headers.get("authorization", "").removeprefix("Bearer ")
    if sent == state.api_key:
        return None
    masked = f"{sent[:8]}{'*' * max(0, len(sent) - 12)}{sent[-4:]}" if len(sent) > 12 else "***"
    return _error(
        401,
        f"Incorrect API key provided: {masked}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
    )


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(
        error_body(status, message),
        status_code=status,
        headers={"x-request-id": f"req_{secrets.token_hex(16)}", **(headers or {})},
    )


async def _stream(state: FakeOpenAI, script: Script, model: str, include_usage: bool) -> AsyncIterator[bytes]:
    chunk_id = f"chatcmpl-{secrets.token_hex(12)}"
    created = int(time.time())

    def chunk(choices: list[dict[str, Any]], usage: dict[str, int] | None = None) -> bytes:
        obj: dict[str, Any] = {
            "id": chunk_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": "fp_f33667828e",
            "choices": choices,
        }
        if include_usage:
            obj["usage"] = usage
        return _event(obj)

    def delta(content: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return {"index": 0, "delta": content, "logprobs": None, "finish_reason": finish_reason}

    state.started.set()
    try:
        yield chunk([delta({"role": "assistant", "content": "", "refusal": None})])
        for thought in script.thinking:
            if script.delay:
                await asyncio.sleep(script.delay)
            yield chunk([delta({"content": None, state.reasoning_field: thought})])
        for index, token in enumerate(script.tokens):
            if index == script.error_after:
                yield _event(error_body(500, script.error))
                return
            if index == script.drop_after:
                raise DropConnection
            if index == state.malformed_after:
                yield b'data: {"id": "chatcmpl-1", "choices": [{"delta": \n\n'
                return
            if index == script.stall_after:
                await asyncio.sleep(3600)
            if script.delay:
                await asyncio.sleep(script.delay)
            yield chunk([delta({"content": token})])
        if script.error_after is not None and script.error_after >= len(script.tokens):
            yield _event(error_body(500, script.error))
            return
        if script.drop_after is not None and script.drop_after >= len(script.tokens):
            raise DropConnection
        for index, call in enumerate(script.tool_calls):
            call_id = call.id or f"call_{secrets.token_hex(12)}"
            first = {
                "index": index,
                "id": call_id,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            yield chunk([delta({"tool_calls": [first]})])
            for fragment in call.fragments():
                yield chunk([delta({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]})])
        finish = "tool_calls" if script.tool_calls else "length" if script.cut_off else "stop"
        yield chunk([delta({}, finish)])
        if include_usage:
            completion = script.completion_tokens
            if completion is None:
                completion = len(script.tokens) + len(script.thinking)
            usage = {
                "prompt_tokens": script.prompt_tokens,
                "completion_tokens": completion,
                "total_tokens": script.prompt_tokens + completion,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": len(script.thinking), "audio_tokens": 0},
            }
            yield chunk([], usage)
        yield b"data: [DONE]\n\n"
        state.completed += 1
    except (asyncio.CancelledError, GeneratorExit):  # the client closed the connection mid-stream
        state.disconnected.set()
        raise


def _event(obj: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(obj)}\n\n".encode()
