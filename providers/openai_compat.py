"""OpenAI's chat completions API — and every server that copies it (llama.cpp, vLLM, LM Studio, ...) — via the SDK.

`POST /chat/completions` with `stream: true` answers Server-Sent Events, each `data:` a `chat.completion.chunk` whose
`choices[0].delta.content` is the next piece of text and whose last choice carries a `finish_reason`; asked with
`stream_options.include_usage`, one more chunk with empty `choices` carries the token usage; `data: [DONE]` ends it.
Errors come as an HTTP status + `{"error": {"message", "type", "param", "code"}}` before the stream, or as a
`data: {"error": {...}}` event in the middle of it (the SDK raises a bare `openai.APIError` for that one).

Reasoning: `reasoning_effort` in the request asks a reasoning model to think that hard. The reasoning itself is not in
OpenAI's own chunks, but compatible servers that parse it out send it as `delta.reasoning_content` (llama.cpp, vLLM's
reasoning parsers, DeepSeek's API) or `delta.reasoning` (newer vLLM, Ollama's `/v1`, OpenRouter), ahead of the
content; servers that do not parse it pass a leading `<think>…</think>` through in the content, which is split off
here (`providers.thinking`).

Function calling (`tools`, streamed `tool_calls` deltas, `tool` role results): `providers.openai_tools`.

A message with images is sent as a list of content parts, in the message's order: `{"type": "text", "text"}` and
`{"type": "image_url", "image_url": {"url": "data:<type>;base64,..."}}`; a message of text alone stays a string.

Embeddings (`embed`, for knowledge retrieval): `POST /embeddings` `{"model", "input": [texts]}` answers `{"data":
[{"object": "embedding", "embedding", "index"}], "model", "usage"}`, through the SDK's `embeddings.create`.

The SDK (~500 modules, +14 MB and 0.3 s to import) is loaded on the first reply, in a thread, not at start: a
configured provider costs nothing until someone talks to it. Listing the models is one plain `GET /models` through
httpx, which the app has loaded anyway (BENCHMARKS.md §12).
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from providers.base import (
    ChatMessage,
    GenerationParams,
    ImageLimits,
    ModelLabel,
    ReasoningDelta,
    StreamEvent,
    Usage,
    with_system,
)
from providers.errors import (
    ModelNotFound,
    ProviderBadRequest,
    ProviderError,
    ProviderServerError,
    ProviderStreamError,
    error_for_status,
    parse_retry_after,
    redact,
)
from providers.openai_tools import call_deltas, wire_messages, wire_tools
from providers.sdk import SdkProvider, json_or_text
from providers.thinking import InlineThinking
from providers.tools import StreamedCalls
from providers.urls import redact_url

if TYPE_CHECKING:
    import openai

log = logging.getLogger(__name__)

OPENAI_BASE_URL = "https://api.openai.com/v1"

_REASONING_MODELS = ("o1", "o3", "o4", "gpt-5")
"""Official OpenAI's models that take `reasoning_effort` (by name: its model list does not say)."""

# Official OpenAI lists every model of the account; these are not chat models and would only clutter the picker.
_NOT_CHAT = ("embedding", "tts", "whisper", "dall-e", "moderation", "davinci", "babbage", "transcribe", "image", "sora")


