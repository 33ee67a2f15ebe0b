"""A reply that waits in a provider's line (the local model's): readers learn its place, then get the text."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from providers.base import ChatMessage, GenerationParams, Provider, Queued, StreamEvent, TextDelta, Usage


class _Line(Provider):
    """Stands in for the local model: two places ahead, then one, then the reply's turn, then its text."""

    name = "local"

    def __init__(self) -> None:
        self.moves: list[asyncio.Event] = [asyncio.Event(), asyncio.Event()]

    @property
    def display_name(self) -> str:
        return "the line"

    async def list_models(self) -> list[str]:
        return ["line"]

    async def stream(
        self, messages: Sequence[ChatMessage], model: str, params: GenerationParams | None = None
    ) -> AsyncIterator[StreamEvent]:
        yield Queued(2)
        await self.moves[0].wait()
        yield Queued(1)
        await self.moves[1].wait()
        yield Queued(0)
        yield TextDelta("Hello")
        yield Usage(3, 1)


async def test_readers_see_the_place_in_line_then_the_text(services, alice) -> None:
    line = _Line()
    services.models.providers["local"] = line
    conversation = await services.store.chats.create_conversation(alice.id, "local:line")
    generation = await services.engine.send(alice.id, conversation.id, "hi")
    seen: list[tuple[int | None, list[str]]] = []

    async def read() -> None:
        async for batch in generation.follow():
            seen.append((generation.queued, batch))
            if batch == [] and generation.queued is not None:  # the reader saw this place: the line moves on
                line.moves[2 - generation.queued].set()

    await asyncio.wait_for(read(), 10)
    assert seen == [(2, []), (1, []), (None, []), (None, ["Hello"])]  # its turn, then the text
    await generation.wait()
    messages = await services.store.chats.messages(conversation.id)
    assert (messages[-1].content, messages[-1].status) == ("Hello", "done")
