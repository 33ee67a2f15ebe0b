"""Anthropic's Messages API via the SDK's `messages.stream()`.

The request differs from the others: the system prompt is a top-level `system` field (a `system` role among the
messages is refused), `max_tokens` is required, and the turns should alternate starting with the user's. The reply is
a series of named SSE events: `message_start` (with `usage.input_tokens`), `content_block_delta`s with `text_delta`s,
`message_delta` (with the cumulative `usage.output_tokens`), `message_stop`. Errors come as an HTTP status + `{"type":
"error", "error": {"type", "message"}}` (529 = overloaded), or as an `event: error` inside the stream, which the SDK
raises as an `APIStatusError` carrying the stream's own status, 200.

Extended thinking: `thinking: {"type": "enabled", "budget_tokens": n}` in the request (n ≥ 1,024 and below
`max_tokens`, which the thinking counts against; `temperature` may not be set with it) makes the reply open with a
`thinking` content block: `thinking_delta`s, then one `signature_delta` (the opaque proof that the block is the
model's, which the API wants back with the block on a later turn that continues a tool use), then the `text` block.

Function calling (`tool_use` blocks with `input_json_delta`s, `tool_result` blocks, signed thinking sent back before
the calls): `providers.anthropic_messages`, which also builds the turns.

A message with images is sent as a list of content blocks, in the message's order: `{"type": "text", "text"}` and
`{"type": "image", "source": {"type": "base64", "media_type", "data"}}`; a message of text alone stays a string.

The SDK (~3,200 modules, +40 MB and ~1 s to import) is loaded on the first reply, in a thread, not at start: a
configured provider costs nothing until someone talks to it. Listing the models is plain `GET /v1/models` requests
through httpx, which the app has loaded anyway (BENCHMARKS.md §12).
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from providers.anthropic_messages import to_anthropic, wire_tools
from providers.base import (
    ChatMessage,
    Effort,
    GenerationParams,
    ImageLimits,
    ModelLabel,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    Usage,
    with_system,
)
from providers.errors import (
    EmbeddingsUnsupported,
    ModelNotFound,
    ProviderBadRequest,
    ProviderError,
    ProviderServerError,
    ProviderStreamError,
    error_for_status,
    parse_retry_after,
    redact,
)
from providers.sdk import SdkProvider, json_or_text
from providers.tools import StreamedCalls
from providers.urls import redact_url

if TYPE_CHECKING:
    import anthropic

ANTHROPIC_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2026-10-21"
"""The `anthropic-version` the installed SDK sends (`anthropic._constants.ANTHROPIC_API_VERSION`), sent with the
model listing too; a test keeps the two equal."""

_NO_THINKING = ("claude-instant", "claude-2", "claude-3-haiku", "claude-3-sonnet", "claude-3-opus", "claude-3-5")
"""Claude models before extended thinking (3.7), by name."""

THINKING_BUDGETS: dict[Effort, int] = {"low": 1024, "medium": 4096, "high": 16384}
"""`budget_tokens` per effort: low is the API's minimum; each is added to `max_tokens` (ANTHROPIC_MAX_TOKENS), so
thinking never eats the answer's room."""

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


