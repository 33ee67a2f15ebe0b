"""OpenAI's chat completions API — and every server that copies it (llama.cpp, vLLM, LM Studio, ...) — via the SDK.

`POST /chat/completions` with `stream: true` answers Server-Sent Events, each `data:` a `chat.completion.chunk` whose
`choices[0].delta.content` is the next piece of text and whose last choice carries a `finish_reason`; asked with
`stream_options.include_usage`, one more chunk with empty `choices` carries the token usage; `data: [DONE]` ends it.
Errors come as an HTTP status + `{"error": {"message", "type", "param", "code"}}` before the stream, or as a
`data: {"error": {...}}` event in the middle of it (the SDK raises a bare `openai.APIError` for that one).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import openai

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

log = logging.getLogger(__name__)

OPENAI_BASE_URL = "https://api.openai.com/v1"

# Official OpenAI lists every model of the account; these are not chat models and would only clutter the picker.
_NOT_CHAT = ("embedding", "tts", "whisper", "dall-e", "moderation", "davinci", "babbage", "transcribe", "image", "sora")


class OpenAIProvider(Provider):
    """Talks to OpenAI, or to any OpenAI-compatible server when `base_url` points elsewhere (a key is then optional)."""

    name = "openai"

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
    ) -> None:
        self.base_url = (base_url or OPENAI_BASE_URL).rstrip("/")
        self.read_timeout = read_timeout
        self._api_key = api_key or None
        self._official = self.base_url == OPENAI_BASE_URL
        # Older compatible servers refuse `stream_options`; learnt on the first refusal, then never sent again.
        self._include_usage = True
        self._client = openai.AsyncOpenAI(
            api_key=api_key or "not-needed",  # the SDK insists on a key; local servers ignore it
            base_url=self.base_url,
            max_retries=0,  # providers/retry.py decides, knowing whether text was already shown
            timeout=openai.Timeout(read_timeout, connect=connect_timeout),
        )

    @property
    def display_name(self) -> str:
        return "OpenAI" if self._official else f"OpenAI-compatible server at {redact_url(self.base_url)}"

    async def stream(
        self, messages: Sequence[ChatMessage], model: str, params: GenerationParams | None = None
    ) -> AsyncGenerator[StreamEvent, None]:
        request = self._request(messages, model, params)
        usage, finished, started, produced = Usage(), False, False, False
        try:
            chunks = await self._open(request)
            started = True
            async with chunks:
                async for chunk in chunks:
                    # getattr: compatible servers leave out fields the SDK's (unvalidated) models declare
                    reported = getattr(chunk, "usage", None)
                    if reported is not None:
                        usage = Usage(reported.prompt_tokens, reported.completion_tokens)
                    for choice in (getattr(chunk, "choices", None) or [])[:1]:
                        delta = getattr(choice, "delta", None)
                        text = getattr(delta, "content", None)
                        if text:
                            produced = True
                            yield TextDelta(text)
                        if getattr(choice, "finish_reason", None):
                            finished = True
        except ProviderError:
            raise
        except (openai.OpenAIError, ValueError) as exc:
            raise self._translate(exc, model, started=started, produced=produced) from exc
        if not finished and usage == Usage():
            raise ProviderStreamError(f"the stream from {self.display_name} ended before the reply was complete")
        yield usage

    def _request(self, messages: Sequence[ChatMessage], model: str, params: GenerationParams | None) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": model,
            "messages": [{"role": m.role, "content": m.content} for m in with_system(messages, params)],
            "stream": True,
        }
        if params is not None and params.temperature is not None:
            request["temperature"] = params.temperature
        if params is not None and params.max_tokens is not None:
            # OpenAI's reasoning models refuse the old name; most compatible servers only know the old name.
            request["max_completion_tokens" if self._official else "max_tokens"] = params.max_tokens
        return request

    async def _open(self, request: dict[str, Any]) -> openai.AsyncStream[Any]:
        """Start the stream, asking for usage unless this server is known to refuse `stream_options`."""
        if self._include_usage:
            try:
                stream: openai.AsyncStream[Any] = await self._client.chat.completions.create(
                    **request, stream_options={"include_usage": True}
                )
                return stream
            except openai.APIStatusError as exc:
                if exc.status_code not in (400, 422) or "stream_options" not in f"{exc.message} {exc.body}":
                    raise
                log.info("%s refuses stream_options; streaming without usage from now on", self.display_name)
                self._include_usage = False
        stream = await self._client.chat.completions.create(**request)
        return stream

    async def list_models(self) -> list[str]:
        try:
            names = [model.id async for model in self._client.models.list()]
        except (openai.OpenAIError, ValueError) as exc:
            raise self._translate(exc, "", started=False, produced=False) from exc
        if self._official:
            names = [n for n in names if not any(word in n for word in _NOT_CHAT)]
        return names

    def _translate(self, exc: Exception, model: str, *, started: bool, produced: bool) -> ProviderError:
        """The one place where SDK exceptions become `ProviderError`s; no message may carry the API key."""
        name = self.display_name
        if isinstance(exc, openai.APITimeoutError):
            return ProviderTimeout(f"{name} did not answer within {self.read_timeout:g} s")
        if isinstance(exc, openai.APIConnectionError):  # mid-stream, the SDK wraps a broken connection as this too
            if started:
                return ProviderStreamError(f"the connection to {name} broke before the reply was complete")
            return ProviderUnavailable(f"cannot reach {name}; check OPENAI_BASE_URL ({redact_url(self.base_url)})")
        if isinstance(exc, openai.APIStatusError):
            detail = redact(_detail(exc).rstrip(". ") or f"HTTP {exc.status_code}", self._api_key)
            headers = exc.response.headers
            retry_after = parse_retry_after(headers.get("retry-after"))
            if retry_after is None and headers.get("retry-after-ms"):
                retry_after = (parse_retry_after(headers.get("retry-after-ms")) or 0) / 1000
            if exc.status_code == 404 and not model:  # from list_models
                return ProviderBadRequest(f"{name} lists no models at /models ({detail}); is OPENAI_BASE_URL right?")
            if exc.status_code == 404 or exc.code == "model_not_found":
                hint = "" if self._official else "; check the model name and that OPENAI_BASE_URL ends in /v1"
                return ModelNotFound(f"{name} has no model '{model}': {detail}{hint}")
            return error_for_status(exc.status_code, name, detail, model=model, retry_after=retry_after)
        if isinstance(exc, openai.APIError):  # a `data: {"error": ...}` event inside the stream
            detail = redact(exc.message.rstrip(". "), self._api_key)
            if not produced and exc.type == "server_error":  # nothing shown yet: as good as a 500, worth a retry
                return ProviderServerError(f"{name} had a server error: {detail}")
            return ProviderStreamError(f"{name} reported an error mid-reply: {detail}")
        if isinstance(exc, ValueError):  # a chunk that is not JSON, or not a chunk
            return ProviderStreamError(f"{name} sent a malformed chunk; the reply was cut short")
        return ProviderError(redact(f"{name} failed: {exc}", self._api_key))

    async def aclose(self) -> None:
        await self._client.close()


def _detail(exc: openai.APIStatusError) -> str:
    """The server's own words: `error.message` of the body, else the body's text, else the status."""
    body = exc.body
    if isinstance(body, dict):
        text = body.get("message") or body.get("detail") or body
        return str(text)[:300]
    if isinstance(body, str) and body.strip():
        return body.strip()[:300]
    return f"HTTP {exc.status_code}"
