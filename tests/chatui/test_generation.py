"""Readers of a reply (`Generation.follow`): every reader gets every delta in order, whoever else comes or goes."""

from __future__ import annotations

import asyncio
import contextlib

from chatui.engine.generation import Generation
from storage import MessageStatus
from testing.waiting import until


def reply() -> Generation:
    return Generation(conversation_id="c", user_id="u", message_id="m", parent_id=None, model="ollama:m")


async def read_all(generation: Generation, seen: list[str] | None = None) -> list[str]:
    """Every delta the reader gets, in order; `seen` shows them as they arrive."""
    seen = [] if seen is None else seen
    async for batch in generation.follow():
        seen.extend(batch)
    return seen


async def test_a_reader_that_leaves_while_waiting_does_not_stop_the_others():
    generation = reply()
    staying_saw: list[str] = []
    leaving_saw: list[str] = []
    staying = asyncio.create_task(read_all(generation, staying_saw))
    leaving = asyncio.create_task(read_all(generation, leaving_saw))
    generation.publish("one")
    # a reader that has taken "one" waits for the next delta in the same step: no await in between
    await until(lambda: staying_saw == leaving_saw == ["one"], what="both readers took the first delta")
    leaving.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await leaving
    generation.publish(" two")
    await until(lambda: staying_saw == ["one", " two"], what="the staying reader woke for the next delta")
    generation.publish(" three")
    generation.finish(MessageStatus.DONE)
    assert await asyncio.wait_for(staying, 5) == ["one", " two", " three"]
    assert leaving.cancelled() and leaving_saw == ["one"]


async def test_a_late_reader_gets_the_text_so_far_then_the_rest():
    generation = reply()
    early_saw: list[str] = []
    early = asyncio.create_task(read_all(generation, early_saw))
    generation.publish("a")
    await until(lambda: early_saw == ["a"], what="the early reader took the first delta")
    late = asyncio.create_task(read_all(generation))
    generation.publish("b")
    generation.finish(MessageStatus.DONE)
    assert await asyncio.wait_for(early, 5) == ["a", "b"]
    assert await asyncio.wait_for(late, 5) == ["a", "b"]


async def read_in_order(generation: Generation) -> list[tuple[str, str]]:
    """What a reader that follows the reasoning too gets: ("reasoning" | "text", delta), in the order it reads them."""
    seen: list[tuple[str, str]] = []
    thoughts = 0
    async for batch in generation.follow():
        if not batch:
            seen += [("reasoning", piece) for piece in generation.reasoning[thoughts:]]
            thoughts = len(generation.reasoning)
        seen += [("text", piece) for piece in batch]
    return seen


async def test_reasoning_reaches_early_and_late_readers_before_the_text():
    generation = reply()
    early = asyncio.create_task(read_in_order(generation))
    generation.think("Weigh")
    generation.think(" it.")
    late = asyncio.create_task(read_in_order(generation))
    generation.publish("No.")
    generation.finish(MessageStatus.DONE)
    expected = [("reasoning", "Weigh"), ("reasoning", " it."), ("text", "No.")]
    assert await asyncio.wait_for(early, 5) == expected
    assert await asyncio.wait_for(late, 5) == expected
    assert await read_in_order(generation) == expected  # after the end: the whole reply, in order
    assert generation.text == "No." and generation.reasoning_text == "Weigh it."


async def test_thinking_time_runs_from_the_first_reasoning_to_the_first_text():
    generation = reply()
    assert generation.seconds_thinking() is None and generation.reasoning_part() is None
    generation.think("hm")
    generation.signature = "sig"
    generation.publish("Yes.")
    seconds = generation.seconds_thinking()
    assert seconds is not None and seconds >= 0
    part = generation.reasoning_part()
    assert part is not None and part.text == "hm" and part.data == {"signature": "sig", "seconds": seconds}
