"""Ollama's native chat API: `POST /api/chat` streaming NDJSON, over httpx.

Each line is a JSON object: `{"message": {"role": "assistant", "content": "..."}, "done": false}` while text comes,
then a final `{"done": true, "prompt_eval_count": n, "eval_count": m, ...}`. Errors come as HTTP status + `{"error":
"..."}` before the stream starts, or as an `{"error": "..."}` line in the middle of it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from functools import partial
from typing import Any

import aiohttp
import httpx
import orjson
from httpx_aiohttp import AiohttpTransport

from providers.base import ChatMessage, GenerationParams, Provider, StreamEvent, TextDelta, Usage, with_system
from providers.errors import (
    ModelNotFound,
    ProviderError,
    ProviderStreamError,
    ProviderTimeout,
    ProviderUnavailable,
    error_for_status,
    parse_retry_after,
)
from providers.urls import redact_url, without_credentials


class OllamaProvider(Provider):
    """Talks to one Ollama server."""

    name = "ollama"

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
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=32)
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
            "messages": [{"role": m.role, "content": m.content} for m in with_system(messages, params)],
            "stream": True,
        }
        options = _options(params)
        if options:
            body["options"] = options
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
                        text = (chunk.get("message") or {}).get("content") or ""
                        if text:
                            yield TextDelta(text)
                        if chunk.get("done"):
                            yield Usage(chunk.get("prompt_eval_count"), chunk.get("eval_count"))
                            return
                raise ProviderStreamError("the connection to Ollama ended before the reply was complete")
        except httpx.TransportError as exc:
            if _timed_out(exc):
                raise ProviderTimeout(f"Ollama at {self.shown_url} did not answer in time") from exc
            if started:
                raise ProviderStreamError("the connection to Ollama broke before the reply was complete") from exc
            raise self._unreachable() from exc

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

    async def list_models(self) -> list[str]:
        try:
            response = await self._client.get("/api/tags")
        except httpx.TransportError as exc:
            if _timed_out(exc):
                raise ProviderTimeout(f"Ollama at {self.shown_url} did not answer in time") from exc
            raise self._unreachable() from exc
        if response.status_code != 200:
            raise error_for_status(response.status_code, "Ollama", _error_text(response), model="")
        return [m["name"] for m in response.json().get("models", []) if "name" in m]

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


def _options(params: GenerationParams | None) -> dict[str, Any]:
    if params is None:
        return {}
    options: dict[str, Any] = {}
    if params.temperature is not None:
        options["temperature"] = params.temperature
    if params.max_tokens is not None:
        options["num_predict"] = params.max_tokens
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
