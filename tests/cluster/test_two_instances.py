"""Two instances behind one (imagined) load balancer: a user's requests land on either, and nothing is lost."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import httpx
import pytest
import websockets

from testing.fakes.server import Script
from testing.live import LiveApp
from testing.waiting import until
from tests.api.conftest import Account
from tests.cluster.frames import SLOW, first_tokens, frames_until, replying


@pytest.fixture
async def alice(pair: tuple[LiveApp, LiveApp]) -> AsyncIterator[Account]:
    """A fresh account signed in through instance A (its cookie is good on B too)."""
    a, _ = pair
    Account.counter += 1
    async with httpx.AsyncClient(base_url=a.url, timeout=10) as client:
        yield await Account.sign_up(client, f"cluster{Account.counter}")


def on(app: LiveApp, account: Account) -> httpx.AsyncClient:
    """An API client for `account` on another instance."""
    return httpx.AsyncClient(base_url=app.url, cookies={"chatui_session": account.cookie}, timeout=10)


async def test_a_reply_started_on_a_is_followed_from_b_replay_then_live(pair, alice, fake_ollama):
    a, b = pair
    async with replying(alice, a, fake_ollama, first=30, delay=0.01) as (conversation, on_a, seen_on_a):
        async with alice.socket(b, conversation) as on_b:
            frames = await frames_until(on_b, "done")
        seen_on_a += await frames_until(on_a, "done")
    tokens = [f for f in frames if f["type"] == "token"]
    assert [f["token"] for f in tokens] == SLOW  # no gap, no duplicate
    replayed = [f for f in tokens if f.get("replay")]
    assert len(replayed) >= 30 and tokens[: len(replayed)] == replayed  # the replay first, then live
    assert frames[-1]["status"] == "done" and frames[-1]["tokens"] == len(SLOW)
    assert [f["token"] for f in seen_on_a if f["type"] == "token"] == SLOW
    async with on(b, alice) as client:
        stored = (await client.get(f"/api/conversations/{conversation}")).json()["messages"]
    assert stored[-1]["content"] == "".join(SLOW) and stored[-1]["status"] == "done"


async def test_a_reply_started_on_b_shows_live_on_a_socket_opened_before(pair, alice, fake_ollama):
    a, b = pair
    conversation = await alice.new_conversation()
    fake_ollama.then(Script(tokens=["from ", "b"]))
    async with alice.socket(a, conversation) as on_a, alice.socket(b, conversation) as on_b:
        await on_a.send(json.dumps({"type": "ping"}))  # a socket reads frames once it is subscribed: its pong says so
        await frames_until(on_a, "pong")
        await on_b.send(json.dumps({"type": "message", "content": "hello"}))
        from_b = await frames_until(on_b, "done")
        from_a = await frames_until(on_a, "done")
    assert [f["token"] for f in from_a if f["type"] == "token"] == ["from ", "b"]
    assert from_a[-1]["message_id"] == from_b[-1]["message_id"] and from_a[-1]["status"] == "done"


async def test_stop_from_b_reaches_the_reply_written_on_a(pair, alice, fake_ollama):
    a, b = pair
    async with replying(alice, a, fake_ollama, first=5) as (conversation, on_a, _):
        async with alice.socket(b, conversation) as on_b:
            await on_b.send(json.dumps({"type": "stop"}))
            on_b_frames = await frames_until(on_b, "done")
        on_a_frames = await frames_until(on_a, "done")
    assert on_a_frames[-1]["status"] == on_b_frames[-1]["status"] == "cancelled"
    async with on(b, alice) as client:
        reply = (await client.get(f"/api/conversations/{conversation}")).json()["messages"][-1]
    assert reply["status"] == "cancelled" and 5 <= len(reply["content"].split()) < len(SLOW)


async def test_a_reply_still_waiting_for_its_first_token_is_stopped_from_b(pair, alice, fake_ollama):
    """The other instances learn of a reply moments after it starts (`relay.ANNOUNCE_WITHIN`), not with its first
    delta: a model that takes its time can be stopped from any instance."""
    a, b = pair
    conversation = await alice.new_conversation()
    fake_ollama.then(Script(tokens=["late"], delay=10))
    async with alice.socket(a, conversation) as on_a, alice.socket(b, conversation) as on_b:
        await on_a.send(json.dumps({"type": "message", "content": "take your time"}))
        async with asyncio.timeout(5):
            while True:
                await on_b.send(json.dumps({"type": "stop"}))
                answer = json.loads(await on_b.recv())
                if answer["type"] != "error" or answer["code"] != "not_streaming":
                    break
        on_a_frames = await frames_until(on_a, "done")
    assert on_a_frames[-1]["status"] == "cancelled" and not [f for f in on_a_frames if f["type"] == "token"]


async def test_a_conversation_busy_on_a_is_busy_on_b(pair, alice, fake_ollama):
    a, b = pair
    conversation = await alice.new_conversation()
    fake_ollama.then(Script(tokens=SLOW[:40], delay=0.02), Script(tokens=["then ", "b"]))
    async with alice.socket(a, conversation) as on_a, alice.socket(b, conversation) as on_b:
        await on_a.send(json.dumps({"type": "message", "content": "count"}))
        await first_tokens(on_a, 3)
        await on_b.send(json.dumps({"type": "message", "content": "me too"}))
        refused = await frames_until(on_b, "error")
        assert refused[-1]["code"] == "busy"
        await frames_until(on_a, "done")
        await frames_until(on_b, "done")  # B followed A's reply to its end
        await on_b.send(json.dumps({"type": "message", "content": "now me"}))  # free again, on either instance
        assert (await frames_until(on_b, "done"))[-1]["status"] == "done"
    async with on(b, alice) as client:
        messages = (await client.get(f"/api/conversations/{conversation}")).json()["messages"]
    assert [m["content"] for m in messages if m["role"] == "user"] == ["count", "now me"]


async def test_the_message_throttle_counts_on_both_instances(pair, alice, fake_ollama):
    a, b = pair
    sent = []
    for app in (a, b, a, b):  # 3 per minute, whichever instance receives them
        conversation = await alice.new_conversation()
        async with alice.socket(app, conversation) as ws:
            await ws.send(json.dumps({"type": "message", "content": "hi"}))
            sent.append((await frames_until(ws, "done" if len(sent) < 3 else "error"))[-1])
    assert [f["type"] for f in sent] == ["done", "done", "done", "error"]
    assert sent[-1]["code"] == "rate_limited"


async def test_the_new_conversation_limit_counts_on_both_instances(pair, alice):
    a, b = pair
    codes = []
    for app in (a, b, a, b, a, b):  # 5 per minute, whichever instance receives them
        async with on(app, alice) as client:
            codes.append((await client.post("/api/conversations", json={})).status_code)
    assert codes == [201] * 5 + [429]


async def test_signing_out_on_b_closes_the_sockets_on_both_and_stops_the_reply(pair, alice, fake_ollama):
    a, b = pair
    conversation = await alice.new_conversation()
    fake_ollama.then(Script(tokens=SLOW, delay=0.02))
    async with alice.socket(a, conversation) as on_a, alice.socket(b, conversation) as on_b:
        await on_a.send(json.dumps({"type": "message", "content": "count"}))
        await first_tokens(on_a, 3)
        async with on(b, alice) as client:
            assert (await client.post("/api/auth/logout")).status_code == 204
        for ws in (on_a, on_b):
            frames = await frames_until(ws, "error")
            while frames[-1].get("code") != "signed_out":
                frames += await frames_until(ws, "error")
            async with asyncio.timeout(10):
                await ws.wait_closed()
            assert ws.close_code == 1008
    async with on(a, alice) as client:
        assert (await client.get("/api/auth/me")).status_code == 401
    async with httpx.AsyncClient(base_url=b.url) as client:
        await client.post("/api/auth/login", json={"username": alice.username, "password": alice.password})

        async def ended() -> dict | None:
            reply = (await client.get(f"/api/conversations/{conversation}")).json()["messages"][-1]
            return None if reply["status"] == "streaming" else reply

        reply = await until(ended, within=10, what="the stopped reply's final state stored")
    assert reply["status"] == "cancelled"


async def test_deleting_on_b_drops_the_reply_written_on_a(pair, alice, fake_ollama):
    a, b = pair
    async with replying(alice, a, fake_ollama) as (conversation, on_a, _):
        async with on(b, alice) as client:
            assert (await client.delete(f"/api/conversations/{conversation}")).status_code == 204
            assert (await client.get(f"/api/conversations/{conversation}")).status_code == 404
        frames = await frames_until(on_a, "done")
    assert {"type": "error", "code": "not_found"}.items() <= next(f for f in frames if f["type"] == "error").items()
    assert frames[-1]["status"] == "deleted"


async def test_the_socket_cap_counts_sockets_on_both_instances(pair, alice):
    a, b = pair
    conversation = await alice.new_conversation()
    async with contextlib.AsyncExitStack() as stack:
        on_a = [await stack.enter_async_context(alice.socket(a, conversation)) for _ in range(2)]
        await stack.enter_async_context(alice.socket(b, conversation))
        for app in (a, b):  # 3 per user, wherever they are
            with pytest.raises(websockets.InvalidStatus) as refused:
                await stack.enter_async_context(alice.socket(app, conversation))
            assert refused.value.response.status_code == 403
        await on_a[0].close()

        async def taken_on_b() -> bool:
            try:
                await stack.enter_async_context(alice.socket(b, conversation))
            except websockets.InvalidStatus:
                return False
            return True

        await until(taken_on_b, within=10, every=0.05, what="the slot given back on A taken on B")


async def test_a_burst_of_wrong_passwords_over_both_instances_runs_at_most_the_limit_of_checks(pair, alice):
    """30 guesses at once, half to each instance, from one address: at most 3 passwords are checked in all (not 3 on
    each instance), every other guess is refused before any check, and the lockout holds on both instances."""
    a, b = pair
    address = {"X-Forwarded-For": "10.77.0.1"}
    wrong = {"username": alice.username, "password": "not the password"}
    async with httpx.AsyncClient(base_url=a.url) as on_a, httpx.AsyncClient(base_url=b.url) as on_b:
        answers = await asyncio.gather(
            *(client.post("/api/auth/login", json=wrong, headers=address) for client in [on_a, on_b] * 15)
        )
        codes = [answer.status_code for answer in answers]
        assert codes.count(401) <= 3 and codes.count(401) + codes.count(429) == 30
        right = {"username": alice.username, "password": alice.password}
        for client in (on_a, on_b):
            assert (await client.post("/api/auth/login", json=right, headers=address)).status_code == 429


async def test_failed_sign_ins_count_on_both_instances(pair, alice):
    """From an address of its own: afterwards, sign-ins from it are refused for the rest of the window (the other
    tests of the module, which sign in from 127.0.0.1, are not locked out)."""
    a, b = pair
    address = {"X-Forwarded-For": "10.77.0.2"}
    wrong = {"username": alice.username, "password": "not the password"}
    codes = []
    for app in (a, b, a, b):  # 3 failures per window
        async with httpx.AsyncClient(base_url=app.url) as client:
            codes.append((await client.post("/api/auth/login", json=wrong, headers=address)).status_code)
    assert codes == [401, 401, 401, 429]


async def test_reasoning_written_on_a_is_replayed_then_live_on_b(pair, alice, fake_ollama):
    """Issue 24: a reply's reasoning travels between instances like its text, before it."""
    a, b = pair
    thoughts = [f"r{i} " for i in range(60)]
    conversation = await alice.new_conversation()
    fake_ollama.then(Script(thinking=thoughts, tokens=["done."], delay=0.02))
    async with alice.socket(a, conversation) as on_a:
        await on_a.send(json.dumps({"type": "message", "content": "think"}))
        early = [json.loads(await on_a.recv()) for _ in range(10)]
        async with alice.socket(b, conversation) as on_b:
            frames = await frames_until(on_b, "done")
        await frames_until(on_a, "done")
    assert all(f["type"] == "reasoning" for f in early)
    assert [f["content"] for f in frames if f["type"] == "reasoning"] == thoughts  # no gap, no duplicate
    assert [f["token"] for f in frames if f["type"] == "token"] == ["done."]
    kinds = [f["type"] for f in frames]
    assert kinds.index("token") > max(i for i, kind in enumerate(kinds) if kind == "reasoning")
    async with on(b, alice) as client:
        reply = (await client.get(f"/api/conversations/{conversation}")).json()["messages"][-1]
    assert reply["reasoning"]["text"] == "".join(thoughts) and reply["content"] == "done."


async def test_a_link_shared_on_a_opens_on_b_and_revoked_on_b_is_gone_on_a_at_once(pair, alice):
    """Share links live in the database (issue 26): both instances derive the same link and see a revocation at once."""
    a, b = pair
    conversation_id = await alice.new_conversation(title="Shared across")
    token = (await alice.client.post(f"/api/conversations/{conversation_id}/share")).json()["token"]
    async with httpx.AsyncClient(base_url=b.url) as anonymous_b, on(b, alice) as alice_b:
        assert (await anonymous_b.get(f"/api/shares/{token}")).json()["title"] == "Shared across"
        assert [s["token"] for s in (await alice_b.get("/api/shares")).json()] == [token]
        assert (await alice_b.delete(f"/api/conversations/{conversation_id}/share")).status_code == 204
    async with httpx.AsyncClient(base_url=a.url) as anonymous_a:
        assert (await anonymous_a.get(f"/api/shares/{token}")).status_code == 404
        assert (await anonymous_a.get(f"/s/{token}")).status_code == 404