class AnthropicProvider(SdkProvider["anthropic.AsyncAnthropic"]):
    """Talks to Anthropic (or to a proxy speaking its API when `base_url` says so)."""

    name = "anthropic"
    prefills = True
    base_url_setting = "ANTHROPIC_BASE_URL"
    image_limits = ImageLimits(1568, 3_750_000, frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"}))
    """Anthropic's vision guide: JPEG, PNG, GIF and WebP; an image whose long side is over 1,568 px is scaled down
    by the API itself (so larger only costs upload and time), over 8,000 px (2,000 px with more than 20 images in
    one request) it is refused, and one whose base64 is over 5 MB is refused: 3.75 MB before base64."""

    def __init__(
        self,
        api_key: str | None,
        base_url: str | None = None,
        *,
        max_tokens: int = 4096,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
    ) -> None:
        super().__init__(
            base_url or ANTHROPIC_BASE_URL,
            api_key,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            # the SDK's own: its bearer token and API version
            list_headers={"Authorization": f"Bearer {api_key or 'not-needed'}", "anthropic-version": API_VERSION},
        )
        self.max_tokens = max_tokens

    @property
    def display_name(self) -> str:
        return "Anthropic" if self.base_url == ANTHROPIC_BASE_URL else f"Anthropic API at {redact_url(self.base_url)}"

    async def stream(
        self, messages: Sequence[ChatMessage], model: str, params: GenerationParams | None = None
    ) -> AsyncGenerator[StreamEvent, None]:
        effort = params.reasoning_effort if params is not None else None
        system, turns = to_anthropic(with_system(messages, params), thinking=effort is not None)
        request: dict[str, Any] = {
            "model": model,
            "max_tokens": params.max_tokens if params and params.max_tokens else self.max_tokens,
            "messages": turns,
        }
        if system:
            request["system"] = system
        if params is not None and params.tools:
            request["tools"] = wire_tools(params.tools)
        if effort is not None:  # the API refuses sampling settings beside thinking: they are not sent then
            budget = THINKING_BUDGETS[effort]
            request["thinking"] = {"type": "enabled", "budget_tokens": budget}
            request["max_tokens"] += budget
        elif params is not None:
            # The API takes top-level `temperature` and `top_p`; this SDK's `messages.stream()` no longer names them,
            # so they go through the SDK's documented `extra_body`. The API has no seed: `params.seed` is not sent.
            sampling = {"temperature": params.temperature, "top_p": params.top_p}
            if extra := {name: value for name, value in sampling.items() if value is not None}:
                request["extra_body"] = extra
        client = await self._sdk()
        import anthropic  # loaded by `_sdk()`, in a thread
        import httpx2  # the SDK's HTTP client

        prompt_tokens: int | None = None
        completion_tokens: int | None = None
        started = produced = finished = cut_off = False
        calls = StreamedCalls()
        try:
            async with client.messages.stream(**request) as events:
                started = True
                async for event in events:
                    if event.type == "message_start":
                        prompt_tokens = event.message.usage.input_tokens
                    elif event.type == "content_block_start" and event.content_block.type == "tool_use":
                        produced = True
                        block = event.content_block
                        yield calls.delta(event.index, block.id, block.name, "")
                    elif event.type == "content_block_delta":
                        delta = event.delta
                        if delta.type == "text_delta" and delta.text:
                            produced = True
                            yield TextDelta(delta.text)
                        elif delta.type == "thinking_delta" and delta.thinking:
                            produced = True
                            yield ReasoningDelta(delta.thinking)
                        elif delta.type == "signature_delta":
                            yield ReasoningDelta("", signature=delta.signature)
                        elif delta.type == "input_json_delta" and delta.partial_json:
                            yield calls.delta(event.index, None, None, delta.partial_json)
                    elif event.type == "message_delta":
                        completion_tokens = event.usage.output_tokens
                        cut_off = event.delta.stop_reason == "max_tokens"
                    elif event.type == "message_stop":
                        finished = True
        except ProviderError:
            raise
        except (anthropic.AnthropicError, httpx2.HTTPError, ValueError) as exc:
            raise self._translate(exc, model, started=started, produced=produced) from exc
        if not finished:
            raise ProviderStreamError(f"the stream from {self.display_name} ended before the reply was complete")
        for call in calls.calls():
            yield call
        yield Usage(prompt_tokens, completion_tokens, cut_off)

    async def embed(self, model: str, texts: Sequence[str]) -> list[list[float]]:
        """Anthropic's API has no embeddings endpoint (its documentation sends people to another vendor), so this
        says so plainly rather than trying a request that can only 404."""
        raise EmbeddingsUnsupported(
            "Anthropic offers no embeddings model; set CHATUI_EMBEDDING_MODEL to an Ollama or OpenAI-compatible one"
        )

    async def can_think(self, model: str) -> bool:
        """Every Claude model from 3.7 on thinks; the older ones, still listed by some proxies, refuse `thinking`."""
        return not model.startswith(_NO_THINKING)

    def _make_client(self) -> anthropic.AsyncAnthropic:
        sdk = importlib.import_module("anthropic")
        client: anthropic.AsyncAnthropic = sdk.AsyncAnthropic(
            api_key=self._api_key or "not-needed",  # explicit, so the SDK never goes looking in the environment
            base_url=self.base_url,
            max_retries=0,  # providers/retry.py decides, knowing whether text was already shown
            timeout=sdk.Timeout(self.read_timeout, connect=self._connect_timeout),
        )
        return client

    async def list_models(self) -> list[str]:
        """`GET /v1/models` page by page (`after_id`, as the SDK's pager does) without the SDK; errors worded as for
        a reply."""
        names: list[str] = []
        labels: dict[str, ModelLabel] = {}
        after: str | None = None
        with self._listing_errors("/v1/models"):
            while True:
                params = {"after_id": after} if after else None
                response = await self._listing.get(
                    f"{self.base_url}/v1/models", params=params, headers=self._list_headers
                )
                if response.status_code >= 400:
                    raise self._status_error(response.status_code, json_or_text(response), response.headers, "")
                page = response.json()
                models = page["data"] or []
                names.extend(str(model["id"]) for model in models)
                labels.update(
                    (str(m["id"]), ModelLabel(m["display_name"]))
                    for m in models
                    if isinstance(m.get("display_name"), str) and m["display_name"]
                )
                after = page.get("last_id")
                if not models or page.get("has_more") is False or not after:
                    self.labels = labels
                    return names

    def _status_error(
        self, status: int, body: object, headers: Mapping[str, str], model: str, *, produced: bool = False
    ) -> ProviderError:
        """An error status (from the SDK, or from the listing: `model` "") as a `ProviderError`; a status under 400 is
        an `event: error` inside a stream that began with 200."""
        name = self.display_name
        kind, detail = _error_of(body)
        detail = redact(detail.rstrip(". ") or f"HTTP {status}", self._api_key)
        retry_after = parse_retry_after(headers.get("retry-after")) if status >= 400 else None
        if status < 400:
            if produced or kind not in _STATUS_OF_ERROR_TYPE:
                return ProviderStreamError(f"{name} reported an error mid-reply: {detail}")
            status = _STATUS_OF_ERROR_TYPE[kind]  # nothing shown yet: as good as that status, retried alike
        if status == 404 and not model:  # from list_models
            return ProviderBadRequest(f"{name} lists no models at /v1/models ({detail})")
        if status == 404:
            return ModelNotFound(f"{name} has no model '{model}': {detail}")
        if status == 529:
            return ProviderServerError(f"{name} is overloaded (529): {detail}; try again in a moment")
        return error_for_status(status, name, detail, model=model, retry_after=retry_after)

    def _translate(self, exc: Exception, model: str, *, started: bool, produced: bool) -> ProviderError:
        """The one place where SDK (and, mid-stream, raw httpx2) exceptions become `ProviderError`s, key-free."""
        import anthropic  # only ever called once a reply has loaded the SDK
        import httpx2

        name = self.display_name
        # The SDK wraps transport errors while connecting, but lets httpx2's own escape once the stream runs.
        if isinstance(exc, anthropic.APITimeoutError | httpx2.TimeoutException):
            return self._timeout()
        if isinstance(exc, anthropic.APIConnectionError | httpx2.TransportError):
            if started:
                return ProviderStreamError(f"the connection to {name} broke before the reply was complete")
            return self._unreachable()
        if isinstance(exc, anthropic.APIStatusError):
            return self._status_error(exc.status_code, exc.body, exc.response.headers, model, produced=produced)
        if isinstance(exc, ValueError):  # an event that is not JSON, or not an event
            return ProviderStreamError(f"{name} sent a malformed event; the reply was cut short")
        return ProviderError(redact(f"{name} failed: {exc}", self._api_key))


def _error_of(body: object) -> tuple[str | None, str]:
    """`error.type` and `error.message` of an Anthropic error body, else its text."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return error.get("type"), str(error.get("message") or "")
        return None, str(body)[:300]
    return None, str(body or "").strip()[:300]
