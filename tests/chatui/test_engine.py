"""The generation engine: one owner per reply, readers that come and go, stop, delete, checkpoints, shutdown."""

from __future__ import annotations

import asyncio

from chatui.bootstrap import Services
from chatui.engine.errors import ReplyRefused
from chatui.engine.generation import Generation
from storage import Anchor, MessageStatus
from testing.fakes.server import Script, ScriptedProvider
from testing.waiting import until


async def read_all(generation: Generation, start: int = 0) -> list[str]:
    tokens: list[str] = []
    async for batch in generation.follow(start):
        tokens.extend(batch)
    return tokens


async def stored_reply(services: Services, conversation_id: str):
    return (await services.store.chats.messages(conversation_id))[-1]


async def streamed(generation: Generation, count: int) -> None:
    """Until the reply has produced at least `count` deltas (woken by the reply itself, never by a guess)."""
    async with asyncio.timeout(5):
        async for _ in generation.follow():
            if len(generation.chunks) >= count:
                return


async def test_reply_is_stored_with_text_tokens_and_usage(services, alice, fake_ollama: ScriptedProvider):
    fake_ollama.then(Script(tokens=["8", "."], prompt_tokens=33, completion_tokens=2))
    conversation = await services.store.chats.create_conversation(alice.id, "ollama:llama3.2:3b")
    generation = await services.engine.send(alice.id, conversation.id, "What is 5 plus 3?")
    assert await read_all(generation) == ["8", "."]
    await generation.wait()
    reply = await stored_reply(services, conversation.id)
    assert (reply.content, reply.status, reply.completion_tokens, reply.prompt_tokens) == ("8.", "done", 2, 33)


async def test_late_reader_gets_everything_once_and_in_order(services, alice, fake_ollama):
    tokens = [f"t{i} " for i in range(40)]
    fake_ollama.then(Script(tokens=tokens, delay=0.01))
    conversation = await services.store.chats.create_conversation(alice.id, "ollama:llama3.2:3b")
    generation = await services.engine.send(alice.id, conversation.id, "count")
    early = asyncio.create_task(read_all(generation))
    await streamed(generation, 10)
    late = await read_all(generation)  # arrives mid-stream: replay, then live
    assert late == tokens
    assert await early == tokens


async def test_second_message_while_streaming_is_refused_as_busy(services, alice, fake_ollama):
    fake_ollama.then(Script(tokens=["a"] * 10, delay=0.02))
    conversation = await services.store.chats.create_conversation(alice.id, "ollama:llama3.2:3b")
    generation = await services.engine.send(alice.id, conversation.id, "first")
    try:
        await services.engine.send(alice.id, conversation.id, "second")
        raise AssertionError("expected busy")
    except ReplyRefused as refused:
        assert refused.reason == "busy"
    await generation.wait()
    assert [m.content for m in await services.store.chats.messages(conversation.id) if m.role == "user"] == ["first"]


