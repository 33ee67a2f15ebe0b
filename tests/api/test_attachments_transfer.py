"""Files in exports and imports, against a live server: the chatui JSON export carries each file's bytes and an import
stores them again (checked like an upload); the Markdown export names them; a file an import cannot take is named in
the job's errors and its message keeps its text."""

from __future__ import annotations

import base64
import json

from testing import attachments
from testing.fakes.server import Script
from tests.api.conftest import Account
from tests.api.test_attachments_ws import stored, upload
from tests.api.test_transfer_api import import_file
from tests.api.test_tree_ws import detail, until_done


async def sent_with_files(account: Account, live_app, fake_ollama, text: str, *files: dict) -> str:
    fake_ollama.vision_models = {"llama3.2:3b"}  # the conversations' model, which must see images to be sent them
    fake_ollama.then(Script(tokens=["Seen."]))
    conversation_id = await account.new_conversation(title="With files")
    async with account.socket(live_app, conversation_id) as ws:
        await ws.send(json.dumps({"type": "message", "content": text, "attachments": [f["id"] for f in files]}))
        await until_done(ws)
    return conversation_id


async def test_export_carries_the_files_and_import_gives_them_back_byte_for_byte(live_app, make_account, fake_ollama):
    alice, bob = await make_account(), await make_account()
    image_bytes, notes_bytes = attachments.png(300, 200), "Notes: ünïcode ✓\n".encode() * 5000
    image, notes = await upload(alice, "square.png", image_bytes), await upload(alice, "notes.txt", notes_bytes)
    conversation_id = await sent_with_files(alice, live_app, fake_ollama, "What is this?", image, notes)

    exported = await alice.client.get(f"/api/conversations/{conversation_id}/export")
    assert exported.status_code == 200 and exported.headers["content-type"] == "application/json"
    document = exported.json()
    [question, _] = document["conversations"][0]["messages"]
    fields = ("id", "name", "media_type", "size")  # as uploaded: the note on what a model was sent is not exported
    assert question["attachments"] == [{key: f[key] for key in fields} for f in (image, notes)]
    carried = {f["id"]: base64.b64decode(f["data"], validate=True) for f in document["files"]}
    assert carried == {image["id"]: image_bytes, notes["id"]: notes_bytes}

    report = await import_file(bob, "one.json", exported.content)
    assert report["status"] == "done" and report["errors"] == [] and report["conversations"] == 1
    [imported] = (await bob.client.get("/api/conversations")).json()
    question_again, _ = (await detail(bob, imported["id"]))["messages"]
    assert question_again["content"] == "What is this?"
    names = [(f["name"], f["media_type"], f["size"]) for f in question_again["attachments"]]
    assert names == [("square.png", "image/png", len(image_bytes)), ("notes.txt", "text/plain", len(notes_bytes))]
    assert {f["id"] for f in question_again["attachments"]}.isdisjoint({image["id"], notes["id"]})  # bob's own
    for file, data in zip(question_again["attachments"], (image_bytes, notes_bytes), strict=True):
        assert (await bob.client.get(f"/api/files/{file['id']}")).content == data
        assert (await alice.client.get(f"/api/files/{file['id']}")).status_code == 404

    # The whole account's export carries them too; imported again, nothing new is kept (not even file rows).
    everything = await bob.client.get("/api/export")
    assert {f["name"] for f in everything.json()["files"]} == {"square.png", "notes.txt"}
    bob_id = (await bob.client.get("/api/auth/me")).json()["id"]
    again = await import_file(bob, "all.json", everything.content)
    assert (again["conversations"], again["duplicates"], again["errors"]) == (0, 1, [])
    assert stored(live_app, "SELECT count(*) FROM files WHERE user_id = ?", bob_id) == [(2,)]
    assert stored(live_app, "SELECT count(*) FROM blobs WHERE user_id = ?", bob_id) == [(2,)]


async def test_markdown_export_names_each_file(live_app, make_account, fake_ollama):
    alice = await make_account()
    image = await upload(alice, "holiday photo.png", attachments.png())
    conversation_id = await sent_with_files(alice, live_app, fake_ollama, "Where was this?", image)
    md = (await alice.client.get(f"/api/conversations/{conversation_id}/export", params={"format": "markdown"})).text
    lines = md.splitlines()
    assert lines[4] == "Where was this?"
    size = image["size"]
    shown = f"{size} bytes" if size < 1024 else f"{size / 1024:.1f} KB"
    assert lines[5:7] == ["", f"- Attached: holiday photo.png (image/png, {shown})"]


async def test_an_imported_file_is_checked_like_an_upload(live_app, make_account):
    carol = await make_account()
    page = b"<html><script>alert(1)</script></html>"
    message = {
        "id": "m1",
        "role": "user",
        "content": "Three files",
        "created_at": "2026-12-01T12:00:00+00:00",
        "attachments": [{"id": "f1"}, {"id": "f2"}, {"id": "f3"}],
    }
    document = {
        "format": "chatui/1",
        "conversations": [
            {
                "id": "c1",
                "title": "Imported files",
                "model": "ollama:llama3.2:3b",
                "created_at": "2026-12-01T12:00:00+00:00",
                "updated_at": "2026-12-01T12:00:00+00:00",
                "messages": [message],
            }
        ],
        "files": [  # a page that calls itself an image; a real PNG; not base64 at all
            {"id": "f1", "name": "evil.png", "media_type": "image/png", "data": base64.b64encode(page).decode()},
            {"id": "f2", "name": "ok.png", "data": base64.b64encode(attachments.bomb_png()).decode()},
            {"id": "f3", "name": "broken.txt", "data": "!!! not base64 !!!"},
        ],
    }
    report = await import_file(carol, "files.json", json.dumps(document).encode())
    assert report["status"] == "done" and report["conversations"] == 1
    assert report["errors"] == [
        "File 'ok.png': The image is too large: at most 50 megapixels can be attached.",
        "File 'broken.txt': Its data is not base64.",
    ]
    [conversation] = (await carol.client.get("/api/conversations")).json()
    [question] = (await detail(carol, conversation["id"]))["messages"]
    assert question["content"] == "Three files"
    [kept] = question["attachments"]
    assert (kept["name"], kept["media_type"]) == ("evil.png", "text/plain")  # its bytes say text, not image
    served = await carol.client.get(f"/api/files/{kept['id']}")
    assert served.content == page and not served.headers["content-type"].startswith("text/html")
