"""Readers of a reply (`Generation.follow`): every reader gets every delta in order, whoever else comes or goes."""

from __future__ import annotations

import asyncio

from chatui.engine.generation import Generation
from storage import MessageStatus


def reply() -> Generation:
    return Generation(conversation_id="c", user_id="u", message_id="m", parent_id=None, model="ollama:m")


async def read_all(generation: Generation) -> list[str]:
    return [delta async for batch in generation.follow() for delta in batch]


async def test_a_reader_that_leaves_while_waiting_does_not_stop_the_others():
    generation = reply()
    staying = asyncio.create_task(read_all(generation))
    leaving = asyncio.create_task(read_all(generation))
    generation.publish("one")
    await asyncio.sleep(0.01)  # both have read "one" and wait for the next delta
    leaving.cancel()
    await asyncio.sleep(0)
    for delta in (" two", " three"):
        generation.publish(delta)
        await asyncio.sleep(0)
    generation.finish(MessageStatus.DONE)
    assert await asyncio.wait_for(staying, 5) == ["one", " two", " three"]
    assert leaving.cancelled()


async def test_a_late_reader_gets_the_text_so_far_then_the_rest():
    generation = reply()
    early = asyncio.create_task(read_all(generation))
    generation.publish("a")
    await asyncio.sleep(0.01)
    late = asyncio.create_task(read_all(generation))
    generation.publish("b")
    generation.finish(MessageStatus.DONE)
    assert await asyncio.wait_for(early, 5) == ["a", "b"]
    assert await asyncio.wait_for(late, 5) == ["a", "b"]
