"""A `Provider` that lives in the test's own event loop: no HTTP, no thread — for fast engine and service tests.

The wire-level fakes (`testing/fakes/ollama.py` and friends) prove the adapters speak each API; this one is for the
layers above, where what matters is what the engine asks for and what it does with the answer.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field

from providers import ChatMessage, GenerationParams, Provider, StreamEvent, TextDelta, Usage
from providers.errors import ProviderStreamError


@dataclass
class Reply:
    """What the provider does with the next request.

    tokens       the deltas, in order
    delay        seconds before each delta
    hold         after this many deltas, wait until `InProcessProvider.release()` (for tests that act mid-stream)
    error_after  after this many deltas, fail as a provider's mid-stream error
    usage        the `Usage` that ends the stream (default: prompt 10, completion = number of deltas)
    """

    tokens: list[str] = field(default_factory=lambda: ["Hello", "!"])
    delay: float = 0.0
    hold: int | None = None
    error_after: int | None = None
    usage: Usage | None = None


@dataclass(frozen=True)
class Call:
    """One request as the provider received it."""

    messages: list[ChatMessage]
    model: str
    params: GenerationParams | None


class InProcessProvider(Provider):
    """Plays queued `Reply`s (then `default`), records every `Call`, and notices a stream closed early."""

    name = "ollama"  # model ids `ollama:...` resolve to it, like the default model

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.default = Reply()
        self.calls: list[Call] = []
        self.closed_early = 0
        self.models = ["llama3.2:3b"]
        self._released = asyncio.Event()
        self._holding = asyncio.Event()

    @property
    def display_name(self) -> str:
        return "the in-process fake"

    def then(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    async def holding(self) -> None:
        """Until a stream reaches its `hold` point."""
        await asyncio.wait_for(self._holding.wait(), 5)

    def release(self) -> None:
        self._released.set()

    async def stream(
        self, messages: Sequence[ChatMessage], model: str, params: GenerationParams | None = None
    ) -> AsyncGenerator[StreamEvent, None]:
        self.calls.append(Call(list(messages), model, params))
        reply = self.replies.popleft() if self.replies else self.default
        finished = False
        try:
            for index, token in enumerate(reply.tokens):
                if index == reply.hold:
                    self._holding.set()
                    await self._released.wait()
                if index == reply.error_after:
                    raise ProviderStreamError("the fake broke mid-reply")
                if reply.delay:
                    await asyncio.sleep(reply.delay)
                yield TextDelta(token)
            yield reply.usage or Usage(10, len(reply.tokens))
            finished = True
        finally:
            if not finished:
                self.closed_early += 1

    async def list_models(self) -> list[str]:
        return list(self.models)
