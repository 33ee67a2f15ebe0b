"""Retry a stream that failed before its first token; never once text has been produced."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence

from providers.base import ChatMessage, GenerationParams, Provider, Queued, StreamEvent
from providers.errors import ProviderError


async def stream_with_retries(
    provider: Provider,
    messages: Sequence[ChatMessage],
    model: str,
    params: GenerationParams | None = None,
    *,
    retries: int = 2,
    backoff: float = 0.5,
    max_wait: float = 8.0,
) -> AsyncGenerator[StreamEvent, None]:
    """`provider.stream(...)`, retried with exponential backoff on retryable errors raised before any event.

    A `Retry-After` longer than `max_wait` is not waited out: the error goes to the person instead.
    """
    attempt = 0
    while True:
        produced = False
        stream = provider.stream(messages, model, params)
        try:
            async for event in stream:
                produced = produced or not isinstance(event, Queued)
                yield event
            return
        except ProviderError as exc:
            if produced or not exc.retryable or attempt >= retries:
                raise
            wait = exc.retry_after if exc.retry_after is not None else backoff * 2**attempt
            if wait > max_wait:
                raise
            attempt += 1
            await asyncio.sleep(wait)
        finally:
            await stream.aclose()
