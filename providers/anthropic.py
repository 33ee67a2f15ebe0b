"""Anthropic's Messages API via the SDK's `messages.stream()`.

The request differs from the others: the system prompt is a top-level `system` field (a `system` role among the
messages is refused), `max_tokens` is required, and the turns should alternate starting with the user's. The reply is
a series of named SSE events: `message_start` (with `usage.input_tokens`), `content_block_delta`s with `text_delta`s,
`message_delta` (with the cumulative `usage.output_tokens`), `message_stop`. Errors come as an HTTP status + `{"type":
"error", "error": {"type", "message"}}` (529 = overloaded), or as an `event: error` inside the stream, which the SDK
raises as an `APIStatusError` carrying the stream's own status, 200.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Any

import anthropic
import httpx2

from providers.base import ChatMessage, GenerationParams, Provider, StreamEvent, TextDelta, Usage, with_system
from providers.errors import (
    ModelNotFound,
    ProviderBadRequest,
    ProviderError,
    ProviderServerError,
    ProviderStreamError,
    ProviderTimeout,
    ProviderUnavailable,
    error_for_status,
    parse_retry_after,
    redact,
)
from providers.urls import redact_url

ANTHROPIC_BASE_URL = "https://api.anthropic.com"

# What an `event: error` would have been as an HTTP status, to treat one that arrives before any text the same way.
_STATUS_OF_ERROR_TYPE = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}


class AnthropicProvider(Provider):
    """Talks to Anthropic (or to a proxy speaking its API when `base_url` says so)."""

    name = "anthropic"

    def __init__(
        self,
        api_key: str | None,
        base_url: str | None = None,
        *,
        max_tokens: int = 4096,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
    ) -> None:
        self.base_url = (base_url or ANTHROPIC_BASE_URL).rstrip("/")
        self.max_tokens = max_tokens
        self.read_timeout = read_timeout
        self._api_key = api_key or None
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key or "not-needed",  # explicit, so the SDK never goes looking in the environment or on disk
            base_url=self.base_url,
            max_retries=0,  # providers/retry.py decides, knowing whether text was already shown
            timeout=anthropic.Timeout(read_timeout, connect=connect_timeout),
        )

    @property
    def display_name(self) -> str:
        return "Anthropic" if self.base_url == ANTHROPIC_BASE_URL else f"Anthropic API at {redact_url(self.base_url)}"

    async def stream(
        self, messages: Sequence[ChatMessage], model: str, params: GenerationParams | None = None
    ) -> AsyncGenerator[StreamEvent, None]:
        system, turns = to_anthropic(with_system(messages, params))
        request: dict[str, Any] = {
            "model": model,
            "max_tokens": params.max_tokens if params and params.max_tokens else self.max_tokens,
            "messages": turns,
        }
        if system:
            request["system"] = system
        if params is not None and params.temperature is not None:
            # The API takes a top-level `temperature`; this SDK's `messages.stream()` no longer names it, so it goes
            # through the SDK's documented `extra_body`.
            request["extra_body"] = {"temperature": params.temperature}
        prompt_tokens: int | None = None
        completion_tokens: int | None = None
        started = produced = finished = False
        try:
            async with self._client.messages.stream(**request) as events:
                started = True
                async for event in events:
                    if event.type == "message_start":
                        prompt_tokens = event.message.usage.input_tokens
                    elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                        if event.delta.text:
                            produced = True
                            yield TextDelta(event.delta.text)
                    elif event.type == "message_delta":
                        completion_tokens = event.usage.output_tokens
                    elif event.type == "message_stop":
                        finished = True
        except ProviderError:
            raise
        except (anthropic.AnthropicError, httpx2.HTTPError, ValueError) as exc:
            raise self._translate(exc, model, started=started, produced=produced) from exc
        if not finished:
            raise ProviderStreamError(f"the stream from {self.display_name} ended before the reply was complete")
        yield Usage(prompt_tokens, completion_tokens)

    async def list_models(self) -> list[str]:
        try:
            return [model.id async for model in self._client.models.list()]
        except (anthropic.AnthropicError, httpx2.HTTPError, ValueError) as exc:
            raise self._translate(exc, "", started=False, produced=False) from exc

    def _translate(self, exc: Exception, model: str, *, started: bool, produced: bool) -> ProviderError:
        """The one place where SDK (and, mid-stream, raw httpx2) exceptions become `ProviderError`s, key-free."""
        name = self.display_name
        # The SDK wraps transport errors while connecting, but lets httpx2's own escape once the stream runs.
        if isinstance(exc, anthropic.APITimeoutError | httpx2.TimeoutException):
            return ProviderTimeout(f"{name} did not answer within {self.read_timeout:g} s")
        if isinstance(exc, anthropic.APIConnectionError | httpx2.TransportError):
            if started:
                return ProviderStreamError(f"the connection to {name} broke before the reply was complete")
            return ProviderUnavailable(f"cannot reach {name}; check ANTHROPIC_BASE_URL ({redact_url(self.base_url)})")
        if isinstance(exc, anthropic.APIStatusError):
            kind, detail = _error_of(exc.body)
            detail = redact(detail.rstrip(". ") or f"HTTP {exc.status_code}", self._api_key)
            status = exc.status_code
            if status < 400:  # an `event: error` inside a stream that began with 200
                if produced or kind not in _STATUS_OF_ERROR_TYPE:
                    return ProviderStreamError(f"{name} reported an error mid-reply: {detail}")
                status = _STATUS_OF_ERROR_TYPE[kind]  # nothing shown yet: as good as that status, retried alike
            if status == 404 and not model:  # from list_models
                return ProviderBadRequest(f"{name} lists no models at /v1/models ({detail})")
            if status == 404:
                return ModelNotFound(f"{name} has no model '{model}': {detail}")
            if status == 529:
                return ProviderServerError(f"{name} is overloaded (529): {detail}; try again in a moment")
            retry_after = parse_retry_after(exc.response.headers.get("retry-after")) if exc.status_code >= 400 else None
            return error_for_status(status, name, detail, model=model, retry_after=retry_after)
        if isinstance(exc, ValueError):  # an event that is not JSON, or not an event
            return ProviderStreamError(f"{name} sent a malformed event; the reply was cut short")
        return ProviderError(redact(f"{name} failed: {exc}", self._api_key))

    async def aclose(self) -> None:
        await self._client.close()


def to_anthropic(messages: Sequence[ChatMessage]) -> tuple[str, list[dict[str, str]]]:
    """The top-level system prompt, and turns that alternate and start with the user's (as the API requires).

    System messages are joined; consecutive turns of one role are merged; empty turns are dropped (the API refuses
    empty text); assistant turns before the first user turn are dropped, as there is nothing they answer.
    """
    system = "\n\n".join(m.content for m in messages if m.role == "system" and m.content.strip())
    turns: list[dict[str, str]] = []
    for message in messages:
        if message.role == "system" or not message.content.strip():
            continue
        if turns and turns[-1]["role"] == message.role:
            turns[-1]["content"] += "\n\n" + message.content
        elif turns or message.role == "user":
            turns.append({"role": message.role, "content": message.content})
    return system, turns


def _error_of(body: object) -> tuple[str | None, str]:
    """`error.type` and `error.message` of an Anthropic error body, else its text."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return error.get("type"), str(error.get("message") or "")
        return None, str(body)[:300]
    return None, str(body or "").strip()[:300]
