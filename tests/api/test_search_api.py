"""`GET /api/search` against a live server: the answer's shape, a reply found once it ends, pages, bad cursors."""

from __future__ import annotations

import json

import httpx

from testing.fakes.server import Script


async def send(account, live_app, conversation_id: str, content: str) -> str:
    """Send a message over `/ws` and wait for the reply's `done`; returns the reply's id."""
    async with account.socket(live_app, conversation_id) as ws:
        await ws.send(json.dumps({"type": "message", "content": content}))
        while (frame := json.loads(await ws.recv()))["type"] != "done":
            pass
    return str(frame["message_id"])


async def test_search_answers_ranked_hits_with_plain_snippets_and_match_ranges(live_app, make_account, fake_ollama):
    fake_ollama.then(Script(tokens=["Capybaras ", "are ", "<b>big</b> ", "rodents."]))
    alice = await make_account()
    conversation_id = await alice.new_conversation(title="Rodents")
    reply_id = await send(alice, live_app, conversation_id, "Tell me about capybaras")

    response = await alice.client.get("/api/search", params={"q": "capyb"})
    assert response.status_code == 200
    body = response.json()
    assert body["next_cursor"] is None
    assistant = next(r for r in body["results"] if r["role"] == "assistant")
    assert set(assistant) == {
        "conversation_id",
        "conversation_title",
        "message_id",
        "role",
        "snippet",
        "highlights",
        "created_at",
        "archived",
    }
    assert assistant["message_id"] == reply_id and assistant["conversation_id"] == conversation_id
    assert assistant["conversation_title"] == "Rodents"
    assert assistant["snippet"] == "Capybaras are <b>big</b> rodents."  # text, as written: the client escapes it
    assert [assistant["snippet"][s:e] for s, e in assistant["highlights"]] == ["Capybaras"]
    assert {r["role"] for r in body["results"]} == {"user", "assistant"}


async def test_search_pages_with_a_cursor(live_app, make_account, fake_ollama):
    fake_ollama.default = Script(tokens=["ok"])
    alice = await make_account()
    conversation_id = await alice.new_conversation(title="Pages")
    for i in range(5):
        await send(alice, live_app, conversation_id, f"pangolin number {i}")
    seen: list[str] = []
    cursor = None
    for _ in range(3):
        params = {"q": "pangolin ", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await alice.client.get("/api/search", params=params)).json()
        seen += [r["message_id"] for r in page["results"]]
        cursor = page["next_cursor"]
    assert cursor is None and len(seen) == 5 and len(set(seen)) == 5


async def test_search_refuses_bad_cursors_and_limits_and_strangers(live_app, make_account):
    alice = await make_account()
    for params in ({"q": "x", "cursor": "not-ours"}, {"q": "x", "cursor": "bzk5OTk5OTk"}):
        response = await alice.client.get("/api/search", params=params)
        assert response.status_code == 400 and "cursor" in response.json()["detail"]
    assert (await alice.client.get("/api/search", params={"q": "x", "limit": 0})).status_code == 422
    assert (await alice.client.get("/api/search", params={"q": "x", "limit": 51})).status_code == 422
    assert (await alice.client.get("/api/search", params={"q": "x" * 501})).status_code == 422
    for q in ['"', "NEAR(", "-", "*", "(", "a OR", "\\"]:
        response = await alice.client.get("/api/search", params={"q": q})
        assert response.status_code == 200 and response.json()["results"] == []
    async with httpx.AsyncClient(base_url=live_app.url) as anonymous:
        assert (await anonymous.get("/api/search", params={"q": "x"})).status_code == 401
