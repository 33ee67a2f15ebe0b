"""Every REST route against a live server: answers, status codes, and 404 for another user's ids."""

from __future__ import annotations

import httpx

from testing.fakes.server import Script

GONE = "00000000-0000-4000-8000-000000000000"


async def test_register_login_me_logout(live_app):
    async with httpx.AsyncClient(base_url=live_app.url) as client:
        created = await client.post("/api/auth/register", json={"username": "restful", "password": "password123"})
        assert created.status_code == 201
        # Sign-up answers whether the account may sign in yet (issue 29); the test server runs CHATUI_SIGNUP=open.
        assert created.json() == {"id": created.json()["id"], "username": "restful", "approved": True}
        user = {"id": created.json()["id"], "username": "restful"}
        assert "chatui_session" not in client.cookies  # registering does not sign in

        taken = await client.post("/api/auth/register", json={"username": "RESTFUL", "password": "password123"})
        assert taken.status_code == 409
        short = await client.post("/api/auth/register", json={"username": "other", "password": "short"})
        assert short.status_code == 422

        wrong = await client.post("/api/auth/login", json={"username": "restful", "password": "nope-nope"})
        assert wrong.status_code == 401 and "chatui_session" not in client.cookies

        login = await client.post("/api/auth/login", json={"username": "restful", "password": "password123"})
        assert login.status_code == 200 and login.json() == user
        cookie = login.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict") and "Path=/" in cookie
        assert client.cookies["chatui_session"] not in login.text  # the token is never in the body

        me = await client.get("/api/auth/me")
        assert me.status_code == 200 and me.json() == user

        old = client.cookies["chatui_session"]
        out = await client.post("/api/auth/logout")
        assert out.status_code == 204
        assert "chatui_session" not in client.cookies
        client.cookies.set("chatui_session", old)
        assert (await client.get("/api/auth/me")).status_code == 401  # revoked on the server


async def test_conversation_routes(live_app, make_account, fake_ollama):
    alice = await make_account()
    client = alice.client
    created = await client.post("/api/conversations", json={})
    assert created.status_code == 201
    body = created.json()
    settings = {"system_prompt", "temperature", "max_tokens", "top_p", "seed", "reasoning_effort", "tools"}
    filing = {"pinned", "archived", "folder_id", "tags"}
    assert set(body) == {
        "id",
        "title",
        "model",
        *settings,
        *filing,
        "preset_id",
        "knowledge",
        "created_at",
        "updated_at",
    }
    assert body["title"] is None and body["model"] == "ollama:llama3.2:3b"

    second = (await client.post("/api/conversations", json={"title": "Named", "model": "ollama:qwen"})).json()
    assert second["title"] == "Named" and second["model"] == "ollama:qwen"

    listed = (await client.get("/api/conversations")).json()
    assert [c["id"] for c in listed] == [second["id"], body["id"]]  # newest first

    detail = (await client.get(f"/api/conversations/{body['id']}")).json()
    assert detail["messages"] == [] and detail["id"] == body["id"]

    renamed = await client.patch(f"/api/conversations/{body['id']}", json={"title": "Renamed"})
    assert renamed.status_code == 200 and renamed.json()["title"] == "Renamed"
    remodelled = await client.patch(f"/api/conversations/{body['id']}", json={"model": "llama3.2:1b"})
    assert remodelled.json()["model"] == "ollama:llama3.2:1b" and remodelled.json()["title"] == "Renamed"

    assert (await client.delete(f"/api/conversations/{body['id']}")).status_code == 204
    assert (await client.get(f"/api/conversations/{body['id']}")).status_code == 404
    assert (await client.delete(f"/api/conversations/{body['id']}")).status_code == 404


async def test_message_fields(live_app, make_account, fake_ollama):
    import json

    from websockets.asyncio.client import connect

    fake_ollama.then(Script(tokens=["8", "."], prompt_tokens=20, completion_tokens=2))
    alice = await make_account()
    conversation_id = await alice.new_conversation()
    async with connect(f"{live_app.ws_url}/ws/{conversation_id}", additional_headers=alice.cookie_header) as ws:
        await ws.send(json.dumps({"type": "message", "content": "5+3?"}))
        while json.loads(await ws.recv())["type"] != "done":
            pass
    user_message, reply = await alice.messages(conversation_id)
    for message in (user_message, reply):
        assert {"id", "parent_id", "role", "content", "status", "model", "usage", "created_at"} <= set(message)
    assert (reply["role"], reply["content"], reply["status"], reply["model"]) == (
        "assistant",
        "8.",
        "done",
        "ollama:llama3.2:3b",
    )
    assert reply["usage"] == {"prompt_tokens": 20, "completion_tokens": 2}
    assert user_message["usage"] == {"prompt_tokens": None, "completion_tokens": None}
    assert (user_message["parent_id"], reply["parent_id"]) == (None, user_message["id"])
    assert (reply["sibling_ids"], reply["sibling_index"]) == ([reply["id"]], 0)


