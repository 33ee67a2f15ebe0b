"""Replies that outlive their readers, over `/ws` on a live server: re-attach, two readers, stop, delete, sign-out."""

from __future__ import annotations

import asyncio
import json

import websockets
from websockets.asyncio.client import ClientConnection

from testing.fakes.server import Script

SLOW = Script(tokens=[f"w{i} " for i in range(60)], delay=0.02)


async def say(ws: ClientConnection, content: str) -> None:
    await ws.send(json.dumps({"type": "message", "content": content}))


async def read_reply(ws: ClientConnection) -> tuple[list[dict], dict]:
    tokens = []
    while True:
        frame = json.loads(await ws.recv())
        if frame["type"] == "token":
            tokens.append(frame)
        elif frame["type"] == "done":
            return tokens, frame


async def first_tokens(ws: ClientConnection, count: int) -> list[dict]:
    frames = []
    while len(frames) < count:
        frame = json.loads(await ws.recv())
        assert frame["type"] == "token", frame
        frames.append(frame)
    return frames


async def test_late_socket_gets_replay_then_live_without_gap_or_duplicate(live_app, make_account, fake_ollama):
    fake_ollama.then(SLOW)
    alice = await make_account()
    conversation_id = await alice.new_conversation()
    async with alice.socket(live_app, conversation_id) as first:
        await say(first, "count to sixty")
        early = await first_tokens(first, 10)
        async with alice.socket(live_app, conversation_id) as late:  # e.g. the tab was reloaded
            late_tokens, late_done = await read_reply(late)
        rest, done = await read_reply(first)
    expected = SLOW.tokens
    assert [f["token"] for f in early + rest] == expected
    assert [f["token"] for f in late_tokens] == expected  # nothing missing, nothing twice
    replayed = [f for f in late_tokens if f.get("replay")]
    assert len(replayed) >= 10 and late_tokens[: len(replayed)] == replayed  # the replay comes first
    assert late_done["tokens"] == len(late_tokens) == done["tokens"] == 60
    assert late_done["message_id"] == done["message_id"]
    stored = (await alice.messages(conversation_id))[-1]
    assert stored["content"] == "".join(expected) and stored["status"] == "done"


async def test_two_sockets_receive_identical_text(live_app, make_account, fake_ollama):
    fake_ollama.then(SLOW)
    alice = await make_account()
    conversation_id = await alice.new_conversation()
    async with (
        alice.socket(live_app, conversation_id) as a,
        alice.socket(live_app, conversation_id) as b,
    ):
        await say(a, "go")
        (tokens_a, done_a), (tokens_b, done_b) = await asyncio.gather(read_reply(a), read_reply(b))
    assert [f["token"] for f in tokens_a] == [f["token"] for f in tokens_b] == SLOW.tokens
    assert done_a == done_b


async def test_resume_request_replays_the_streaming_reply(live_app, make_account, fake_ollama):
    fake_ollama.then(SLOW)
    alice = await make_account()
    conversation_id = await alice.new_conversation()
    async with alice.socket(live_app, conversation_id) as ws:
        await say(ws, "go")
        await first_tokens(ws, 5)
        await ws.send(json.dumps({"type": "resume"}))  # already following it: no second copy
        tokens, done = await read_reply(ws)
    assert done["tokens"] == 60 and len(tokens) == 55


async def test_stop_cancels_on_the_server_and_keeps_the_partial(live_app, make_account, fake_ollama):
    fake_ollama.then(Script(tokens=[f"w{i} " for i in range(500)], delay=0.02))
    alice = await make_account()
    conversation_id = await alice.new_conversation()
    async with alice.socket(live_app, conversation_id) as ws:
        await say(ws, "a very long answer")
        early = await first_tokens(ws, 5)
        await ws.send(json.dumps({"type": "stop"}))
        rest, done = await read_reply(ws)
    assert done["status"] == "cancelled"
    assert await fake_ollama.wait_disconnected(5), "the provider kept generating"
    received = "".join(f["token"] for f in early + rest)
    stored = (await alice.messages(conversation_id))[-1]
    assert (stored["status"], stored["content"]) == ("cancelled", received)
    assert done["tokens"] == len(early + rest) < 500


async def test_closing_the_socket_does_not_stop_the_reply(live_app, make_account, fake_ollama):
    fake_ollama.then(SLOW)
    alice = await make_account()
    conversation_id = await alice.new_conversation()
    async with alice.socket(live_app, conversation_id) as ws:
        await say(ws, "go")
        await first_tokens(ws, 3)
    # the reader left; the reply goes on and is stored whole — a new reader sees it to the end
    async with alice.socket(live_app, conversation_id) as again:
        tokens, done = await read_reply(again)
    assert "".join(f["token"] for f in tokens) == "".join(SLOW.tokens) and done["status"] == "done"
    assert (await alice.messages(conversation_id))[-1]["status"] == "done"


async def test_delete_mid_stream_closes_the_socket_and_leaves_nothing(live_app, make_account, fake_ollama):
    fake_ollama.then(Script(tokens=[f"w{i} " for i in range(500)], delay=0.02))
    alice = await make_account()
    conversation_id = await alice.new_conversation()
    async with alice.socket(live_app, conversation_id) as ws:
        await say(ws, "go")
        await first_tokens(ws, 3)
        assert (await alice.client.delete(f"/api/conversations/{conversation_id}")).status_code == 204
        frames = []
        try:
            async for raw in ws:
                frames.append(json.loads(raw))
        except websockets.exceptions.ConnectionClosed:
            pass
    assert any(f["type"] == "error" and f["code"] == "not_found" for f in frames)
    assert await fake_ollama.wait_disconnected(5)
    assert (await alice.client.get(f"/api/conversations/{conversation_id}")).status_code == 404


async def test_signing_out_closes_the_sockets_and_stops_the_reply(live_app, make_account, fake_ollama):
    fake_ollama.then(Script(tokens=[f"w{i} " for i in range(500)], delay=0.02))
    alice = await make_account()
    conversation_id = await alice.new_conversation()
    async with alice.socket(live_app, conversation_id) as ws:
        await say(ws, "go")
        await first_tokens(ws, 3)
        assert (await alice.client.post("/api/auth/logout")).status_code == 204
        frames = []
        try:
            async with asyncio.timeout(5):
                async for raw in ws:
                    frames.append(json.loads(raw))
        except websockets.exceptions.ConnectionClosed:
            pass
        assert ws.close_code == 1008
    assert any(f["type"] == "error" and f["code"] == "signed_out" for f in frames)
    assert await fake_ollama.wait_disconnected(5)


async def test_fifty_concurrent_replies_over_ws_all_complete_and_are_stored(live_app, make_account, fake_ollama):
    tokens = [f"tok{i} " for i in range(50)]
    fake_ollama.default = Script(tokens=tokens, delay=0.01)
    accounts = [await make_account() for _ in range(50)]
    conversations = [await a.new_conversation() for a in accounts]

    async def one(account, conversation_id: str) -> list[str]:
        async with account.socket(live_app, conversation_id) as ws:
            await say(ws, "hello")
            frames, done = await read_reply(ws)
            assert done["status"] == "done" and done["tokens"] == 50
            return [f["token"] for f in frames]

    results = await asyncio.gather(*(one(a, c) for a, c in zip(accounts, conversations, strict=True)))
    assert all(r == tokens for r in results)
    for account, conversation_id in zip(accounts, conversations, strict=True):
        stored = await account.messages(conversation_id)
        assert [(m["role"], m["content"], m["status"]) for m in stored] == [
            ("user", "hello", "done"),
            ("assistant", "".join(tokens), "done"),
        ]
