"""One exception tree for every provider, each carrying a message fit to show a person.

    ProviderError                 code             retried before the first token?
    ├── ProviderUnavailable       unavailable      yes  (connection refused, DNS, TLS)
    ├── ProviderTimeout           timeout          no   (connect or read stalled past the timeout)
    ├── ProviderAuthError         auth_failed      no   (401/403: key missing or wrong)
    ├── ProviderRateLimited       rate_limited     yes  (429; `retry_after` seconds when given)
    ├── ProviderServerError       server_error     yes  (5xx)
    ├── ModelNotFound             model_not_found  no
    ├── ProviderBadRequest        bad_request      no   (4xx the request itself caused)
    ├── ProviderStreamError       stream_error     no   (the stream broke or carried an error mid-way)
    └── EmbeddingsUnsupported     no_embeddings    no   (the provider has no embeddings API: `Provider.embed`)

Adapters translate their SDK's or wire format's errors into these in one place; nothing above `providers/` sees an
SDK exception, and no message ever contains an API key.
"""

from __future__ import annotations


class ProviderError(Exception):
    """A provider failed; `str(error)` is the readable message."""

    code = "provider_error"
    retryable = False

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class ProviderUnavailable(ProviderError):
    code = "unavailable"
    retryable = True


class ProviderTimeout(ProviderError):
    code = "timeout"


class ProviderAuthError(ProviderError):
    code = "auth_failed"


class ProviderRateLimited(ProviderError):
    code = "rate_limited"
    retryable = True


class ProviderServerError(ProviderError):
    code = "server_error"
    retryable = True


class ModelNotFound(ProviderError):
    code = "model_not_found"


class ProviderBadRequest(ProviderError):
    code = "bad_request"


class ProviderStreamError(ProviderError):
    code = "stream_error"


class EmbeddingsUnsupported(ProviderError):
    """The provider (Anthropic) or its runtime offers no embeddings at all: asking again will not help, so a caller
    that falls back (knowledge retrieval to BM25 alone) does so for good rather than retrying."""

    code = "no_embeddings"


def error_for_status(
    status: int, provider: str, detail: str, *, model: str, retry_after: float | None = None
) -> ProviderError:
    """Map an HTTP status and the provider's own error text to the right `ProviderError`."""
    detail = detail.strip() or f"HTTP {status}"
    if status in (401, 403):
        return ProviderAuthError(f"{provider} refused the API key ({status}): {detail}. Check the key in the settings.")
    if status == 404:
        return ModelNotFound(f"{provider} has no model '{model}': {detail}")
    if status == 429:
        wait = f" Try again in {retry_after:g} s." if retry_after else " Try again shortly."
        return ProviderRateLimited(f"{provider} is rate limiting requests: {detail}.{wait}", retry_after=retry_after)
    if status >= 500:
        return ProviderServerError(f"{provider} had a server error ({status}): {detail}")
    return ProviderBadRequest(f"{provider} rejected the request ({status}): {detail}")


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header given in seconds (HTTP dates are ignored)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def redact(text: str, *secrets: str | None) -> str:
    """`text` with every given secret replaced by `***`: some servers echo the API key back in their error text."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
