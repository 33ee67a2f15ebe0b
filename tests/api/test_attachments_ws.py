"""Sending files with a message over `/ws` (and with an edit): stored as the message's parts, listed by REST, a
foreign or missing file refused like a foreign conversation, the per-message limit, edit keeping or changing them."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

import pytest

from testing import attachments
from testing.fakes.server import Script, ScriptedProvider, ThreadedServer
from testing.live import LiveApp, module_app
from tests.api.conftest import Account
from tests.api.test_tree_ws import detail, frame, until_done


@pytest.fixture(scope="module")
def live_app(
    tmp_path_factory: pytest.TempPathFactory, ollama_server: tuple[ScriptedProvider, ThreadedServer]
) -> Iterator[LiveApp]:
    yield from module_app(tmp_path_factory, ollama_server[1].url, "attach", CHATUI_ATTACHMENTS_PER_MESSAGE="3")


@pytest.fixture(autouse=True)
def a_model_that_sees(fake_ollama) -> None:
    """The default model sees images here (a model that cannot is refused: tests/api/test_attachments_providers.py)."""
    fake_ollama.vision_models = {"llama3.2:3b"}


async def upload(account: Account, name: str, content: bytes) -> dict:
    response = await account.client.post("/api/files", files={"file": (name, content, "application/octet-stream")})
    assert response.status_code == 201, response.text
    return dict(response.json())


def listed(file: dict, note: str | None = None) -> dict:
    """The file as a message lists it: what the upload answered, and the note on what the model was not sent."""
    return {**{key: file[key] for key in ("id", "name", "media_type", "size")}, "note": note}


def stored(live_app: LiveApp, sql: str, *params: str) -> list[tuple]:
    with sqlite3.connect(live_app.data_dir / "database.db") as raw:
        return raw.execute(sql, params).fetchall()


async def test_files_sent_with_a_message_are_its_parts_in_order_and_listed_by_rest(live_app, make_account, fake_ollama):
    fake_ollama.then(Script(tokens=["A red square."]))
    alice = await make_account()
    image, notes = await upload(alice, "square.png", attachments.png()), await upload(alice, "notes.txt", b"hello")
    conversation_id = await alice.new_conversation()
    async with alice.socket(live_app, conversation_id) as ws:
        frames = {"type": "message", "content": "What is this?", "attachments": [image["id"], notes["id"]]}
        await ws.send(json.dumps(frames))
        _, done = await until_done(ws)
    assert done["status"] == "done"
    question, reply = (await detail(alice, conversation_id))["messages"]
    assert question["content"] == "What is this?"
    assert question["attachments"] == [listed(image), listed(notes)]
    assert reply["attachments"] == []
    parts = stored(
        live_app, "SELECT kind, text, file_id FROM message_parts WHERE message_id = ? ORDER BY position", question["id"]
    )
    assert parts == [("text", "What is this?", None), ("file", None, image["id"]), ("file", None, notes["id"])]
    attached = stored(
        live_app, "SELECT attached_at IS NOT NULL FROM files WHERE id IN (?, ?)", image["id"], notes["id"]
    )
    assert attached == [(1,), (1,)]


async def test_files_alone_make_a_message(live_app, make_account, fake_ollama):
    fake_ollama.then(Script(tokens=["A picture."]))
    alice = await make_account()
    image = await upload(alice, "square.png", attachments.png())
    conversation_id = await alice.new_conversation()
    async with alice.socket(live_app, conversation_id) as ws:
        await ws.send(json.dumps({"type": "message", "content": "", "attachments": [image["id"]]}))
        await until_done(ws)
        await ws.send(json.dumps({"type": "message", "content": "  ", "attachments": []}))
        assert (await frame(ws))["code"] == "empty_message"
    question, _ = (await detail(alice, conversation_id))["messages"]
    assert (question["content"], question["attachments"]) == ("", [listed(image)])


async def test_someone_elses_or_a_missing_file_is_refused_and_nothing_is_saved(live_app, make_account, fake_ollama):
    alice, bob = await make_account(), await make_account()
    bobs = await upload(bob, "private.txt", b"bob's secret")
    mine = await upload(alice, "mine.txt", b"mine")
    conversation_id = await alice.new_conversation()
    async with alice.socket(live_app, conversation_id) as ws:
        for ids in ([bobs["id"]], [mine["id"], "00000000-0000-4000-8000-000000000000"]):
            await ws.send(json.dumps({"type": "message", "content": "look", "attachments": ids}))
            refused = await frame(ws)
            assert refused["type"] == "error" and refused["code"] == "not_found", refused
            assert "secret" not in json.dumps(refused) and "private" not in json.dumps(refused)
        for bad in ("x", [1], [None], {"id": mine["id"]}):
            await ws.send(json.dumps({"type": "message", "content": "look", "attachments": bad}))
            assert (await frame(ws))["code"] == "invalid_attachments"
        await ws.send(json.dumps({"type": "message", "content": "look", "attachments": [mine["id"]] * 2 + ["a", "b"]}))
        assert (await frame(ws))["code"] == "too_many_files"
    assert (await detail(alice, conversation_id))["messages"] == []
    assert stored(live_app, "SELECT attached_at FROM files WHERE id = ?", bobs["id"]) == [(None,)]


async def test_an_edit_keeps_the_files_unless_it_names_others(live_app, make_account, fake_ollama):
    fake_ollama.default = Script(tokens=["ok"])
    alice = await make_account()
    first, second = await upload(alice, "a.txt", b"first"), await upload(alice, "b.txt", b"second")
    conversation_id = await alice.new_conversation()
    async with alice.socket(live_app, conversation_id) as ws:
        await ws.send(json.dumps({"type": "message", "content": "v1", "attachments": [first["id"]]}))
        await until_done(ws)
        original = (await detail(alice, conversation_id))["messages"][0]["id"]
        await ws.send(json.dumps({"type": "edit", "message_id": original, "content": "v2"}))
        await until_done(ws)
        assert (await detail(alice, conversation_id))["messages"][0]["attachments"] == [listed(first)]
        await ws.send(
            json.dumps({"type": "edit", "message_id": original, "content": "v3", "attachments": [second["id"]]})
        )
        await until_done(ws)
        assert (await detail(alice, conversation_id))["messages"][0]["attachments"] == [listed(second)]
        await ws.send(json.dumps({"type": "edit", "message_id": original, "content": "v4", "attachments": []}))
        await until_done(ws)
        assert (await detail(alice, conversation_id))["messages"][0]["attachments"] == []
        await ws.send(json.dumps({"type": "regenerate"}))
        await until_done(ws)
    tree = (await detail(alice, conversation_id, tree="true"))["messages"]
    versions = {m["content"]: [a["id"] for a in m["attachments"]] for m in tree if m["role"] == "user"}
    assert versions == {"v1": [first["id"]], "v2": [first["id"]], "v3": [second["id"]], "v4": []}
