"""Reasoning you can watch, over `/ws` on a live server (issue 24): each wire format through its real client, the
`reasoning` frames before the answer's tokens, what is stored, re-attach mid-reasoning, stop, and a crash."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from testing.fakes.anthropic import FakeAnthropic
from testing.fakes.ollama import FakeOllama
from testing.fakes.openai import FakeOpenAI
from testing.fakes.server import Script, ThreadedServer
from testing.live import LiveApp, all_providers_app
from tests.api.conftest import Account

THOUGHTS = ["1,001 = 7", " × 11 × 13,", " so it is not prime."]
ANSWER = ["No", ": 7 × 11 × 13."]


@pytest.fixture(scope="module")
def live_app(
    tmp_path_factory: pytest.TempPathFactory,
    ollama_server: tuple[FakeOllama, ThreadedServer],
    openai_server: tuple[FakeOpenAI, ThreadedServer],
    anthropic_server: tuple[FakeAnthropic, ThreadedServer],
) -> Iterator[LiveApp]:
    """A server with all three network providers, each pointed at its fake."""
    yield from all_providers_app(
        tmp_path_factory,
        ollama_server[1].url,
        openai_server[1].url,
        anthropic_server[1].url,
        "reasoning",
    )


async def say(ws: ClientConnection, content: str) -> None:
    await ws.send(json.dumps({"type": "message", "content": content}))


async def frames_until_done(ws: ClientConnection) -> list[dict]:
    frames = []
    while True:
        frame = json.loads(await ws.recv())
        frames.append(frame)
        if frame["type"] == "done":
            return frames


def of_type(frames: list[dict], kind: str, field: str) -> list[str]:
    return [f[field] for f in frames if f["type"] == kind]


@pytest.mark.parametrize(
    ("model", "fake_name"),
    [
        ("ollama:llama3.2:3b", "fake_ollama"),
        ("openai:gpt-4o-mini", "fake_openai"),
        ("anthropic:claude-haiku-4-5", "fake_anthropic"),
    ],
)
async def test_reasoning_streams_before_the_answer_and_is_stored_apart(
    live_app, make_account, request: pytest.FixtureRequest, model: str, fake_name: str
):
    fake = request.getfixturevalue(fake_name)
    fake.then(Script(thinking=THOUGHTS, tokens=ANSWER))
    alice = await make_account()
    conversation_id = await alice.new_conversation(model=model)
    async with alice.socket(live_app, conversation_id) as ws:
        await say(ws, "Is 1,001 prime?")
        frames = await frames_until_done(ws)
    kinds = [f["type"] for f in frames]
    assert kinds == ["reasoning"] * 3 + ["token"] * 2 + ["done"], kinds
    assert of_type(frames, "reasoning", "content") == THOUGHTS
    assert of_type(frames, "token", "token") == ANSWER
    done = frames[-1]
    assert all(f["message_id"] == done["message_id"] for f in frames)
    assert done["tokens"] == 2 and done["status"] == "done"  # token frames only, as before
    reply = (await alice.messages(conversation_id))[-1]
    assert reply["content"] == "".join(ANSWER)
    assert reply["reasoning"]["text"] == "".join(THOUGHTS)
    assert reply["reasoning"]["seconds"] >= 0


async def test_reasoning_is_not_sent_back_to_the_model(live_app, make_account, fake_openai: FakeOpenAI):
    fake_openai.then(Script(thinking=THOUGHTS, tokens=ANSWER), Script(tokens=["Yes."]))
    alice = await make_account()
    conversation_id = await alice.new_conversation(model="openai:gpt-4o-mini")
    async with alice.socket(live_app, conversation_id) as ws:
        await say(ws, "Is 1,001 prime?")
        await frames_until_done(ws)
        await say(ws, "Is 13 a factor?")
        await frames_until_done(ws)
    history = fake_openai.requests[-1]["messages"]
    assert [m["role"] for m in history] == ["user", "assistant", "user"]
    assert history[1]["content"] == "".join(ANSWER)
    assert not any("so it is not prime" in json.dumps(m) for m in history)


async def test_a_socket_that_attaches_mid_reasoning_gets_it_replayed_then_live(
    live_app, make_account, fake_ollama: FakeOllama
):
    thoughts = [f"step {i}. " for i in range(40)]
    fake_ollama.then(Script(thinking=thoughts, tokens=ANSWER, delay=0.02))
    alice = await make_account()
    conversation_id = await alice.new_conversation()
    async with alice.socket(live_app, conversation_id) as first:
        await say(first, "think it through")
        early = [json.loads(await first.recv()) for _ in range(5)]
        assert of_type(early, "reasoning", "content") == thoughts[:5]
        async with alice.socket(live_app, conversation_id) as late:  # the tab was reloaded mid-reasoning
            late_frames = await frames_until_done(late)
        rest = await frames_until_done(first)
    assert of_type(late_frames, "reasoning", "content") == thoughts  # nothing missing, nothing twice
    assert of_type(early + rest, "reasoning", "content") == thoughts
    replayed = [f for f in late_frames if f.get("replay")]
    assert len(replayed) >= 5 and late_frames[: len(replayed)] == replayed
    assert all(f["type"] == "reasoning" for f in replayed)
    assert of_type(late_frames, "token", "token") == ANSWER


async def test_stop_while_thinking_keeps_the_reasoning(live_app, make_account, fake_ollama: FakeOllama):
    thoughts = [f"step {i}. " for i in range(200)]
    fake_ollama.then(Script(thinking=thoughts, tokens=ANSWER, delay=0.02))
    alice = await make_account()
    conversation_id = await alice.new_conversation()
    async with alice.socket(live_app, conversation_id) as ws:
        await say(ws, "think it through")
        seen = [json.loads(await ws.recv())["content"] for _ in range(5)]
        await ws.send(json.dumps({"type": "stop"}))
        frames = await frames_until_done(ws)
    assert frames[-1]["status"] == "cancelled"
    streamed = "".join(seen + of_type(frames, "reasoning", "content"))
    reply = (await alice.messages(conversation_id))[-1]
    assert reply["status"] == "cancelled" and reply["content"] == ""
    assert reply["reasoning"]["text"] == streamed and streamed.startswith("step 0. step 1. ")


async def test_sigkill_mid_reasoning_keeps_the_checkpointed_reasoning(tmp_path, ollama_server, fake_ollama):
    _, ollama = ollama_server
    data_dir = tmp_path / "data"
    env = {"OLLAMA_BASE_URL": ollama.url}
    fake_ollama.then(Script(thinking=[f"t{i} " for i in range(1000)], tokens=ANSWER, delay=0.01))
    app = LiveApp(data_dir, env).start()
    received: list[tuple[float, str]] = []
    try:
        async with httpx.AsyncClient(base_url=app.url) as client:
            account = await Account.sign_up(client, "thinker")
            conversation_id = await account.new_conversation()
            async with connect(f"{app.ws_url}/ws/{conversation_id}", additional_headers=account.cookie_header) as ws:
                await say(ws, "think a lot")
                started = time.monotonic()
                while time.monotonic() - started < 2.5:  # at least two checkpoints pass
                    frame = json.loads(await ws.recv())
                    assert frame["type"] == "reasoning"
                    received.append((time.monotonic(), frame["content"]))
                killed_at = time.monotonic()
                app.kill()
    finally:
        app.kill()
    streamed = "".join(text for _, text in received)
    a_second_before = "".join(text for at, text in received if at <= killed_at - 1.1)
    assert a_second_before, "too little streamed before the kill"
    with sqlite3.connect(data_dir / "database.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    restarted = LiveApp(data_dir, env).start()
    try:
        async with httpx.AsyncClient(base_url=restarted.url) as client:
            await client.post("/api/auth/login", json={"username": "thinker", "password": "password123"})
            reply = (await client.get(f"/api/conversations/{conversation_id}")).json()["messages"][-1]
    finally:
        restarted.stop()
    assert reply["status"] == "interrupted" and reply["content"] == ""
    kept = reply["reasoning"]["text"]
    assert kept.startswith(a_second_before) and streamed.startswith(kept)


# -- the Think control: `PATCH /api/conversations/{id}` {"reasoning_effort"} -----------------------------------------


async def test_think_effort_reaches_each_wire_as_its_own_setting(
    live_app, make_account, fake_ollama: FakeOllama, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
):
    """low / medium / high → Ollama's `think` level (true for a model without levels), OpenAI's `reasoning_effort`,
    Anthropic's thinking `budget_tokens` (added to `max_tokens`, which must stay above it)."""
    fake_ollama.models = ["gpt-oss:20b", "qwen3:8b", "llama3.2:3b"]
    fake_ollama.thinking_models = {"gpt-oss:20b": ["low", "medium", "high"], "qwen3:8b": [False, True]}
    alice = await make_account()
    conversation_id = await alice.new_conversation(model="ollama:gpt-oss:20b")
    url = f"/api/conversations/{conversation_id}"
    patched = await alice.client.patch(url, json={"reasoning_effort": "high"})
    assert patched.status_code == 200 and patched.json()["reasoning_effort"] == "high"
    assert (await alice.client.get(url)).json()["reasoning_effort"] == "high"
    sent = []
    for model in ("ollama:gpt-oss:20b", "ollama:qwen3:8b", "ollama:llama3.2:3b"):
        await alice.client.patch(url, json={"model": model})
        async with alice.socket(live_app, conversation_id) as ws:
            await say(ws, "think")
            assert (await frames_until_done(ws))[-1]["status"] == "done"
        sent.append(fake_ollama.requests[-1].get("think", "absent"))
    assert sent == ["high", True, "absent"]  # a level, a model without levels, a model that cannot think

    await alice.client.patch(url, json={"model": "openai:gpt-4o-mini", "reasoning_effort": "low"})
    async with alice.socket(live_app, conversation_id) as ws:
        await say(ws, "think")
        await frames_until_done(ws)
    assert fake_openai.requests[-1]["reasoning_effort"] == "low"

    await alice.client.patch(url, json={"model": "anthropic:claude-sonnet-4-5", "reasoning_effort": "medium"})
    async with alice.socket(live_app, conversation_id) as ws:
        await say(ws, "think")
        assert (await frames_until_done(ws))[-1]["status"] == "done"
    request = fake_anthropic.requests[-1]
    assert request["thinking"] == {"type": "enabled", "budget_tokens": 4096}
    assert request["max_tokens"] > 4096

    cleared = await alice.client.patch(url, json={"reasoning_effort": None})
    assert cleared.json()["reasoning_effort"] is None
    async with alice.socket(live_app, conversation_id) as ws:
        await say(ws, "no thinking asked")
        await frames_until_done(ws)
    assert "thinking" not in fake_anthropic.requests[-1]


