"""Ollama's native chat API: `POST /api/chat` streaming NDJSON, over httpx.

Each line is a JSON object: `{"message": {"role": "assistant", "content": "..."}, "done": false}` while text comes,
then a final `{"done": true, "prompt_eval_count": n, "eval_count": m, ...}`. Errors come as HTTP status + `{"error":
"..."}` before the stream starts, or as an `{"error": "..."}` line in the middle of it.

Thinking models: a request with `"think": true` (or a level, `"low"`/`"medium"`/`"high"`, for models that take
levels: gpt-oss) streams the reasoning as `message.thinking`, before the content. A model that cannot think refuses
`think` with a 400, so it is sent only to models whose `POST /api/show` lists the `thinking` capability (and a level
only where its `thinking.values` name levels). A leading `<think>…</think>` in the content (older servers and
models) is split off as well (`providers.thinking`).

Function calling: the request's `tools` take OpenAI's shape (`{"type": "function", "function": {"name",
"description", "parameters"}}`); a call arrives whole, never in fragments, as `message.tool_calls: [{"function":
{"name", "arguments": {...}}}]` (arguments an object, not JSON text; newer servers add `id` and `function.index`),
and the reply still ends with `done_reason: "stop"`. The assistant turn is sent back with the same `tool_calls`, and
each result as `{"role": "tool", "content", "tool_name"}` (Ollama pairs results with calls by name and order; it has
no call id to send and no error flag, so a failed call's text says "Error: ...").

Embeddings (`embed`, for knowledge retrieval): `POST /api/embed` with `{"model", "input": [texts]}` answers
`{"model", "embeddings": [[floats], ...], "total_duration", "load_duration", "prompt_eval_count"}`; errors as above.

Images travel beside a message's text, as its `images`: a list of base64 strings (no type, no data URL). Whether a
model can see them is in `POST /api/show`'s `capabilities` (`"vision"`), asked once a minute per model.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from functools import partial
from typing import Any

import aiohttp
import httpx
import orjson
from httpx_aiohttp import AiohttpTransport

from providers.base import (
    ChatMessage,
    Effort,
    GenerationParams,
    ImageLimits,
    ModelLabel,
    Provider,
    ReasoningDelta,
    StreamEvent,
    Usage,
    with_system,
)
from providers.errors import (
    ModelNotFound,
    ProviderError,
    ProviderStreamError,
    ProviderTimeout,
    ProviderUnavailable,
    error_for_status,
    parse_retry_after,
)
from providers.openai_tools import wire_tools
from providers.thinking import InlineThinking
from providers.tools import ToolCall, ToolCallDelta, error_text, parsed_call
from providers.urls import redact_url, without_credentials

KEEP_IDLE_SECONDS = 4.0
"""How long an idle connection to Ollama is kept for the next request (less than the servers' usual 5 s)."""


class OllamaProvider(Provider):
    """Talks to one Ollama server."""

    name = "ollama"
    image_limits = ImageLimits(1568, 10 * 1024 * 1024, frozenset({"image/png", "image/jpeg"}))
    """Ollama documents no image limit; its vision models scale every image to their encoder's own size (llava 336
    or 672 px, gemma3 896, llama3.2-vision 1120 in 560 px tiles), so pixels beyond 1,568 on the long side only cost
    encoding, upload and memory. PNG and JPEG only: the image loaders of Ollama's two engines (llama.cpp's and Go's)
    read those two for every model, while GIF and WebP depend on the model's engine."""
    capabilities_seconds = 60.0
    """How long a model's `/api/show` answer is kept (a model can be pulled again as another)."""
    prefills = True

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        # Basic auth from the URL (`http://user:password@host/`, e.g. behind a proxy): aiohttp refuses a URL that
        # carries credentials, and they must never be shown, so they travel as an `Authorization` header instead.
        base_url, credentials = without_credentials(base_url.rstrip("/"))
        self.base_url = base_url
        self.shown_url = redact_url(base_url)
        timeout = httpx.Timeout(connect=connect_timeout, read=read_timeout, write=read_timeout, pool=None)
        # No cap on connections: each streaming reply holds one, and Ollama queues what it cannot run in parallel.
        # An idle connection is dropped after KEEP_IDLE_SECONDS, before a server that closes idle connections at the
        # usual 5 s (uvicorn's default; an OpenAI-compatible front of Ollama) can: at the same 5 s on both sides, a
        # reply sometimes took a connection the server was closing and failed ("Cannot write to closing
        # transport": 3-5 of 1,000 replies in `python -m bench.ui_churn`, BENCHMARKS.md §26).
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=32, keepalive_expiry=KEEP_IDLE_SECONDS)
        # httpx's API on aiohttp's connections: Ollama sends every token as its own HTTP chunk, and httpx's default
        # transport parses each chunk in Python (h11) while aiohttp's C parser hands over whatever one read brought.
        # At 100 streams x 50 tokens/s a token costs 75 µs to read instead of 165 (bench/provider_read.py).
        transport = transport or AiohttpTransport(client=partial(_aiohttp_session, limits))
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            limits=limits,
            auth=httpx.BasicAuth(*credentials) if credentials else None,
        )
        self._shown: dict[str, tuple[float, dict[str, Any]]] = {}
        """Per model: when `/api/show` answered, and its answer (capabilities: thinking, vision)."""

    @property
    def display_name(self) -> str:
        return f"Ollama at {self.shown_url}"

    def _unreachable(self) -> ProviderUnavailable:
        return ProviderUnavailable(
            f"cannot reach Ollama at {self.shown_url}; start it with `ollama serve` or set OLLAMA_BASE_URL"
        )

    async def stream(
        self, messages: Sequence[ChatMessage], model: str, params: GenerationParams | None = None
    ) -> AsyncGenerator[StreamEvent, None]:
        body: dict[str, Any] = {
            "model": model,
            "messages": [wire for m in with_system(messages, params) for wire in _messages(m)],
            "stream": True,
        }
        if params is not None and params.tools:
            body["tools"] = wire_tools(params.tools)
        options = _options(params)
        if options:
            body["options"] = options
        if params is not None and params.reasoning_effort is not None:
            think = await self._think_value(model, params.reasoning_effort)
            if think is not None:
                body["think"] = think
        inline = InlineThinking()
        calls: list[ToolCall] = []
        started = False
        try:
            async with self._client.stream("POST", "/api/chat", json=body) as response:
                if response.status_code != 200:
                    await response.aread()
                    raise self._status_error(response, model)
                started = True
                async for lines in _line_batches(response):
                    for line in lines:
                        chunk = _parse_line(line)
                        if "error" in chunk:
                            raise ProviderStreamError(f"Ollama reported an error mid-reply: {chunk['error']}")
                        message = chunk.get("message") or {}
                        thought = message.get("thinking")
                        if thought:
                            yield ReasoningDelta(thought)
                        text = message.get("content")
                        if text:
                            for event in inline.feed(text):
                                yield event
                        for call in _tool_calls(message, len(calls)):
                            calls.append(call)
                            yield ToolCallDelta(call.index, call.call_id, call.name, call.raw_arguments)
                        if chunk.get("done"):
                            for event in inline.close():
                                yield event
                            for call in calls:
                                yield call
                            cut_off = chunk.get("done_reason") == "length"
                            yield Usage(chunk.get("prompt_eval_count"), chunk.get("eval_count"), cut_off)
                            return
                raise ProviderStreamError("the connection to Ollama ended before the reply was complete")
        except httpx.TransportError as exc:
            if _timed_out(exc):
                raise ProviderTimeout(f"Ollama at {self.shown_url} did not answer in time") from exc
            if started:
                raise ProviderStreamError("the connection to Ollama broke before the reply was complete") from exc
            raise self._unreachable() from exc

    async def embed(self, model: str, texts: Sequence[str]) -> list[list[float]]:
        """`POST /api/embed` with `{"model", "input": [...]}` → `{"embeddings": [[...], ...]}`, one per input, in
        order (Ollama normalises them to length 1). Errors as for a reply: 404 for a model not pulled, and so on."""
        if not texts:
            return []
        try:
            response = await self._client.post("/api/embed", json={"model": model, "input": list(texts)})
        except httpx.TransportError as exc:
            if _timed_out(exc):
                raise ProviderTimeout(f"Ollama at {self.shown_url} did not answer in time") from exc
            raise self._unreachable() from exc
        if response.status_code != 200:
            raise self._status_error(response, model)
        try:
            vectors = orjson.loads(response.content)["embeddings"]
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise ProviderError("Ollama answered /api/embed with something that is not embeddings") from exc
        if not isinstance(vectors, list) or len(vectors) != len(texts):
            raise ProviderError(f"Ollama answered /api/embed with {len(vectors)} embeddings for {len(texts)} texts")
        return vectors

    def _status_error(self, response: httpx.Response, model: str) -> ProviderError:
        detail = _error_text(response)
        if response.status_code == 404 or "not found" in detail.lower():
            return ModelNotFound(f"Ollama has no model '{model}' ({detail}); pull it with `ollama pull {model}`")
        return error_for_status(
            response.status_code,
            "Ollama",
            detail,
            model=model,
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )

    async def sees_images(self, model: str) -> bool:
        """`"vision"` among the model's `capabilities` (`POST /api/show`). Where that cannot be learnt (Ollama down,
        no such model, a version before capabilities), yes: the request itself then says what is wrong."""
        shown = await self._show(model)
        capabilities = shown.get("capabilities") if shown is not None else None
        return "vision" in capabilities if isinstance(capabilities, list) else True

    async def _show(self, model: str) -> dict[str, Any] | None:
        """`POST /api/show` for the model, kept `capabilities_seconds`; None when the server cannot say (asked again
        next time)."""
        known = self._shown.get(model)
        if known is not None and time.monotonic() - known[0] < self.capabilities_seconds:
            return known[1]
        try:
            response = await self._client.post("/api/show", json={"model": model})
            shown = response.json() if response.status_code == 200 else None
        except (httpx.TransportError, ValueError):
            return None
        if not isinstance(shown, dict):
            return None
        self._shown[model] = (time.monotonic(), shown)
        return shown

    async def list_models(self) -> list[str]:
        try:
            response = await self._client.get("/api/tags")
        except httpx.TransportError as exc:
            if _timed_out(exc):
                raise ProviderTimeout(f"Ollama at {self.shown_url} did not answer in time") from exc
            raise self._unreachable() from exc
        if response.status_code != 200:
            raise error_for_status(response.status_code, "Ollama", _error_text(response), model="")
        models = [m for m in response.json().get("models", []) if isinstance(m, dict) and "name" in m]
        self.labels = {str(m["name"]): _label(str(m["name"]), m.get("details")) for m in models}
        return [str(m["name"]) for m in models]

    async def can_think(self, model: str) -> bool:
        return (await self._thinking_of(model))[0]

    async def _think_value(self, model: str, effort: Effort) -> bool | str | None:
        """What `think` says for `effort` to this model: its level, or true; None for a model that cannot think."""
        can, levels = await self._thinking_of(model)
        if not can:
            return None
        return effort if effort in levels else True

    async def _thinking_of(self, model: str) -> tuple[bool, tuple[str, ...]]:
        """Whether the model can think and which levels it takes, from `POST /api/show`."""
        shown = await self._show(model)
        if shown is None:
            return False, ()
        capabilities = shown.get("capabilities") or []
        values = (shown.get("thinking") or {}).get("values") or []
        return "thinking" in capabilities, tuple(v for v in values if isinstance(v, str))

    async def aclose(self) -> None:
        await self._client.aclose()


