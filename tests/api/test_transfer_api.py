"""Export and import against a live server: formats, round trip into another account, idempotency, bad files."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile

from testing.exports import chatgpt_conversation, chatui_conversation, openwebui_chat
from testing.fakes.server import Script
from testing.waiting import until
from tests.api.test_search_api import send


async def upload(account, name: str, content: bytes) -> tuple[int, dict]:
    response = await account.client.post("/api/import", files={"file": (name, content, "application/octet-stream")})
    return response.status_code, response.json()


async def finished(account, job_id: str) -> dict:
    """The job's state once it has ended (an import of a few conversations takes well under a second)."""

    async def ended() -> dict | None:
        state = (await account.client.get(f"/api/import/{job_id}")).json()
        return None if state["status"] == "running" else state

    return await until(ended, within=60, every=0.05, what=f"import {job_id} ending")


async def import_file(account, name: str, content: bytes) -> dict:
    code, body = await upload(account, name, content)
    assert code == 202, body
    return await finished(account, body["job_id"])


async def test_one_conversation_exports_as_markdown_and_json(live_app, make_account, fake_ollama):
    fake_ollama.then(Script(tokens=["Paris", "."]))
    alice = await make_account()
    conversation_id = await alice.new_conversation(title="Capitals: France?")
    await send(alice, live_app, conversation_id, "What is the capital of France?")

    md = await alice.client.get(f"/api/conversations/{conversation_id}/export", params={"format": "markdown"})
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert md.headers["content-disposition"] == 'attachment; filename="chatui-capitals-france.md"'
    lines = md.text.splitlines()
    assert lines[0] == "# Capitals: France?"
    assert (
        lines[2].startswith("### User · ")
        and lines[2].endswith(" UTC")
        and lines[4] == "What is the capital of France?"
    )
    assert lines[6].startswith("### Assistant (ollama:llama3.2:3b) · ") and lines[8] == "Paris."

    document = (await alice.client.get(f"/api/conversations/{conversation_id}/export")).json()
    assert document["format"] == "chatui/1" and next(iter(document)) == "format"
    [conversation] = document["conversations"]
    assert conversation["id"] == conversation_id and conversation["title"] == "Capitals: France?"
    question, reply = conversation["messages"]
    assert reply["parent_id"] == question["id"] and conversation["active_message_id"] == reply["id"]
    assert reply["usage"] == {"prompt_tokens": 12, "completion_tokens": 2} and reply["status"] == "done"
    assert {"system_prompt", "temperature"} <= set(conversation)

    bad = await alice.client.get(f"/api/conversations/{conversation_id}/export", params={"format": "html"})
    assert bad.status_code == 422


async def test_export_all_then_import_into_another_account_gives_the_same_conversations(
    live_app, make_account, fake_ollama
):
    fake_ollama.default = Script(tokens=["An ", "answer."])
    alice, bob = await make_account(), await make_account()
    for title in ("First", "Second", "Third"):
        conversation_id = await alice.new_conversation(title=title)
        await send(alice, live_app, conversation_id, f"{title} question")
        await send(alice, live_app, conversation_id, f"{title} follow-up")

    branched = await import_file(alice, "c.json", json.dumps([chatgpt_conversation("tree", "Zz branches")]).encode())
    assert branched["conversations"] == 1  # two versions of the reply: the tree must survive the trip too

    everything = await alice.client.get("/api/export")
    assert everything.status_code == 200 and everything.headers["content-type"] == "application/json"
    exported = everything.json()
    assert [c["title"] for c in exported["conversations"]] == ["Zz branches", "First", "Second", "Third"]  # by age

    report = await import_file(bob, "all.json", everything.content)
    assert report["status"] == "done" and report["errors"] == []
    assert (report["conversations"], report["messages"], report["duplicates"]) == (4, 15, 0)
    assert report["bytes_read"] == report["total_bytes"] == len(everything.content)

    again = (await bob.client.get("/api/export")).json()

    def shape(document: dict) -> list:
        """What must survive the trip: titles, texts, roles, tree shape, settings and usage (not the ids)."""
        result = []
        for c in document["conversations"]:
            position = {m["id"]: i for i, m in enumerate(c["messages"])}
            messages = [
                (
                    m["role"],
                    m["content"],
                    m["status"],
                    m["model"],
                    m["usage"],
                    m["created_at"],
                    position.get(m["parent_id"]),
                )
                for m in c["messages"]
            ]
            result.append(
                (
                    c["title"],
                    c["model"],
                    c["system_prompt"],
                    c["temperature"],
                    c["created_at"],
                    position[c["active_message_id"]],
                    messages,
                )
            )
        return result

    assert shape(again) == shape(exported)

    twice = await import_file(bob, "all.json", everything.content)
    assert (twice["conversations"], twice["duplicates"]) == (0, 4)
    home = await import_file(alice, "all.json", everything.content)  # into the account it came from
    assert (home["conversations"], home["duplicates"]) == (0, 4)
    assert len((await bob.client.get("/api/conversations")).json()) == 4


