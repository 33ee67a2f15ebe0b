"""Pins, the archive, folders and tags through the REST API, on SQLite and on PostgreSQL (issue 26)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from testing.fakes.server import ScriptedProvider, ThreadedServer
from testing.live import LiveApp, module_app
from tests.api.conftest import Account
from tests.postgres import drop_postgres_database, fresh_postgres_database


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live_app(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    ollama_server: tuple[ScriptedProvider, ThreadedServer],
) -> Iterator[LiveApp]:
    """One live app per database for the whole module (the tests make accounts of their own)."""
    if request.param == "sqlite":
        yield from module_app(tmp_path_factory, ollama_server[1].url, "organize")
        return
    url = fresh_postgres_database()
    try:
        yield from module_app(tmp_path_factory, ollama_server[1].url, "organize-pg", DATABASE_URL=url)
    finally:
        drop_postgres_database(url)


async def titles(account: Account, **params: str) -> list[str]:
    response = await account.client.get("/api/conversations", params=params)
    assert response.status_code == 200, response.text
    return [c["title"] for c in response.json()]


async def patch(account: Account, conversation_id: str, **body: object) -> dict:
    response = await account.client.patch(f"/api/conversations/{conversation_id}", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_pinned_head_the_list_and_archived_leave_it_for_the_archived_view(make_account) -> None:
    me = await make_account()
    first, second, third = [await me.new_conversation(title=t) for t in ("First", "Second", "Third")]
    shown = await patch(me, first, pinned=True)
    assert shown["pinned"] is True and shown["archived"] is False
    await patch(me, third, archived=True)

    assert await titles(me) == ["First", "Second"]  # pinned first, though oldest; the archived one gone
    assert await titles(me, archived="true") == ["Third"]
    assert await titles(me, pinned="true") == ["First"]
    await patch(me, third, archived=False)
    assert await titles(me) == ["First", "Third", "Second"]  # filing it did not move it in time
    assert second


async def test_pages_of_the_list_keep_pinned_first_without_repeats(make_account) -> None:
    me = await make_account()
    ids = [await me.new_conversation(title=f"c{i}") for i in range(7)]
    for conversation_id in (ids[1], ids[4]):
        await patch(me, conversation_id, pinned=True)
    seen: list[str] = []
    url: str | None = "/api/conversations?limit=2"
    while url is not None:
        response = await me.client.get(url)
        seen += [c["title"] for c in response.json()]
        link = response.headers.get("Link")
        url = link[1 : link.index(">")] if link else None
    assert seen == ["c4", "c1", "c6", "c5", "c3", "c2", "c0"]


async def test_folders_nest_one_level_order_and_deleting_one_keeps_its_conversations(make_account) -> None:
    me = await make_account()
    work = (await me.client.post("/api/folders", json={"name": " Work "})).json()
    home = (await me.client.post("/api/folders", json={"name": "Home"})).json()
    inner = await me.client.post("/api/folders", json={"name": "Reports", "parent_id": work["id"]})
    assert inner.status_code == 201 and work["name"] == "Work" and (work["position"], home["position"]) == (0, 1)
    too_deep = await me.client.post("/api/folders", json={"name": "x", "parent_id": inner.json()["id"]})
    assert too_deep.status_code == 422
    assert (await me.client.patch(f"/api/folders/{work['id']}", json={"parent_id": home["id"]})).status_code == 422
    moved = await me.client.patch(f"/api/folders/{home['id']}", json={"position": 0, "name": "House"})
    assert moved.json()["name"] == "House"
    await me.client.patch(f"/api/folders/{work['id']}", json={"position": 1})
    listed = (await me.client.get("/api/folders")).json()
    assert [f["name"] for f in listed] == ["House", "Work", "Reports"]

    filed = await me.new_conversation(title="Filed")
    await me.new_conversation(title="Loose")
    assert (await patch(me, filed, folder_id=inner.json()["id"]))["folder_id"] == inner.json()["id"]
    assert await titles(me, folder_id=inner.json()["id"]) == ["Filed"]
    assert await titles(me, folder_id="") == ["Loose"]

    assert (await me.client.delete(f"/api/folders/{work['id']}")).status_code == 204
    assert (await me.client.get(f"/api/conversations/{filed}")).json()["folder_id"] == inner.json()["id"]
    assert [f["parent_id"] for f in (await me.client.get("/api/folders")).json()] == [None, None]
    assert (await me.client.delete(f"/api/folders/{inner.json()['id']}")).status_code == 204
    assert (await me.client.get(f"/api/conversations/{filed}")).json()["folder_id"] is None
    assert sorted(await titles(me)) == ["Filed", "Loose"]
    assert (await me.client.delete(f"/api/folders/{work['id']}")).status_code == 404


async def test_tags_are_lower_cased_once_each_and_filter_the_list(make_account) -> None:
    me = await make_account()
    taxes = await me.new_conversation(title="Taxes")
    await me.new_conversation(title="Poem")
    shown = await patch(me, taxes, tags=["Work", " money ", "work"])
    assert shown["tags"] == ["money", "work"]
    assert await titles(me, tag="Work") == ["Taxes"]
    listed = (await me.client.get("/api/conversations")).json()
    assert {c["title"]: c["tags"] for c in listed} == {"Taxes": ["money", "work"], "Poem": []}
    assert (await me.client.patch(f"/api/conversations/{taxes}", json={"tags": ["a" * 41]})).status_code == 422
    assert (await patch(me, taxes, tags=[]))["tags"] == []
    assert await titles(me, tag="work") == []


async def test_an_archived_conversation_leaves_the_list_but_not_search(make_account) -> None:
    me = await make_account()
    budget = await me.new_conversation(title="Quarterly budget")
    await patch(me, budget, archived=True)
    assert await titles(me) == []
    results = (await me.client.get("/api/search", params={"q": "budget"})).json()["results"]
    assert [(r["conversation_id"], r["archived"]) for r in results] == [(budget, True)]


async def test_another_users_conversations_and_folders_are_not_found(make_account) -> None:
    me, other = await make_account(), await make_account()
    mine = await me.new_conversation(title="Mine")
    folder = (await me.client.post("/api/folders", json={"name": "Private"})).json()["id"]
    theirs = await other.new_conversation(title="Theirs")
    their_folder = (await other.client.post("/api/folders", json={"name": "Theirs"})).json()["id"]

    assert (await other.client.patch(f"/api/conversations/{mine}", json={"pinned": True})).status_code == 404
    assert (await other.client.patch(f"/api/folders/{folder}", json={"name": "x"})).status_code == 404
    assert (await other.client.delete(f"/api/folders/{folder}")).status_code == 404
    assert (await me.client.patch(f"/api/conversations/{mine}", json={"folder_id": their_folder})).status_code == 404
    inside = await me.client.post("/api/folders", json={"name": "x", "parent_id": their_folder})
    assert inside.status_code == 404
    assert (await titles(other, folder_id=folder)) == []
    assert [f["name"] for f in (await other.client.get("/api/folders")).json()] == ["Theirs"]
    assert (await me.client.get(f"/api/conversations/{mine}")).json()["pinned"] is False
    assert theirs


async def test_export_then_import_keeps_folders_tags_pins_and_the_archive(make_account) -> None:
    from tests.api.test_transfer_api import import_file

    me, other = await make_account(), await make_account()
    work = (await me.client.post("/api/folders", json={"name": "Work"})).json()["id"]
    reports = (await me.client.post("/api/folders", json={"name": "Reports", "parent_id": work})).json()["id"]
    filed = await me.new_conversation(title="Filed")
    kept = await me.new_conversation(title="Kept")
    await patch(me, filed, folder_id=reports, tags=["q3", "numbers"], pinned=True)
    await patch(me, kept, archived=True, tags=["old"])
    (await other.client.post("/api/folders", json={"name": "Work"})).raise_for_status()  # found, not made twice

    exported = await me.client.get("/api/export")
    report = await import_file(other, "all.json", exported.content)
    assert report["status"] == "done" and report["conversations"] == 2, report

    folders = (await other.client.get("/api/folders")).json()
    assert [(f["name"], f["parent_id"] is None) for f in folders] == [("Work", True), ("Reports", False)]
    listed = (await other.client.get("/api/conversations")).json()
    assert [(c["title"], c["pinned"], c["tags"], c["folder_id"]) for c in listed] == [
        ("Filed", True, ["numbers", "q3"], folders[1]["id"])
    ]
    archived = (await other.client.get("/api/conversations", params={"archived": "true"})).json()
    assert [(c["title"], c["archived"], c["tags"], c["folder_id"]) for c in archived] == [("Kept", True, ["old"], None)]


async def test_feedback_on_a_reply_is_kept_replaced_and_refused_for_others(live_app, make_account, fake_ollama) -> None:
    from testing.fakes.server import Script
    from tests.api.test_search_api import send

    fake_ollama.default = Script(tokens=["Four", "."])
    me, other = await make_account(), await make_account()
    conversation_id = await me.new_conversation(title="Sums")
    reply_id = await send(me, live_app, conversation_id, "What is 2 plus 2?")
    question_id = (await me.messages(conversation_id))[0]["id"]
    url = f"/api/messages/{reply_id}/feedback"

    first = await me.client.post(url, json={"rating": "down", "comment": "  too short "})
    assert first.status_code == 200
    assert first.json() == {"message_id": reply_id, "rating": "down", "comment": "too short"}
    again = await me.client.post(url, json={"rating": "up"})
    assert again.json() == {"message_id": reply_id, "rating": "up", "comment": None}
    assert (await other.client.post(url, json={"rating": "up"})).status_code == 404
    assert (await me.client.post(f"/api/messages/{question_id}/feedback", json={"rating": "up"})).status_code == 404
    assert (await me.client.post(url, json={"rating": "meh"})).status_code == 422

    assert (await other.client.delete(url)).status_code == 404  # someone else's reply looks like a missing one
    assert (await me.client.delete(f"/api/messages/{question_id}/feedback")).status_code == 404
    assert (await me.client.delete("/api/messages/no-such-message/feedback")).status_code == 404
    assert (await me.client.delete(url)).status_code == 204
    assert (await me.client.delete(url)).status_code == 204  # nothing left to take back: still done
    assert (await other.client.get("/api/admin/feedback")).status_code == 403
