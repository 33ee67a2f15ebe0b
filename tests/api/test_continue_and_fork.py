"""Chat settings, Continue and Fork through the API and `/ws`, each provider's wire checked by its fake (issue 29).

A live server with fake Ollama, OpenAI-compatible and Anthropic servers: what a client sends (REST and frames) and
what each provider is sent for it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from providers.base import CONTINUE_INSTRUCTION
from testing.fakes.anthropic import FakeAnthropic
from testing.fakes.openai import FakeOpenAI
from testing.fakes.server import Script, ScriptedProvider, ThreadedServer
from testing.live import LiveApp, all_providers_app
from tests.api.conftest import Account
from tests.api.test_tree_ws import detail, frame, until_done

CLAUDE = "anthropic:claude-haiku-4-5"
GPT = "openai:gpt-4o-mini"
SETTINGS = {
    "system_prompt": "Answer in French.\nBe brief.",
    "temperature": 0.5,
    "max_tokens": 64,
    "top_p": 0.8,
    "seed": 7,
}


@pytest.fixture(scope="module")
def live_app(
    tmp_path_factory: pytest.TempPathFactory,
    ollama_server: tuple[ScriptedProvider, ThreadedServer],
    openai_server: tuple[FakeOpenAI, ThreadedServer],
    anthropic_server: tuple[FakeAnthropic, ThreadedServer],
) -> Iterator[LiveApp]:
    yield from all_providers_app(
        tmp_path_factory,
        ollama_server[1].url,
        openai_server[1].url,
        anthropic_server[1].url,
        "continue",
    )


async def ask(account: Account, live_app: LiveApp, conversation_id: str, frame_: dict) -> tuple[list[dict], dict]:
    async with account.socket(live_app, conversation_id) as ws:
        await ws.send(json.dumps(frame_))
        return await until_done(ws)


# -- chat settings ------------------------------------------------------------------------------------------------


async def test_settings_given_at_creation_reach_ollama_and_are_shown(live_app, make_account, fake_ollama):
    alice = await make_account()
    created = await alice.client.post("/api/conversations", json=SETTINGS)
    assert created.status_code == 201
    assert {name: created.json()[name] for name in SETTINGS} == SETTINGS
    await ask(alice, live_app, created.json()["id"], {"type": "message", "content": "hi"})
    sent = fake_ollama.requests[-1]
    assert sent["messages"][0] == {"role": "system", "content": "Answer in French.\nBe brief."}
    assert sent["options"] == {"temperature": 0.5, "num_predict": 64, "top_p": 0.8, "seed": 7}
    shown = await detail(alice, created.json()["id"])
    assert {name: shown[name] for name in SETTINGS} == SETTINGS


async def test_patched_settings_reach_openai_and_anthropic_under_their_names(
    live_app, make_account, fake_openai, fake_anthropic
):
    alice = await make_account()
    conversation_id = await alice.new_conversation(model=GPT)
    patched = await alice.client.patch(f"/api/conversations/{conversation_id}", json=SETTINGS)
    assert patched.status_code == 200
    await ask(alice, live_app, conversation_id, {"type": "message", "content": "hi"})
    sent = fake_openai.requests[-1]
    assert (sent["max_tokens"], sent["top_p"], sent["seed"], sent["temperature"]) == (64, 0.8, 7, 0.5)
    await alice.client.patch(f"/api/conversations/{conversation_id}", json={"model": CLAUDE})
    await ask(alice, live_app, conversation_id, {"type": "message", "content": "again"})
    sent = fake_anthropic.requests[-1]
    assert (sent["max_tokens"], sent["top_p"], sent["temperature"]) == (64, 0.8, 0.5) and "seed" not in sent
    cleared = await alice.client.patch(
        f"/api/conversations/{conversation_id}", json={"max_tokens": None, "top_p": None, "seed": None}
    )
    assert [cleared.json()[name] for name in ("max_tokens", "top_p", "seed")] == [None, None, None]


@pytest.mark.parametrize(
    "bad",
    [
        {"max_tokens": 0},
        {"max_tokens": 1.5},
        {"max_tokens": "64"},
        {"top_p": 0},
        {"top_p": 1.2},
        {"seed": -1},
        {"seed": 2**31},
        {"seed": True},
    ],
)
async def test_settings_out_of_range_are_refused_and_nothing_changes(live_app, make_account, bad):
    alice = await make_account()
    conversation_id = await alice.new_conversation()
    assert (await alice.client.patch(f"/api/conversations/{conversation_id}", json=bad)).status_code == 422
    assert (await alice.client.post("/api/conversations", json=bad)).status_code == 422
    shown = await detail(alice, conversation_id)
    assert (shown["max_tokens"], shown["top_p"], shown["seed"]) == (None, None, None)


# -- Continue -----------------------------------------------------------------------------------------------------


async def test_continue_a_cut_off_reply_prefills_ollama_and_appends_to_the_same_message(
    live_app, make_account, fake_ollama
):
    fake_ollama.then(Script(tokens=["The answer ", "is "], cut_off=True, completion_tokens=3), Script(tokens=[" 42."]))
    alice = await make_account()
    conversation_id = await alice.new_conversation()
    _, first = await ask(alice, live_app, conversation_id, {"type": "message", "content": "What is it?"})
    reply = (await detail(alice, conversation_id))["messages"][1]
    assert reply["cut_off"] is True and reply["content"] == "The answer is "
    tokens, done = await ask(alice, live_app, conversation_id, {"type": "continue"})
    assert [t["token"] for t in tokens] == [" 42."]  # only the new text
    assert done["message_id"] == first["message_id"] and done["status"] == "done"
    # the partial reply is the open last turn (its trailing blank trimmed): Ollama continues it
    assert fake_ollama.requests[-1]["messages"][-2:] == [
        {"role": "user", "content": "What is it?"},
        {"role": "assistant", "content": "The answer is"},
    ]
    messages = (await detail(alice, conversation_id))["messages"]
    assert len(messages) == 2  # no new message
    assert messages[1]["content"] == "The answer is 42." and messages[1]["cut_off"] is False
    assert messages[1]["usage"]["completion_tokens"] == 3 + 1  # both runs


async def test_continue_on_openai_asks_with_an_instruction_after_the_partial_reply(live_app, make_account, fake_openai):
    fake_openai.then(Script(tokens=["Once upon"], cut_off=True), Script(tokens=[" a time."]))
    alice = await make_account()
    conversation_id = await alice.new_conversation(model=GPT)
    await ask(alice, live_app, conversation_id, {"type": "message", "content": "A story"})
    await ask(alice, live_app, conversation_id, {"type": "continue"})
    assert fake_openai.requests[-1]["messages"][-2:] == [
        {"role": "assistant", "content": "Once upon"},
        {"role": "user", "content": CONTINUE_INSTRUCTION},
    ]
    assert (await detail(alice, conversation_id))["messages"][1]["content"] == "Once upon a time."


async def test_continue_a_stopped_anthropic_reply_is_a_prefill_and_stop_mid_continue_keeps_both_parts(
    live_app, make_account, fake_anthropic
):
    fake_anthropic.then(
        Script(tokens=[f"w{i} " for i in range(40)], delay=0.02),
        Script(tokens=[f"x{i} " for i in range(200)], delay=0.02),
    )
    alice = await make_account()
    conversation_id = await alice.new_conversation(model=CLAUDE)
    async with alice.socket(live_app, conversation_id) as ws:
        await ws.send(json.dumps({"type": "message", "content": "Count"}))
        while (await frame(ws))["type"] != "token":
            pass
        await ws.send(json.dumps({"type": "stop"}))
        _, stopped = await until_done(ws)
        assert stopped["status"] == "cancelled"
        kept = (await detail(alice, conversation_id))["messages"][1]["content"]
        await ws.send(json.dumps({"type": "continue"}))
        seen = 0
        while seen < 3:  # some of the continuation has arrived
            seen += (await frame(ws))["type"] == "token"
        await ws.send(json.dumps({"type": "stop"}))
        _, done = await until_done(ws)
    sent = fake_anthropic.requests[-1]
    assert sent["messages"][-1] == {"role": "assistant", "content": kept.rstrip()}  # the prefill, no trailing blank
    assert done["status"] == "cancelled" and done["message_id"] == stopped["message_id"]
    reply = (await detail(alice, conversation_id))["messages"][1]
    assert reply["content"].startswith(kept.rstrip() + "x0 x1 x2") and reply["status"] == "cancelled"


async def test_a_page_reloaded_mid_continue_sees_the_whole_reply_so_far(live_app, make_account, fake_ollama):
    rest = Script(tokens=[f" t{i}" for i in range(100)], delay=0.02)
    fake_ollama.then(Script(tokens=["Part one."], cut_off=True), rest)
    alice = await make_account()
    conversation_id = await alice.new_conversation()
    await ask(alice, live_app, conversation_id, {"type": "message", "content": "Go"})
    async with alice.socket(live_app, conversation_id) as ws:
        await ws.send(json.dumps({"type": "continue"}))
        while (await frame(ws))["type"] != "token":
            pass
        # a client arriving now (a reload) reads the stored reply with the live text: both runs, no gap
        shown = (await detail(alice, conversation_id))["messages"][1]
        assert shown["content"].startswith("Part one. t0") and shown["status"] == "streaming"
        _, done = await until_done(ws)
    assert done["status"] == "done"
    final = (await detail(alice, conversation_id))["messages"][1]["content"]
    assert final == "Part one." + "".join(f" t{i}" for i in range(100))


async def test_continue_with_nothing_to_continue_is_an_error_frame_and_nothing_changes(
    live_app, make_account, fake_ollama
):
    alice = await make_account()
    conversation_id = await alice.new_conversation()
    async with alice.socket(live_app, conversation_id) as ws:
        await ws.send(json.dumps({"type": "continue"}))
        refused = await frame(ws)
    assert refused["code"] == "nothing_to_continue" and refused["type"] == "error"
    assert (await detail(alice, conversation_id))["messages"] == [] and fake_ollama.requests == []


# -- Fork ---------------------------------------------------------------------------------------------------------


async def test_fork_copies_the_path_down_to_a_message_with_the_settings_and_leaves_the_original(
    live_app, make_account, fake_ollama
):
    fake_ollama.then(Script(tokens=["one"]), Script(tokens=["two"]))
    alice = await make_account()
    original = (await alice.client.post("/api/conversations", json={"title": "Plans", **SETTINGS})).json()["id"]
    await ask(alice, live_app, original, {"type": "message", "content": "first"})
    await ask(alice, live_app, original, {"type": "message", "content": "second"})
    before = (await detail(alice, original))["messages"]
    forked = await alice.client.post(f"/api/conversations/{original}/fork", json={"message_id": before[1]["id"]})
    assert forked.status_code == 201
    fork = forked.json()
    assert fork["id"] != original and fork["title"] == "Plans (fork)"
    assert {name: fork[name] for name in SETTINGS} == SETTINGS
    copied = (await detail(alice, fork["id"]))["messages"]
    assert [(m["role"], m["content"]) for m in copied] == [("user", "first"), ("assistant", "one")]
    assert {m["id"] for m in copied}.isdisjoint(m["id"] for m in before)
    assert copied[1]["parent_id"] == copied[0]["id"]
    assert (await detail(alice, original))["messages"] == before  # unchanged
    listed = (await alice.client.get("/api/conversations")).json()
    assert listed[0]["id"] == fork["id"]  # the newest
    # the fork goes on by itself: its next reply is asked with its own path only
    fake_ollama.then(Script(tokens=["three"]))
    await ask(alice, live_app, fork["id"], {"type": "message", "content": "other"})
    assert [m["content"] for m in fake_ollama.requests[-1]["messages"][1:]] == ["first", "one", "other"]


async def test_fork_of_someone_elses_conversation_or_message_is_not_found(live_app, make_account, fake_ollama):
    alice, bob = await make_account(), await make_account()
    conversation_id = await alice.new_conversation()
    await ask(alice, live_app, conversation_id, {"type": "message", "content": "secret"})
    message_id = (await detail(alice, conversation_id))["messages"][0]["id"]
    other = await bob.new_conversation()
    assert (
        await bob.client.post(f"/api/conversations/{conversation_id}/fork", json={"message_id": message_id})
    ).status_code == 404
    assert (
        await bob.client.post(f"/api/conversations/{other}/fork", json={"message_id": message_id})
    ).status_code == 404
    assert [c["id"] for c in (await bob.client.get("/api/conversations")).json()] == [other]  # nothing made