async def test_chatgpt_zip_and_open_webui_imports_are_searchable_and_idempotent(live_app, make_account):
    carol = await make_account()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("conversations.json", json.dumps([chatgpt_conversation("c1"), chatgpt_conversation("c2", "Two")]))
        z.writestr("chat.html", "<html></html>")
    report = await import_file(carol, "chatgpt-export.zip", archive.getvalue())
    assert report["status"] == "done", report
    assert (report["conversations"], report["skipped"], report["errors"]) == (2, 6, [])

    hits = (await carol.client.get("/api/search", params={"q": "steep"})).json()["results"]
    assert len(hits) == 2 and {h["conversation_title"] for h in hits} == {"Tea brewing", "Two"}
    again = await import_file(carol, "chatgpt-export.zip", archive.getvalue())
    assert (again["conversations"], again["duplicates"]) == (0, 2)

    [tea] = [c for c in (await carol.client.get("/api/conversations")).json() if c["title"] == "Tea brewing"]
    path = await carol.messages(tea["id"])  # the active path: the question, then the regenerated reply
    assert [m["content"] for m in path] == ["How long should green tea steep?", "Two to three minutes at 80 °C."]
    assert len(path[1]["sibling_ids"]) == 2 and path[1]["sibling_index"] == 1  # the first reply kept as a version

    webui = await import_file(carol, "chat-export.json", json.dumps([openwebui_chat()]).encode())
    assert (webui["conversations"], webui["messages"]) == (1, 4)
    [listed] = [c for c in (await carol.client.get("/api/conversations")).json() if c["title"] == "Rust lifetimes"]
    messages = await carol.messages(listed["id"])
    assert messages[-1]["content"] == "The scope for which a borrow is valid."
    assert len(messages[0]["sibling_ids"]) == 2  # the edited question and the one before the edit: two versions


async def test_bad_files_are_refused_with_a_reason_and_bad_conversations_do_not_stop_the_rest(live_app, make_account):
    dave = await make_account()
    code, body = await upload(dave, "notes.txt", b"just some text")
    assert code == 400 and "neither JSON nor a zip" in body["detail"]
    assert body["reason"] == "not_an_export"  # seen in the upload's first bytes: refused at once
    unknown = await import_file(dave, "data.json", json.dumps([{"rows": [1, 2]}]).encode())  # found by the job
    assert (unknown["status"], unknown["reason"], unknown["status_code"]) == ("failed", "unknown_format", 422)
    assert "not a chatui, ChatGPT, Open WebUI or LibreChat export" in unknown["errors"][0]
    wrong_field = await dave.client.post("/api/import", files={"upload": ("a.json", b"[]", "application/json")})
    assert wrong_field.status_code == 400 and "'file'" in wrong_field.json()["detail"]
    not_multipart = await dave.client.post("/api/import", json=[chatgpt_conversation()])
    assert not_multipart.status_code == 400

    broken = chatgpt_conversation("broken", "Broken one")
    broken["mapping"] = "nothing here"
    report = await import_file(
        dave, "mixed.json", json.dumps([chatgpt_conversation("ok1"), broken, chatgpt_conversation("ok2")]).encode()
    )
    assert report["status"] == "done" and report["conversations"] == 2
    assert report["errors"] == [
        "Conversation #2 'Broken one': not a chatui, ChatGPT, Open WebUI or LibreChat conversation"
    ]

    cut = json.dumps([chatgpt_conversation("first"), chatgpt_conversation("second")])
    report = await import_file(dave, "cut.json", cut[:-300].encode())
    assert report["status"] == "failed" and report["conversations"] == 1  # the first one whole, nothing half
    assert "stops being valid JSON" in report["errors"][0]
    titles = [c["title"] for c in (await dave.client.get("/api/conversations")).json()]
    assert titles.count("Tea brewing") == 3  # ok1, ok2, first


