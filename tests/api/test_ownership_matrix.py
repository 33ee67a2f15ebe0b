"""User B with user A's ids, on every route that takes a conversation id: 404 / 403 / not-found, nothing changed.

The REST routes are discovered from the OpenAPI schema, so a route added later is checked without editing this test.
"""

from __future__ import annotations

import json
import sqlite3

import httpx
import websockets
from websockets.asyncio.client import connect

from testing.fakes.server import Script

BODIES = {"PATCH": {"title": "taken over", "model": "ollama:evil"}, "POST": {}, "PUT": {}}


def snapshot(live_app) -> list[tuple]:
    with sqlite3.connect(live_app.data_dir / "database.db") as db:
        conversations = db.execute("SELECT id, user_id, title, model, updated_at FROM conversations ORDER BY id")
        messages = db.execute("SELECT id, conversation_id, role, content, status FROM messages ORDER BY id")
        return [*conversations.fetchall(), *messages.fetchall()]


async def test_another_users_ids_answer_not_found_everywhere_and_change_nothing(live_app, make_account, fake_ollama):
    fake_ollama.then(Script(tokens=["mine"]))
    alice, bob = await make_account(), await make_account()
    conversation_id = await alice.new_conversation(title="Alice's secrets")
    async with connect(f"{live_app.ws_url}/ws/{conversation_id}", additional_headers=alice.cookie_header) as ws:
        await ws.send(json.dumps({"type": "message", "content": "my private question"}))
        while json.loads(await ws.recv())["type"] != "done":
            pass
    before = snapshot(live_app)
    alices_message = (await alice.messages(conversation_id))[0]["id"]
    bodies = {**BODIES, "POST /fork": {"message_id": alices_message}}  # a well-formed body: the id is what is refused

    schema = (await bob.client.get("/openapi.json")).json()
    routes = [
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        if "{conversation_id}" in path
        for method in operations
    ]
    assert len(routes) >= 3
    for method, path in routes:
        response = await bob.client.request(
            method,
            path.replace("{conversation_id}", conversation_id),
            json=bodies.get(f"{method} /{path.rsplit('/', 1)[-1]}", bodies.get(method)),
        )
        assert response.status_code == 404, (method, path, response.status_code)
        assert "secrets" not in response.text and "private" not in response.text

    try:
        async with connect(f"{live_app.ws_url}/ws/{conversation_id}", additional_headers=bob.cookie_header):
            raise AssertionError("bob's socket was accepted")
    except websockets.exceptions.InvalidStatus as refused:
        assert refused.response.status_code == 403

    page = await bob.client.get(f"/chat/{conversation_id}")
    assert page.status_code == 404 and "secrets" not in page.text and "private" not in page.text
    listing = (await bob.client.get("/api/conversations")).json()
    assert conversation_id not in {c["id"] for c in listing}
    for query in ("secrets", "private", "priv", "mine", "question"):  # title, message, prefix, reply
        found = await bob.client.get("/api/search", params={"q": query})
        assert found.status_code == 200 and found.json()["results"] == [], query
        assert (await alice.client.get("/api/search", params={"q": query})).json()["results"] != [], query

    started = await alice.client.post("/api/import", files={"file": ("c.json", b"[]", "application/json")})
    job = f"/api/import/{started.json()['job_id']}"
    assert (await bob.client.get(job)).status_code == 404 and (await alice.client.get(job)).status_code == 200
    assert "Alice" not in (await bob.client.get("/api/export")).text

    file_id = (await alice.client.post("/api/files", files={"file": ("s.txt", b"private", "text/plain")})).json()["id"]
    file_routes = [(m.upper(), p) for p, ops in schema["paths"].items() if "{file_id}" in p for m in ops]
    assert file_routes
    for method, path in file_routes:
        response = await bob.client.request(method, path.replace("{file_id}", file_id))
        assert response.status_code == 404 and "private" not in response.text, (method, path)
    assert (await alice.client.get(f"/api/files/{file_id}")).text == "private"

    assert snapshot(live_app) == before


async def test_anonymous_clients_get_nothing(live_app, make_account):
    alice = await make_account()
    conversation_id = await alice.new_conversation(title="Alice's secrets")
    async with httpx.AsyncClient(base_url=live_app.url) as anonymous:
        assert (await anonymous.get(f"/api/conversations/{conversation_id}")).status_code == 401
        page = await anonymous.get(f"/chat/{conversation_id}", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/login"