def _aiohttp_session(limits: httpx.Limits) -> aiohttp.ClientSession:
    """aiohttp's session for the transport, made on first use (inside the running loop), with httpx's `limits`.

    Given no connector, httpx-aiohttp leaves aiohttp's default of 100 connections per session in place when
    `max_connections` is None, and every streaming reply holds one: the 101st would wait for another to end.
    """
    limit = 0 if limits.max_connections is None else limits.max_connections  # aiohttp: 0 = no limit
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit, keepalive_timeout=limits.keepalive_expiry))


def _timed_out(exc: httpx.TransportError) -> bool:
    """Whether the connection timed out (rather than being refused or cut).

    httpx-aiohttp maps some aiohttp errors onto the wrong httpx class (a refused connection arrives as
    `ConnectTimeout`), so aiohttp's own error decides when there is one.
    """
    cause = exc.__cause__
    if isinstance(cause, aiohttp.ClientError):
        return isinstance(cause, TimeoutError)
    return isinstance(exc, httpx.TimeoutException)


def _messages(message: ChatMessage) -> list[dict[str, Any]]:
    """A message as `/api/chat` takes it: its text, its images (if any) as base64 strings beside it, its calls; a
    `tool` turn, one message per result."""
    if message.role == "tool":
        return [{"role": "tool", "content": error_text(r), "tool_name": r.name} for r in message.tool_results]
    wire: dict[str, Any] = {"role": message.role, "content": message.content}
    if images := message.images:
        wire["images"] = [image.base64() for image in images]
    if calls := message.tool_calls:
        wire["tool_calls"] = [{"function": {"name": c.name, "arguments": dict(c.arguments)}} for c in calls]
    return [wire]