async def test_the_upload_limit_is_512_mb_for_imports_only(live_app, make_account):
    erin = await make_account()
    reader, writer = await asyncio.open_connection("127.0.0.1", live_app.port)
    writer.write(  # only the head: the server answers before any of the declared body arrives
        f"POST /api/import HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: chatui_session={erin.cookie}\r\n"
        f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {512 * 1024 * 1024 + 1}\r\n\r\n".encode()
    )
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    assert status_line.split()[1] == b"413"
    two_mb = b"[" + b" " * 2_000_000 + b"]"
    accepted = await upload(erin, "big.json", two_mb)
    assert accepted[0] == 202  # over the 1 MB of every other route
    other = await erin.client.post("/api/conversations", content=two_mb, headers={"Content-Type": "application/json"})
    assert other.status_code == 413


async def test_one_out_of_range_time_fails_its_conversation_and_the_others_are_imported(live_app, make_account):
    fay = await make_account()
    document = {
        "format": "chatui/1",
        "conversations": [
            chatui_conversation(i, 4, 30, "9999-12-31T23:59:59-05:00" if i == 2 else None) for i in range(6)
        ],
    }
    report = await import_file(fay, "times.json", json.dumps(document).encode())
    assert report["status"] == "done" and (report["conversations"], report["messages"]) == (5, 20)
    assert report["errors"] == ["Conversation #3 'Conversation 2': a time in it is out of range (years 1 to 9999)"]
    titles = {c["title"] for c in (await fay.client.get("/api/conversations")).json()}
    assert titles == {f"Conversation {i}" for i in (0, 1, 3, 4, 5)}


async def test_presets_and_prompts_travel_in_the_export_of_an_account_and_chats_keep_their_preset(
    live_app, make_account, fake_ollama
):
    fake_ollama.default = Script(tokens=["Oui."])
    alice, bob = await make_account(), await make_account()
    tutor = {"name": "French tutor", "model": "ollama:llama3.2:3b", "system_prompt": "Answer in French.", "tools": []}
    made = [(await alice.client.post("/api/presets", json=body)).json() for body in (tutor, {"name": "Gone"})]
    for name in ("standup", "review"):
        body = {"name": name, "title": name.title(), "text": f"The {name} of {{{{day}}}}"}
        assert (await alice.client.post("/api/prompts", json=body)).status_code == 201
    for title, preset in (("Lesson", made[0]), ("Orphan", made[1]), ("Plain", None)):
        body = {"title": title, **({"preset_id": preset["id"]} if preset else {})}
        conversation = await alice.client.post("/api/conversations", json=body)
        await send(alice, live_app, conversation.json()["id"], f"{title} question")
    assert (await alice.client.delete(f"/api/presets/{made[1]['id']}")).status_code == 204  # not in the file

    everything = await alice.client.get("/api/export")
    exported = everything.json()
    assert list(exported)[:5] == ["format", "exported_at", "presets", "prompts", "conversations"]
    assert [p["name"] for p in exported["presets"]] == ["French tutor"]
    report = await import_file(bob, "all.json", everything.content)
    assert report["errors"] == [] and (report["presets"], report["prompts"], report["conversations"]) == (1, 2, 3)

    [preset] = (await bob.client.get("/api/presets")).json()
    assert preset["id"] != made[0]["id"] and preset["mine"] and not preset["shared"]
    assert {k: preset[k] for k in tutor} == tutor
    prompts = (await bob.client.get("/api/prompts")).json()
    assert [(p["name"], p["title"], p["text"]) for p in prompts] == [
        ("review", "Review", "The review of {{day}}"),
        ("standup", "Standup", "The standup of {{day}}"),
    ]
    chats = {c["title"]: c["preset_id"] for c in (await bob.client.get("/api/export")).json()["conversations"]}
    assert chats == {"Lesson": preset["id"], "Orphan": None, "Plain": None}

    twice = await import_file(bob, "all.json", everything.content)
    assert (twice["presets"], twice["prompts"], twice["duplicates"], twice["errors"]) == (0, 0, 3, [])
    assert len((await bob.client.get("/api/presets")).json()) == 1
    selected = (await alice.client.get("/api/export", params={"id": exported["conversations"][0]["id"]})).json()
    assert "presets" not in selected and "prompts" not in selected  # Select mode exports conversations only