async def test_double_send_without_awaiting_saves_one_message(services, alice, fake_ollama):
    conversation = await services.store.chats.create_conversation(alice.id, "ollama:llama3.2:3b")
    results = await asyncio.gather(
        services.engine.send(alice.id, conversation.id, "click"),
        services.engine.send(alice.id, conversation.id, "click"),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["Generation", "ReplyRefused"]
    await next(r for r in results if isinstance(r, Generation)).wait()
    assert [m.role for m in await services.store.chats.messages(conversation.id)] == ["user", "assistant"]


async def test_stop_closes_the_provider_stream_and_keeps_the_partial(services, alice, fake_ollama):
    fake_ollama.then(Script(tokens=[f"w{i} " for i in range(200)], delay=0.02))
    conversation = await services.store.chats.create_conversation(alice.id, "ollama:llama3.2:3b")
    generation = await services.engine.send(alice.id, conversation.id, "long answer please")
    await streamed(generation, 5)
    services.engine.stop(conversation.id)
    await generation.wait()
    assert await fake_ollama.wait_disconnected(5), "the provider's connection stayed open"
    reply = await stored_reply(services, conversation.id)
    assert reply.status == MessageStatus.CANCELLED == generation.status
    assert reply.content == generation.text and 5 <= len(generation.chunks) < 200


async def test_checkpoints_write_the_text_so_far_while_streaming(services, alice, fake_ollama):
    fake_ollama.then(Script(tokens=[f"w{i} " for i in range(60)], delay=0.02))
    conversation = await services.store.chats.create_conversation(alice.id, "ollama:llama3.2:3b")
    generation = await services.engine.send(alice.id, conversation.id, "go")
    checkpoints: list[str] = []

    async def a_longer_checkpoint() -> str | None:
        reply = await stored_reply(services, conversation.id)
        last = checkpoints[-1] if checkpoints else ""
        grown = reply.status == MessageStatus.STREAMING and len(reply.content) > len(last)
        return reply.content if grown else None

    for _ in range(3):  # a reply of 1.2 s, checkpointed every 0.1 s: three stored while it streams, each longer
        text = await until(a_longer_checkpoint, within=5, what=f"checkpoint {len(checkpoints) + 1} while streaming")
        assert generation.text.startswith(text)
        checkpoints.append(text)
    await generation.wait()


async def test_delete_mid_stream_cancels_and_writes_nothing(services, alice, fake_ollama):
    fake_ollama.then(Script(tokens=[f"w{i} " for i in range(200)], delay=0.02))
    conversation = await services.store.chats.create_conversation(alice.id, "ollama:llama3.2:3b")
    generation = await services.engine.send(alice.id, conversation.id, "go")
    await streamed(generation, 3)
    assert await services.engine.delete_conversation(alice.id, conversation.id)
    assert generation.finished and generation.status == "deleted"
    assert await fake_ollama.wait_disconnected(5)
    await services.engine.checkpoint()
    assert await services.store.chats.messages(conversation.id) == []
    assert await services.store.chats.get_conversation(alice.id, conversation.id) is None


async def test_provider_error_mid_stream_keeps_partial_with_status_error(services, alice, fake_ollama):
    fake_ollama.then(Script(tokens=["par", "tial", "!"], error_after=2, error="GPU fell off the bus"))
    conversation = await services.store.chats.create_conversation(alice.id, "ollama:llama3.2:3b")
    generation = await services.engine.send(alice.id, conversation.id, "go")
    await generation.wait()
    reply = await stored_reply(services, conversation.id)
    assert (reply.content, reply.status) == ("partial", MessageStatus.ERROR)
    assert "GPU fell off the bus" in reply.error
    # and the next turn works, with the partial reply in its history
    fake_ollama.then(Script(tokens=["ok"]))
    await (await services.engine.send(alice.id, conversation.id, "again")).wait()
    assert [m["content"] for m in fake_ollama.requests[-1]["messages"]] == ["go", "partial", "again"]


async def test_shutdown_stores_streaming_replies_as_interrupted(services, alice, fake_ollama):
    fake_ollama.then(Script(tokens=[f"w{i} " for i in range(200)], delay=0.02))
    conversation = await services.store.chats.create_conversation(alice.id, "ollama:llama3.2:3b")
    generation = await services.engine.send(alice.id, conversation.id, "go")
    await streamed(generation, 3)
    await services.engine.shutdown()
    reply = await stored_reply(services, conversation.id)
    assert reply.status == MessageStatus.INTERRUPTED and reply.content == generation.text


async def test_revoking_a_user_stops_their_replies(services, alice, fake_ollama):
    fake_ollama.then(Script(tokens=[f"w{i} " for i in range(200)], delay=0.02))
    conversation = await services.store.chats.create_conversation(alice.id, "ollama:llama3.2:3b")
    generation = await services.engine.send(alice.id, conversation.id, "go")
    await streamed(generation, 3)
    await services.auth.revoke_user(alice.id)
    await generation.wait()
    assert generation.status == MessageStatus.CANCELLED


async def test_fifty_concurrent_replies_all_complete_and_are_stored(services, fake_ollama):
    tokens = [f"tok{i} " for i in range(50)]
    fake_ollama.default = Script(tokens=tokens, delay=0.005)
    users = [await services.store.accounts.create_user(f"user{i}", "x") for i in range(50)]
    conversations = [await services.store.chats.create_conversation(u.id, "ollama:llama3.2:3b") for u in users]
    generations = await asyncio.gather(
        *(
            services.engine.send(u.id, c.id, f"hello {i}")
            for i, (u, c) in enumerate(zip(users, conversations, strict=True))
        )
    )
    texts = await asyncio.gather(*(read_all(g) for g in generations))
    assert all(t == tokens for t in texts)
    await asyncio.gather(*(g.wait() for g in generations))
    for conversation in conversations:
        reply = await stored_reply(services, conversation.id)
        assert (reply.content, reply.status) == ("".join(tokens), MessageStatus.DONE)


async def test_a_burst_of_sends_starts_a_few_replies_at_a_time_and_all_complete(services, fake_ollama, monkeypatch):
    """Start-up (history read, first write, the bubbles) is admitted `starting_at_once` at a time, so a burst of
    messages cannot fill every turn of the event loop at once; the rest wait their turn and nothing is refused."""
    fake_ollama.default = Script(tokens=["ok"], delay=0)
    limit = services.engine.options.starting_at_once
    burst = limit * 3
    users = [await services.store.accounts.create_user(f"user{i}", "x") for i in range(burst)]
    conversations = [await services.store.chats.create_conversation(u.id, "ollama:llama3.2:3b") for u in users]
    starting, most = 0, 0
    read_and_write = services.store.chats.open_exchange  # a plain message: its start-up is this one trip

    async def counted(*args, **kwargs):
        nonlocal starting, most
        starting += 1
        most = max(most, starting)
        try:
            return await read_and_write(*args, **kwargs)
        finally:
            starting -= 1

    monkeypatch.setattr(services.store.chats, "open_exchange", counted)
    generations = await asyncio.gather(
        *(services.engine.send(u.id, c.id, "hi") for u, c in zip(users, conversations, strict=True))
    )
    await asyncio.gather(*(g.wait() for g in generations))
    assert most == limit
    assert [g.status for g in generations] == [MessageStatus.DONE] * burst


async def test_a_plain_message_is_read_and_stored_in_one_trip_a_regenerate_in_two(services, fake_ollama, monkeypatch):
    """Issue 28: the first token waited for two trips to the database thread (the path read, then the write racing
    the provider request for the GIL); a message without files, knowledge or effort takes one. A regenerate (and
    any message that could still be refused) reads, then writes beside the provider's request, as before."""
    fake_ollama.default = Script(tokens=["ok"], delay=0)
    user = await services.store.accounts.create_user("trips", "x")
    conversation = await services.store.chats.create_conversation(user.id, "ollama:llama3.2:3b")
    trips: list[str] = []

    def counting(name: str):
        original = getattr(services.store.chats, name)

        async def counted(*args, **kwargs):
            trips.append(name)
            return await original(*args, **kwargs)

        return counted

    for name in ("open_exchange", "reply_context", "start_exchange"):
        monkeypatch.setattr(services.store.chats, name, counting(name))
    generation = await services.engine.send(user.id, conversation.id, "hi")
    assert trips == ["open_exchange"]
    await generation.wait()
    assert generation.status == MessageStatus.DONE and generation.text == "ok"
    trips.clear()
    again = await services.engine.send(user.id, conversation.id, None, anchor=Anchor.REGENERATE)
    assert trips == ["reply_context", "start_exchange"]
    await again.wait()
    path = await services.conversations.path(user.id, conversation.id)
    assert [(m.role, m.content) for m in path.messages] == [("user", "hi"), ("assistant", "ok")]