def _tool_calls(message: dict[str, Any], before: int) -> list[ToolCall]:
    """The calls of one streamed line, numbered after the `before` already seen; an id made up where the server
    sends none (the caller pairs the result with the call by it)."""
    calls: list[ToolCall] = []
    for offset, call in enumerate(message.get("tool_calls") or []):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict):
            continue
        index = before + offset
        call_id = str(call.get("id") or f"call_{secrets.token_hex(8)}")
        name = str(function.get("name") or "")
        arguments = function.get("arguments")
        raw = arguments if isinstance(arguments, str) else json.dumps(arguments if arguments is not None else {})
        calls.append(parsed_call(index, call_id, name, raw))
    return calls


def _options(params: GenerationParams | None) -> dict[str, Any]:
    if params is None:
        return {}
    options: dict[str, Any] = {}
    if params.temperature is not None:
        options["temperature"] = params.temperature
    if params.max_tokens is not None:
        options["num_predict"] = params.max_tokens
    if params.top_p is not None:
        options["top_p"] = params.top_p
    if params.seed is not None:
        options["seed"] = params.seed
    return options


async def _line_batches(response: httpx.Response) -> AsyncIterator[list[bytes]]:
    """The non-empty lines of an NDJSON body, as many at a time as each read brought.

    Split by hand (httpx's text line decoder costs more than the JSON), and handed over per read rather than per
    line: in a fast stream one read holds hundreds of tokens, and each step through an async generator costs.
    """
    pending = b""
    async for data in response.aiter_raw():
        pending += data
        if b"\n" not in data:
            continue
        *lines, pending = pending.split(b"\n")
        yield [line for line in lines if line.strip()]
    if pending.strip():
        yield [pending]


def _parse_line(line: bytes) -> dict[str, Any]:
    """One NDJSON line. orjson: the standard library's parser took 5.7 µs a line, a sixth of a token's whole cost."""
    try:
        chunk = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise ProviderStreamError("Ollama sent a malformed line; the reply was cut short") from exc
    if not isinstance(chunk, dict):
        raise ProviderStreamError("Ollama sent an unexpected line; the reply was cut short")
    return chunk


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or f"HTTP {response.status_code}"
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) else response.text[:300]


def _label(name: str, details: object) -> ModelLabel:
    """`llama3.2:latest` → `llama3.2`, with what `/api/tags` says of its size (`3.2B parameters, Q4_K_M`)."""
    facts = details if isinstance(details, dict) else {}
    size, quantisation = facts.get("parameter_size"), facts.get("quantization_level")
    detail = ", ".join(
        part for part in (f"{size} parameters" if size else "", str(quantisation) if quantisation else "") if part
    )
    return ModelLabel(name.removesuffix(":latest"), detail or None)