async def test_models_and_health(live_app, make_account, fake_ollama):
    fake_ollama.models = ["llama3.2:3b", "qwen2.5:0.5b"]
    alice = await make_account()
    models = (await alice.client.get("/api/models", params={"refresh": "true"})).json()
    assert models["default"] == "ollama:llama3.2:3b"
    assert {  # the fields it always had, and the picker's own (issue 29)
        "id": "ollama:qwen2.5:0.5b",
        "provider": "ollama",
        "name": "qwen2.5:0.5b",
        "available": True,
        "label": "qwen2.5:0.5b",
        "detail": "3.2B parameters",
        "reason": None,
    } in models["models"]
    assert models["models"][0]["id"] == "ollama:llama3.2:3b"
    async with httpx.AsyncClient(base_url=live_app.url) as anonymous:
        assert (await anonymous.get("/api/health")).json() == {"status": "ok"}
        assert (await anonymous.get("/api/models")).status_code == 401


async def test_without_a_session_every_route_is_401(live_app):
    async with httpx.AsyncClient(base_url=live_app.url) as client:
        for method, path in [
            ("GET", "/api/auth/me"),
            ("GET", "/api/conversations"),
            ("POST", "/api/conversations"),
            ("GET", f"/api/conversations/{GONE}"),
            ("PATCH", f"/api/conversations/{GONE}"),
            ("DELETE", f"/api/conversations/{GONE}"),
            ("GET", "/api/models"),
        ]:
            response = await client.request(method, path, json={} if method in ("POST", "PATCH") else None)
            assert response.status_code == 401, (method, path)


async def test_another_users_conversation_is_404_and_unchanged(live_app, make_account):
    alice = await make_account()
    bob = await make_account()
    conversation_id = await alice.new_conversation(title="Alice's")
    for method, body in [("GET", None), ("PATCH", {"title": "Bob's now"}), ("DELETE", None)]:
        response = await bob.client.request(method, f"/api/conversations/{conversation_id}", json=body)
        assert response.status_code == 404, method
        missing = await bob.client.request(method, f"/api/conversations/{GONE}", json=body)
        assert missing.status_code == 404 and missing.json() == response.json()  # indistinguishable
    assert (await alice.client.get(f"/api/conversations/{conversation_id}")).json()["title"] == "Alice's"
    assert [c["id"] for c in (await bob.client.get("/api/conversations")).json()] == []


async def test_openapi_documents_the_api(live_app):
    async with httpx.AsyncClient(base_url=live_app.url) as client:
        schema = (await client.get("/openapi.json")).json()
        assert (await client.get("/docs")).status_code == 200
    for path in [
        "/api/auth/register",
        "/api/auth/login",
        "/api/auth/logout",
        "/api/auth/me",
        "/api/conversations",
        "/api/conversations/{conversation_id}",
        "/api/models",
        "/api/health",
    ]:
        assert path in schema["paths"], path


async def test_invalid_bodies_are_422_without_echoing_the_input(live_app, make_account):
    alice = await make_account()
    secret_password = "hunter2-but-" + "x" * 2000
    response = await alice.client.post("/api/auth/login", json={"username": "a", "password": secret_password})
    assert response.status_code == 422 and secret_password not in response.text
    for title in ["tab\there", "nul\u0000byte", "x" * 201]:
        created = await alice.client.post("/api/conversations", json={"title": title})
        assert created.status_code == 422, title
    short = await alice.client.post("/api/auth/register", json={"username": "ok-name", "password": "short"})
    assert short.status_code == 422


async def test_conversation_list_pages_with_a_link_to_the_next(live_app, make_account):
    alice = await make_account()
    created = [await alice.new_conversation(title=f"Chat {i}") for i in range(7)]
    everything = await alice.client.get("/api/conversations")
    assert [c["id"] for c in everything.json()] == created[::-1] and "link" not in everything.headers

    seen: list[str] = []
    url = "/api/conversations?limit=3"
    for _ in range(5):
        page = await alice.client.get(url)
        assert page.status_code == 200 and len(page.json()) <= 3
        seen += [c["id"] for c in page.json()]
        if "next" not in page.links:
            break
        url = page.links["next"]["url"]
        assert url.startswith("/api/conversations?") and "limit=3" in url
    assert seen == created[::-1]

    bob = await make_account()  # a cursor is only a position: another account sees its own list from there
    assert (await bob.client.get(url)).json() == []
    assert (await alice.client.get("/api/conversations?limit=3&cursor=bm9wZQ")).status_code == 422
    assert (await alice.client.get("/api/conversations?limit=0")).status_code == 422
    assert (await alice.client.get("/api/conversations?limit=201")).status_code == 422