class OpenAIProvider(SdkProvider["openai.AsyncOpenAI"]):
    """Talks to OpenAI, or to any OpenAI-compatible server when `base_url` points elsewhere (a key is then optional)."""

    name = "openai"
    base_url_setting = "OPENAI_BASE_URL"
    image_limits = ImageLimits(2048, 20 * 1024 * 1024, frozenset({"image/png", "image/jpeg", "image/webp"}))
    """OpenAI's vision guide: an image is first scaled to fit in 2048 × 2048 (then its short side to 768 at high
    detail), up to 20 MB per image; PNG, JPEG, WebP and non-animated GIF (a GIF is sent as a PNG of its first
    frame, since whether one is animated is the server's call). Compatible servers (llama.cpp, vLLM) take the same
    parts and scale for their own model."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
    ) -> None:
        # What the SDK would send for a listing: its bearer token, and the organization and project it reads from
        # the environment.
        headers = {"Authorization": f"Bearer {api_key or 'not-needed'}"}
        for header, variable in (("OpenAI-Organization", "OPENAI_ORG_ID"), ("OpenAI-Project", "OPENAI_PROJECT_ID")):
            if os.environ.get(variable):
                headers[header] = os.environ[variable]
        super().__init__(
            base_url or OPENAI_BASE_URL,
            api_key,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            list_headers=headers,
        )
        self._official = self.base_url == OPENAI_BASE_URL
        # Older compatible servers refuse `stream_options`; learnt on the first refusal, then never sent again.
        self._include_usage = True

    @property
    def display_name(self) -> str:
        return "OpenAI" if self._official else f"OpenAI-compatible server at {redact_url(self.base_url)}"

    async def stream(
        self, messages: Sequence[ChatMessage], model: str, params: GenerationParams | None = None
    ) -> AsyncGenerator[StreamEvent, None]:
        request = self._request(messages, model, params)
        client = await self._sdk()
        import openai  # loaded by `_sdk()`, in a thread

        usage, finished, started, produced, cut_off = Usage(), False, False, False, False
        inline = InlineThinking()
        calls = StreamedCalls()
        try:
            chunks = await self._open(client, request)
            started = True
            async with chunks:
                async for chunk in chunks:
                    # getattr: compatible servers leave out fields the SDK's (unvalidated) models declare
                    reported = getattr(chunk, "usage", None)
                    if reported is not None:
                        usage = Usage(reported.prompt_tokens, reported.completion_tokens)
                    for choice in (getattr(chunk, "choices", None) or [])[:1]:
                        delta = getattr(choice, "delta", None)
                        # fields the SDK does not declare: its models keep what the server sent as attributes
                        thought = getattr(delta, "reasoning_content", None) or getattr(delta, "reasoning", None)
                        if thought and isinstance(thought, str):
                            produced = True
                            yield ReasoningDelta(thought)
                        text = getattr(delta, "content", None)
                        if text:
                            produced = True
                            for event in inline.feed(text):
                                yield event
                        for call in call_deltas(delta, calls):
                            produced = True
                            yield call
                        if reason := getattr(choice, "finish_reason", None):
                            finished, cut_off = True, reason == "length"
        except ProviderError:
            raise
        except (openai.OpenAIError, ValueError) as exc:
            raise self._translate(exc, model, started=started, produced=produced) from exc
        if not finished and usage == Usage():
            raise ProviderStreamError(f"the stream from {self.display_name} ended before the reply was complete")
        for event in inline.close():
            yield event
        for complete in calls.calls():
            yield complete
        yield Usage(usage.prompt_tokens, usage.completion_tokens, cut_off)

    async def embed(self, model: str, texts: Sequence[str]) -> list[list[float]]:
        """`POST /embeddings` through the SDK's `embeddings.create` (which asks for base64 and decodes it: a quarter
        of the bytes of JSON floats), one vector per text, put back in the order of the texts by each one's `index`.
        The SDK is loaded here as for a reply, in a thread, if no reply has loaded it yet."""
        if not texts:
            return []
        client = await self._sdk()
        import openai  # loaded by `_sdk()`, in a thread

        try:
            response = await client.embeddings.create(model=model, input=list(texts))
        except ValueError as exc:  # the SDK's "No embedding data received"
            raise ProviderError(f"{self.display_name} answered /embeddings with no embeddings") from exc
        except openai.OpenAIError as exc:
            raise self._translate(exc, model, started=False, produced=False) from exc
        vectors = [list(item.embedding) for item in sorted(response.data, key=lambda item: item.index)]
        if len(vectors) != len(texts):
            raise ProviderError(f"{self.display_name} answered /embeddings with {len(vectors)} for {len(texts)} texts")
        return vectors

    async def can_think(self, model: str) -> bool:
        """OpenAI's reasoning models (o-series, GPT-5) take `reasoning_effort` and its others refuse it; a compatible
        server is given the benefit of the doubt (one that does not know the field ignores it)."""
        return not self._official or model.startswith(_REASONING_MODELS)

    def _request(self, messages: Sequence[ChatMessage], model: str, params: GenerationParams | None) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": model,
            "messages": wire_messages(with_system(messages, params)),
            "stream": True,
        }
        if params is not None and params.temperature is not None:
            request["temperature"] = params.temperature
        if params is not None and params.reasoning_effort is not None:
            request["reasoning_effort"] = params.reasoning_effort
        if params is not None and params.max_tokens is not None:
            # OpenAI's reasoning models refuse the old name; most compatible servers only know the old name.
            request["max_completion_tokens" if self._official else "max_tokens"] = params.max_tokens
        if params is not None and params.top_p is not None:
            request["top_p"] = params.top_p
        if params is not None and params.seed is not None:
            request["seed"] = params.seed
        if params is not None and params.tools:
            request["tools"] = wire_tools(params.tools)
        return request

    def _make_client(self) -> openai.AsyncOpenAI:
        sdk = importlib.import_module("openai")
        client: openai.AsyncOpenAI = sdk.AsyncOpenAI(
            api_key=self._api_key or "not-needed",  # the SDK insists on a key; local servers ignore it
            base_url=self.base_url,
            max_retries=0,  # providers/retry.py decides, knowing whether text was already shown
            timeout=sdk.Timeout(self.read_timeout, connect=self._connect_timeout),
        )
        return client

    async def _open(self, client: openai.AsyncOpenAI, request: dict[str, Any]) -> openai.AsyncStream[Any]:
        """Start the stream, asking for usage unless this server is known to refuse `stream_options`."""
        import openai

        if self._include_usage:
            try:
                stream: openai.AsyncStream[Any] = await client.chat.completions.create(
                    **request, stream_options={"include_usage": True}
                )
                return stream
            except openai.APIStatusError as exc:
                if exc.status_code not in (400, 422) or "stream_options" not in f"{exc.message} {exc.body}":
                    raise
                log.info("%s refuses stream_options; streaming without usage from now on", self.display_name)
                self._include_usage = False
        stream = await client.chat.completions.create(**request)
        return stream

    async def list_models(self) -> list[str]:
        """`GET /models` without the SDK: the same request, errors worded as for a reply."""
        with self._listing_errors("/models"):
            response = await self._listing.get(f"{self.base_url}/models", headers=self._list_headers)
            if response.status_code >= 400:
                body = json_or_text(response)
                error = body.get("error", body) if isinstance(body, dict) else body  # as the SDK unwraps it
                raise self._status_error(response.status_code, error, response.headers, "")
            listed = response.json()["data"]
            names = [str(model["id"]) for model in listed]
            # OpenAI's own API gives ids only (shown as they are); some compatible servers add a `name`
            self.labels = {
                str(m["id"]): ModelLabel(m["name"].strip())
                for m in listed
                if isinstance(m.get("name"), str) and m["name"].strip()
            }
        if self._official:
            names = [n for n in names if not any(word in n for word in _NOT_CHAT)]
        return names

    def _status_error(self, status: int, body: object, headers: Mapping[str, str], model: str) -> ProviderError:
        """An HTTP error status (from the SDK, or from a listing: `model` "") as a `ProviderError`."""
        name = self.display_name
        detail = redact(_detail(status, body).rstrip(". ") or f"HTTP {status}", self._api_key)
        retry_after = parse_retry_after(headers.get("retry-after"))
        if retry_after is None and headers.get("retry-after-ms"):
            retry_after = (parse_retry_after(headers.get("retry-after-ms")) or 0) / 1000
        if status == 404 and not model:  # from list_models
            return ProviderBadRequest(f"{name} lists no models at /models ({detail}); is OPENAI_BASE_URL right?")
        code = body.get("code") if isinstance(body, dict) else None
        if status == 404 or code == "model_not_found":
            hint = "" if self._official else "; check the model name and that OPENAI_BASE_URL ends in /v1"
            return ModelNotFound(f"{name} has no model '{model}': {detail}{hint}")
        return error_for_status(status, name, detail, model=model, retry_after=retry_after)

    def _translate(self, exc: Exception, model: str, *, started: bool, produced: bool) -> ProviderError:
        """The one place where SDK exceptions become `ProviderError`s; no message may carry the API key."""
        import openai  # only ever called once a reply has loaded the SDK

        name = self.display_name
        if isinstance(exc, openai.APITimeoutError):
            return self._timeout()
        if isinstance(exc, openai.APIConnectionError):  # mid-stream, the SDK wraps a broken connection as this too
            if started:
                return ProviderStreamError(f"the connection to {name} broke before the reply was complete")
            return self._unreachable()
        if isinstance(exc, openai.APIStatusError):
            return self._status_error(exc.status_code, exc.body, exc.response.headers, model)
        if isinstance(exc, openai.APIError):  # a `data: {"error": ...}` event inside the stream
            detail = redact(exc.message.rstrip(". "), self._api_key)
            if not produced and exc.type == "server_error":  # nothing shown yet: as good as a 500, worth a retry
                return ProviderServerError(f"{name} had a server error: {detail}")
            return ProviderStreamError(f"{name} reported an error mid-reply: {detail}")
        if isinstance(exc, ValueError):  # a chunk that is not JSON, or not a chunk
            return ProviderStreamError(f"{name} sent a malformed chunk; the reply was cut short")
        return ProviderError(redact(f"{name} failed: {exc}", self._api_key))


def _detail(status: int, body: object) -> str:
    """The server's own words: `error.message` of the body, else the body's text, else the status."""
    if isinstance(body, dict):
        text = body.get("message") or body.get("detail") or body
        return str(text)[:300]
    if isinstance(body, str) and body.strip():
        return body.strip()[:300]
    return f"HTTP {status}"
