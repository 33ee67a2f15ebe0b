"""Regenerate, edit, versions, settings and usage over `/ws` and REST, on a live server with Ollama and Anthropic."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from websockets.asyncio.client import ClientConnection

from testing.fakes.anthropic import FakeAnthropic
from testing.fakes.server import Script, ScriptedProvider, ThreadedServer
from testing.live import LiveApp, module_app
from tests.api.conftest import Account

CLAUDE = "anthropic:claude-haiku-4-5"
SLOW = Script(tokens=[f"w{i} " for i in range(60)], delay=0.02)


@pytest.fixture(scope="module")
def live_app(
    tmp_path_factory: pytest.TempPathFactory,
    ollama_server: tuple[ScriptedProvider, ThreadedServer],
    anthropic_server: tuple[FakeAnthropic, ThreadedServer],
) -> Iterator[LiveApp]:
    yield from module_app(
        tmp_path_factory,
        ollama_server[1].url,
        "tree",
        ANTHROPIC_BASE_URL=anthropic_server[1].url,
        ANTHROPIC_API_KEY="sk-ant-test-key",
    )


async def frame(ws: ClientConnection) -> dict:
    return json.loads(await ws.recv())


async def until_done(ws: ClientConnection) -> tuple[list[dict], dict]:
    """The frames of one reply (tokens, errors) and its `done`."""
    frames = []
    while True:
        received = await frame(ws)
        if received["type"] == "done":
            return frames, received
        frames.append(received)


async def detail(account: Account, conversation_id: str, **params: str) -> dict:
    response = await account.client.get(f"/api/conversations/{conversation_id}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def contents(account: Account, conversation_id: str) -> list[str]:
    return [m["content"] for m in (await detail(account, conversation_id))["messages"]]


async def test_anthropic_deltas_count_as_frames_in_done_and_as_tokens_in_usage(live_app, make_account, fake_anthropic):
    """Each Anthropic delta carries several tokens: `done.tokens` counts the frames (2), `usage` the tokens (9)."""
    fake_anthropic.then(Script(tokens=["Hello there, ", "how are you today?"], prompt_tokens=14, completion_tokens=9))
    alice = await make_account()
    conversation_id = await alice.new_conversation(model=CLAUDE)
    async with alice.socket(live_app, conversation_id) as ws:
        await ws.send(json.dumps({"type": "message", "content": "hi"}))
        tokens, done = await until_done(ws)
    assert [f["token"] for f in tokens] == ["Hello there, ", "how are you today?"]
    assert done["tokens"] == 2 and done["usage"] == {"prompt_tokens": 14, "completion_tokens": 9}
    reply = (await detail(alice, conversation_id))["messages"][1]
    assert reply["usage"] == {"prompt_tokens": 14, "completion_tokens": 9}


async def test_system_prompt_and_temperature_reach_each_provider_its_own_way(
    live_app, make_account, fake_ollama, fake_anthropic
):
    alice = await make_account()
    conversation_id = await alice.new_conversation()
    patched = await alice.client.patch(
        f"/api/conversations/{conversation_id}", json={"system_prompt": "Talk like a pirate.", "temperature": 0.3}
    )
    assert patched.status_code == 200
    assert (patched.json()["system_prompt"], patched.json()["temperature"]) == ("Talk like a pirate.", 0.3)
    async with alice.socket(live_app, conversation_id) as ws:
        await ws.send(json.dumps({"type": "message", "content": "hi"}))
        await until_done(ws)
        sent = fake_ollama.requests[-1]
        assert sent["messages"][0] == {"role": "system", "content": "Talk like a pirate."}
        assert sent["messages"][1] == {"role": "user", "content": "hi"}
        assert sent["options"] == {"temperature": 0.3}
        await alice.client.patch(f"/api/conversations/{conversation_id}", json={"model": CLAUDE})
        await ws.send(json.dumps({"type": "message", "content": "again"}))
        await until_done(ws)
    sent = fake_anthropic.requests[-1]
    assert sent["system"] == "Talk like a pirate." and sent["temperature"] == 0.3
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "user"]
    cleared = await alice.client.patch(
        f"/api/conversations/{conversation_id}", json={"system_prompt": None, "temperature": None}
    )
    assert (cleared.json()["system_prompt"], cleared.json()["temperature"]) == (None, None)
    for bad in ({"temperature": 2.5}, {"temperature": -1}, {"system_prompt": "x" * 8_001}):
        response = await alice.client.patch(f"/api/conversations/{conversation_id}", json=bad)
        assert response.status_code == 422, bad


async def test_regenerate_streams_a_new_version_under_the_same_question(live_app, make_account, fake_ollama):
    fake_ollama.then(Script(tokens=["first"]), Script(tokens=["sec", "ond"]))
    alice = await make_account()
    conversation_id = await alice.new_conversation()
    async with alice.socket(live_app, conversation_id) as ws:
        await ws.send(json.dumps({"type": "message", "content": "question"}))
        _, first = await until_done(ws)
        await ws.send(json.dumps({"type": "regenerate"}))
        tokens, done = await until_done(ws)
    assert [f["token"] for f in tokens] == ["sec", "ond"] and done["status"] == "done" and done["tokens"] == 2
    assert [m["content"] for m in fake_ollama.requests[-1]["messages"]] == ["question"]
    question, reply = (await detail(alice, conversation_id))["messages"]
    assert done["parent_id"] == first["parent_id"] == question["id"] == reply["parent_id"]
    assert reply["id"] == done["message_id"] and reply["content"] == "second"
    assert (reply["sibling_ids"], reply["sibling_index"]) == ([first["message_id"], done["message_id"]], 1)
    everything = await detail(alice, conversation_id, tree="true")
    assert [m["content"] for m in everything["messages"]] == ["question", "first", "second"]


async def test_regenerate_retries_an_error_with_another_model(live_app, make_account, fake_ollama, fake_anthropic):
    fake_ollama.then(Script(tokens=["par", "tial"], error_after=1, error="GPU on fire"))
    fake_anthropic.then(Script(tokens=["fine"]))
    alice = await make_account()
    conversation_id = await alice.new_conversation()
    async with alice.socket(live_app, conversation_id) as ws:
        await ws.send(json.dumps({"type": "message", "content": "go"}))
        frames, failed = await until_done(ws)
        assert failed["status"] == "error" and frames[-1]["code"] == "provider_error"
        await ws.send(json.dumps({"type": "regenerate", "model": CLAUDE}))
        _, retried = await until_done(ws)
        await ws.send(json.dumps({"type": "regenerate", "model": 5}))
        assert (await frame(ws))["code"] == "invalid_model"
    assert retried["status"] == "done"
    messages = (await detail(alice, conversation_id))["messages"]
    assert [m["content"] for m in messages] == ["go", "fine"] and messages[1]["model"] == CLAUDE
    assert (await detail(alice, conversation_id))["model"] == "ollama:llama3.2:3b"  # the conversation's stays


async def test_edit_adds_a_version_and_streams_its_reply(live_app, make_account, fake_ollama):
    fake_ollama.then(Script(tokens=["A1"]), Script(tokens=["A2"]), Script(tokens=["B2"]))
    alice = await make_account()
    conversation_id = await alice.new_conversation()
    async with alice.socket(live_app, conversation_id) as ws:
        for content in ("one", "two"):
            await ws.send(json.dumps({"type": "message", "content": content}))
            await until_done(ws)
        two = (await detail(alice, conversation_id))["messages"][2]
        await ws.send(json.dumps({"type": "edit", "message_id": two["id"], "content": "deux"}))
        tokens, done = await until_done(ws)
    assert [f["token"] for f in tokens] == ["B2"] and done["status"] == "done"
    assert [m["content"] for m in fake_ollama.requests[-1]["messages"]] == ["one", "A1", "deux"]
    messages = (await detail(alice, conversation_id))["messages"]
    assert [m["content"] for m in messages] == ["one", "A1", "deux", "B2"]
    assert done["parent_id"] == messages[2]["id"] and messages[2]["parent_id"] == two["parent_id"]
    assert (messages[2]["sibling_ids"], messages[2]["sibling_index"]) == ([two["id"], messages[2]["id"]], 1)


async def test_edit_refusals_are_error_frames_and_save_nothing(live_app, make_account, fake_ollama):
    alice, bob = await make_account(), await make_account()
    conversation_id = await alice.new_conversation()
    bobs_id = await bob.new_conversation()
    async with bob.socket(live_app, bobs_id) as ws:
        await ws.send(json.dumps({"type": "message", "content": "bob's"}))
        await until_done(ws)
    bobs_message = (await detail(bob, bobs_id))["messages"][0]["id"]
    async with alice.socket(live_app, conversation_id) as ws:
        await ws.send(json.dumps({"type": "regenerate"}))
        assert (await frame(ws))["code"] == "nothing_to_regenerate"
        await ws.send(json.dumps({"type": "message", "content": "mine"}))
        await until_done(ws)
        mine, reply = (await detail(alice, conversation_id))["messages"]
        for bad, code in [
            ({"message_id": "00000000-0000-4000-8000-000000000000", "content": "x"}, "not_found"),
            ({"message_id": bobs_message, "content": "x"}, "not_found"),
            ({"message_id": reply["id"], "content": "x"}, "not_found"),  # an assistant message
            ({"message_id": 7, "content": "x"}, "not_found"),
            ({"message_id": mine["id"], "content": "  "}, "empty_message"),
            ({"message_id": mine["id"], "content": "x" * 32_001}, "message_too_long"),
            ({"message_id": mine["id"], "content": None}, "invalid_message"),
        ]:
            await ws.send(json.dumps({"type": "edit", **bad}))
            error = await frame(ws)
            assert (error["type"], error["code"]) == ("error", code), bad
        fake_ollama.then(SLOW)
        await ws.send(json.dumps({"type": "message", "content": "slow one"}))
        assert (await frame(ws))["type"] == "token"
        await ws.send(json.dumps({"type": "edit", "message_id": mine["id"], "content": "while busy"}))
        await ws.send(json.dumps({"type": "regenerate"}))
        frames, _ = await until_done(ws)
    assert [f["code"] for f in frames if f["type"] == "error"] == ["busy", "busy"]
    everything = (await detail(alice, conversation_id, tree="true"))["messages"]
    assert [m["content"] for m in everything if m["role"] == "user"] == ["mine", "slow one"]
    assert len((await detail(bob, bobs_id, tree="true"))["messages"]) == 2


async def test_a_regenerated_reply_is_followed_replayed_and_stopped_like_any(live_app, make_account, fake_ollama):
    fake_ollama.then(Script(tokens=["first"]), SLOW)
    alice = await make_account()
    conversation_id = await alice.new_conversation()
    async with alice.socket(live_app, conversation_id) as ws:
        await ws.send(json.dumps({"type": "message", "content": "q"}))
        await until_done(ws)
        await ws.send(json.dumps({"type": "regenerate"}))
        early = [await frame(ws) for _ in range(5)]
        async with alice.socket(live_app, conversation_id) as late:
            replayed = await frame(late)
            assert replayed["replay"] is True and replayed["message_id"] == early[0]["message_id"]
            await late.send(json.dumps({"type": "stop"}))
            late_tokens, late_done = await until_done(late)
        tokens, done = await until_done(ws)
    assert done["status"] == late_done["status"] == "cancelled"
    assert done["tokens"] == len(early) + len(tokens) == 1 + len(late_tokens)
    reply = (await detail(alice, conversation_id))["messages"][1]
    assert reply["status"] == "cancelled" and reply["content"] == "".join(f["token"] for f in early + tokens)


async def test_switching_versions_over_patch_answers_the_new_path(live_app, make_account, fake_ollama):
    fake_ollama.then(Script(tokens=["A1"]), Script(tokens=["A2"]), Script(tokens=["B1"]))
    alice = await make_account()
    conversation_id = await alice.new_conversation()
    async with alice.socket(live_app, conversation_id) as ws:
        for content in ("one", "two"):
            await ws.send(json.dumps({"type": "message", "content": content}))
            await until_done(ws)
        one = (await detail(alice, conversation_id))["messages"][0]
        await ws.send(json.dumps({"type": "edit", "message_id": one["id"], "content": "uno"}))
        await until_done(ws)
    assert await contents(alice, conversation_id) == ["uno", "B1"]
    switched = await alice.client.patch(f"/api/conversations/{conversation_id}", json={"active_message_id": one["id"]})
    assert switched.status_code == 200
    assert [m["content"] for m in switched.json()["messages"]] == ["one", "A1", "two", "A2"]
    assert await contents(alice, conversation_id) == ["one", "A1", "two", "A2"]
    missing = await alice.client.patch(
        f"/api/conversations/{conversation_id}", json={"active_message_id": "00000000-0000-4000-8000-000000000000"}
    )
    assert missing.status_code == 404
    renamed = await alice.client.patch(f"/api/conversations/{conversation_id}", json={"title": "Only a title"})
    assert renamed.json()["messages"] is None  # the path is sent only when it changed


async def test_pages_of_the_active_path_come_with_a_cursor(live_app, make_account, fake_ollama):
    alice = await make_account()
    conversation_id = await alice.new_conversation()
    async with alice.socket(live_app, conversation_id) as ws:
        for index in range(4):
            fake_ollama.then(Script(tokens=[f"a{index}"]))
            await ws.send(json.dumps({"type": "message", "content": f"q{index}"}))
            await until_done(ws)
    whole = await detail(alice, conversation_id)
    assert whole["cursor"] == {"before": None, "after": None} and len(whole["messages"]) == 8
    newest = await detail(alice, conversation_id, limit="3")
    assert [m["content"] for m in newest["messages"]] == ["a2", "q3", "a3"]
    assert newest["cursor"] == {"before": newest["messages"][0]["id"], "after": None}
    older = await detail(alice, conversation_id, limit="3", before=newest["cursor"]["before"])
    assert [m["content"] for m in older["messages"]] == ["q1", "a1", "q2"]
    oldest = await detail(alice, conversation_id, limit="3", before=older["cursor"]["before"])
    assert [m["content"] for m in oldest["messages"]] == ["q0", "a0"] and oldest["cursor"]["before"] is None
    newer = await detail(alice, conversation_id, limit="2", after=oldest["messages"][0]["id"])
    assert [m["content"] for m in newer["messages"]] == ["a0", "q1"] and newer["cursor"]["after"]
    for params in ({"limit": "0"}, {"limit": "2", "after": "nope"}, {"before": "a", "after": "b"}):
        status = (await alice.client.get(f"/api/conversations/{conversation_id}", params=params)).status_code
        assert status in (404, 422), params


async def test_default_system_prompt_in_account_settings(live_app, make_account, fake_ollama):
    alice = await make_account()
    assert (await alice.client.get("/api/settings")).json()["default_system_prompt"] is None
    saved = await alice.client.patch("/api/settings", json={"default_system_prompt": "Answer in French."})
    assert saved.json()["default_system_prompt"] == "Answer in French."
    conversation_id = await alice.new_conversation()
    assert (await detail(alice, conversation_id))["system_prompt"] == "Answer in French."
    assert (await alice.client.patch("/api/settings", json={"default_system_prompt": "x" * 8_001})).status_code == 422
    cleared = await alice.client.patch("/api/settings", json={"default_system_prompt": None})
    assert cleared.json()["default_system_prompt"] is None