@pytest.mark.parametrize("bad", ["max", "", "HIGH", 2, True, ["low"]])
async def test_a_think_effort_other_than_low_medium_high_or_null_is_422(live_app, make_account, bad):
    alice = await make_account()
    conversation_id = await alice.new_conversation()
    url = f"/api/conversations/{conversation_id}"
    assert (await alice.client.patch(url, json={"reasoning_effort": bad})).status_code == 422
    assert (await alice.client.post("/api/conversations", json={"reasoning_effort": bad})).status_code == 422
    assert (await alice.client.get(url)).json()["reasoning_effort"] is None


async def test_think_effort_of_another_users_conversation_is_404_and_unchanged(live_app, make_account):
    alice, mallory = await make_account(), await make_account()
    conversation_id = await alice.new_conversation()
    url = f"/api/conversations/{conversation_id}"
    assert (await mallory.client.patch(url, json={"reasoning_effort": "high"})).status_code == 404
    assert (await alice.client.get(url)).json()["reasoning_effort"] is None


async def test_a_new_conversation_and_its_fork_keep_the_think_effort(live_app, make_account, fake_ollama: FakeOllama):
    alice = await make_account()
    created = await alice.client.post("/api/conversations", json={"reasoning_effort": "low"})
    assert created.json()["reasoning_effort"] == "low"
    conversation_id = created.json()["id"]
    async with alice.socket(live_app, conversation_id) as ws:
        await say(ws, "hi")
        await frames_until_done(ws)
    last = (await alice.messages(conversation_id))[-1]["id"]
    fork = await alice.client.post(f"/api/conversations/{conversation_id}/fork", json={"message_id": last})
    assert fork.json()["reasoning_effort"] == "low"
