"""Knowledge in a chat, against a live server and the fake Ollama: the prompt carries the right passage, numbered;
the reply keeps its sources (REST), exported and imported; detaching stops it; `search_knowledge` as a tool."""

from __future__ import annotations

import json

from testing.fakes.server import Script, ScriptedCall
from tests.api.test_knowledge_api import settled
from tests.api.test_search_api import send
from tests.api.test_transfer_api import import_file

MANUAL = b"""# Espresso machine manual

## Descaling

Descale the boiler every 200 shots with citric acid dissolved in warm water, then flush twice.

## Grinding

Use a fine burr grind; adjust one notch finer when shots run faster than 25 seconds.
"""
OTHER = b"# Garden\n\nTomatoes need six hours of sunlight.\n"


async def collection_with(account, *files: tuple[str, bytes]) -> str:
    cid = (await account.client.post("/api/knowledge", json={"name": "Manuals"})).json()["id"]
    upload = [("file", (name, content, "text/markdown")) for name, content in files]
    assert (await account.client.post(f"/api/knowledge/{cid}/documents", files=upload)).status_code == 201
    body = await settled(account, cid)
    assert {d["status"] for d in body["documents"]} == {"ready"}
    return cid


def system_prompt(request: dict) -> str:
    return next((m["content"] for m in request["messages"] if m["role"] == "system"), "")


async def test_a_chat_with_a_collection_asks_with_the_right_passage_and_keeps_its_sources(
    live_app, make_account, fake_ollama
):
    alice = await make_account()
    cid = await collection_with(alice, ("espresso.md", MANUAL), ("garden.md", OTHER))
    conversation_id = await alice.new_conversation()
    patched = await alice.client.patch(f"/api/conversations/{conversation_id}", json={"knowledge": [cid]})
    assert patched.status_code == 200 and patched.json()["knowledge"] == [cid]

    fake_ollama.then(Script(tokens=["Every 200 shots [1]."]))
    await send(alice, live_app, conversation_id, "How often should I descale the boiler?")
    system = system_prompt(fake_ollama.requests[-1])
    assert "[1] espresso.md › Espresso machine manual › Descaling\nDescale the boiler every 200 shots" in system
    assert "Tomatoes" not in system  # only passages that match the question
    assert fake_ollama.requests[-1]["messages"][-1]["content"] == "How often should I descale the boiler?"

    reply = (await alice.messages(conversation_id))[-1]
    assert reply["content"] == "Every 200 shots [1]."
    [source] = reply["sources"]
    assert (source["n"], source["document_name"], source["heading"]) == (
        1,
        "espresso.md",
        "Espresso machine manual › Descaling",
    )
    assert source["excerpt"].startswith("Descale the boiler every 200 shots")

    exported = await alice.client.get(f"/api/conversations/{conversation_id}/export", params={"format": "json"})
    [message] = [m for m in exported.json()["conversations"][0]["messages"] if m["role"] == "assistant"]
    assert message["sources"] == reply["sources"]
    bob = await make_account()
    state = await import_file(bob, "export.json", exported.content)
    assert state["status"] == "done", state
    [imported] = (await bob.client.get("/api/conversations")).json()
    assert (await bob.messages(imported["id"]))[-1]["sources"] == reply["sources"]

    detached = await alice.client.patch(f"/api/conversations/{conversation_id}", json={"knowledge": []})
    assert detached.json()["knowledge"] == []
    await send(alice, live_app, conversation_id, "And the grind?")
    assert "espresso.md" not in system_prompt(fake_ollama.requests[-1])
    assert (await alice.messages(conversation_id))[-1]["sources"] == []


async def test_someone_elses_collection_cannot_be_attached(live_app, make_account):
    alice, bob = await make_account(), await make_account()
    cid = (await alice.client.post("/api/knowledge", json={"name": "Private"})).json()["id"]
    conversation_id = await bob.new_conversation()
    refused = await bob.client.patch(f"/api/conversations/{conversation_id}", json={"knowledge": [cid]})
    assert refused.status_code == 404
    assert (await bob.client.get(f"/api/conversations/{conversation_id}")).json()["knowledge"] == []


async def test_the_search_knowledge_tool_finds_passages_of_the_users_collections(live_app, make_account, fake_ollama):
    alice = await make_account()
    await collection_with(alice, ("espresso.md", MANUAL))
    conversation_id = await alice.new_conversation()
    patched = await alice.client.patch(
        f"/api/conversations/{conversation_id}", json={"tools": ["chatui:search_knowledge"]}
    )
    assert patched.status_code == 200, patched.text
    fake_ollama.then(
        Script(tokens=[], tool_calls=[ScriptedCall("chatui__search_knowledge", {"query": "burr grind"})]),
        Script(tokens=["Fine burr."]),
    )
    await send(alice, live_app, conversation_id, "What grind?")
    result = [m for m in fake_ollama.requests[-1]["messages"] if m["role"] == "tool"][-1]
    assert "espresso.md › Espresso machine manual › Grinding" in result["content"]
    assert "fine burr grind" in result["content"]
    assert json.dumps(fake_ollama.requests[0]["tools"]).count("search_knowledge") == 1


async def test_a_single_document_can_be_attached_instead_of_its_collection(live_app, make_account, fake_ollama):
    alice, bob = await make_account(), await make_account()
    cid = await collection_with(alice, ("espresso.md", MANUAL), ("garden.md", OTHER))
    documents = {d["name"]: d["id"] for d in (await alice.client.get(f"/api/knowledge/{cid}")).json()["documents"]}
    conversation_id = await alice.new_conversation()
    patched = await alice.client.patch(
        f"/api/conversations/{conversation_id}", json={"knowledge": [documents["garden.md"]]}
    )
    assert patched.status_code == 200 and patched.json()["knowledge"] == [documents["garden.md"]]
    await send(alice, live_app, conversation_id, "How many hours of sunlight do tomatoes need? And descaling?")
    system = system_prompt(fake_ollama.requests[-1])
    assert "[1] garden.md › Garden\nTomatoes need six hours of sunlight." in system
    assert "espresso.md" not in system  # the other document of the collection is not attached

    bobs = await bob.new_conversation()
    refused = await bob.client.patch(f"/api/conversations/{bobs}", json={"knowledge": [documents["garden.md"]]})
    assert refused.status_code == 404
