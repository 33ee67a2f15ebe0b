"""Share links through the REST API, on SQLite and on PostgreSQL (issue 26): share, re-share, read, continue, revoke,
expire, ownership, the administrator's list, and the files a snapshot carries."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import create_engine, update

from storage.models import utcnow
from storage.shares import Share
from testing import attachments
from testing.fakes.server import Script, ScriptedProvider, ThreadedServer
from testing.live import LiveApp, module_app
from tests.api.conftest import Account
from tests.api.test_attachments_ws import upload
from tests.api.test_search_api import send
from tests.api.test_tree_ws import until_done
from tests.postgres import drop_postgres_database, fresh_postgres_database

DATABASES: dict[str, str] = {}
"""The live app's database URL, by the app's address (to make a link expire without waiting for it)."""


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live_app(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    ollama_server: tuple[ScriptedProvider, ThreadedServer],
) -> Iterator[LiveApp]:
    if request.param == "sqlite":
        for app in module_app(tmp_path_factory, ollama_server[1].url, "shares"):
            DATABASES[app.url] = f"sqlite:///{app.data_dir / 'database.db'}"
            yield app
        return
    url = fresh_postgres_database()
    try:
        for app in module_app(tmp_path_factory, ollama_server[1].url, "shares-pg", DATABASE_URL=url):
            DATABASES[app.url] = url
            yield app
    finally:
        drop_postgres_database(url)


@pytest.fixture(scope="module", autouse=True)
def admin_cookie(live_app: LiveApp) -> str:
    """The first account of the app (so its administrator), made before any test's own accounts."""
    with httpx.Client(base_url=live_app.url) as client:
        credentials = {"username": "root", "password": "correct horse battery"}
        assert client.post("/api/auth/register", json=credentials).status_code == 201
        assert client.post("/api/auth/login", json=credentials).status_code == 200
        return client.cookies["chatui_session"]


@pytest.fixture
async def admin(live_app: LiveApp, admin_cookie: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_app.url, cookies={"chatui_session": admin_cookie}) as client:
        yield client


@pytest.fixture
async def anonymous(live_app: LiveApp) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_app.url) as client:
        yield client


@pytest.fixture(autouse=True)
def a_model_that_sees(fake_ollama) -> None:
    fake_ollama.vision_models = {"llama3.2:3b"}


async def share(account: Account, conversation_id: str, **body: object) -> dict:
    response = await account.client.post(f"/api/conversations/{conversation_id}/share", json=body or None)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def read(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get(f"/api/shares/{token}")


async def chat(live_app: LiveApp, account: Account, fake_ollama, title: str, *turns: tuple[str, str]) -> str:
    conversation_id = await account.new_conversation(title=title)
    for question, answer in turns:
        fake_ollama.then(Script(tokens=[answer]))
        await send(account, live_app, conversation_id, question)
    return conversation_id


async def test_a_link_shows_the_path_as_shared_and_sharing_again_updates_it_under_the_same_token(
    live_app, make_account, anonymous, fake_ollama
) -> None:
    alice = await make_account()
    conversation_id = await chat(live_app, alice, fake_ollama, "Capybaras", ("How big?", "About **50 kg**."))
    first = await share(alice, conversation_id)
    token = first["token"]
    assert len(token) == 43 and first["url"] == f"{live_app.url}/s/{token}" and first["expires_at"] is None
    mine = (await alice.client.get(f"/api/conversations/{conversation_id}/share")).json()
    assert (mine["token"], mine["url"], mine["messages"], mine["expired"]) == (token, first["url"], 2, False)

    fake_ollama.then(Script(tokens=["Grass."]))
    await send(alice, live_app, conversation_id, "What do they eat?")
    shown = (await read(anonymous, token)).json()  # signed out; the later exchange is not in the snapshot
    assert shown["title"] == "Capybaras"
    assert [(m["role"], m["content"]) for m in shown["messages"]] == [
        ("user", "How big?"),
        ("assistant", "About **50 kg**."),
    ]

    again = await share(alice, conversation_id)
    assert again["token"] == token and again["url"] == first["url"]
    assert [m["content"] for m in (await read(anonymous, token)).json()["messages"]][-1] == "Grass."
    listed = (await alice.client.get("/api/shares")).json()
    assert [(s["conversation_id"], s["token"], s["messages"], s["expired"]) for s in listed] == [
        (conversation_id, token, 4, False)
    ]


async def test_another_users_conversation_or_link_is_not_found(live_app, make_account, fake_ollama) -> None:
    alice, bob = await make_account(), await make_account()
    conversation_id = await chat(live_app, alice, fake_ollama, "Private", ("Hi", "Hello."))
    assert (await bob.client.post(f"/api/conversations/{conversation_id}/share", json=None)).status_code == 404
    await share(alice, conversation_id)
    assert (await bob.client.delete(f"/api/conversations/{conversation_id}/share")).status_code == 404
    assert (await bob.client.get(f"/api/conversations/{conversation_id}/share")).status_code == 404
    assert (await bob.client.get("/api/shares")).json() == []
    assert (await bob.client.get("/api/admin/shares")).status_code == 403
    missing = (await alice.client.post("/api/conversations/no-such-id/share", json=None)).status_code
    assert missing == 404


async def test_a_revoked_link_answers_404_everywhere_at_once(live_app, make_account, anonymous, fake_ollama) -> None:
    alice, bob = await make_account(), await make_account()
    conversation_id = await chat(live_app, alice, fake_ollama, "Soon gone", ("Hi", "Hello."))
    token = (await share(alice, conversation_id))["token"]
    assert (await read(anonymous, token)).status_code == 200

    assert (await alice.client.delete(f"/api/conversations/{conversation_id}/share")).status_code == 204
    assert (await read(anonymous, token)).status_code == 404
    assert (await bob.client.post(f"/api/shares/{token}/continue")).status_code == 404
    assert (await alice.client.delete(f"/api/conversations/{conversation_id}/share")).status_code == 404
    assert (await alice.client.get("/api/shares")).json() == []
    assert (await anonymous.get(f"/s/{token}")).status_code == 404  # the page too

    renewed = (await share(alice, conversation_id))["token"]  # shared again after a revocation: a new token
    assert renewed != token and (await read(anonymous, renewed)).status_code == 200


async def test_an_expired_link_answers_404_and_its_expiry_is_bounded(
    live_app, make_account, anonymous, fake_ollama
) -> None:
    alice = await make_account()
    conversation_id = await chat(live_app, alice, fake_ollama, "Brief", ("Hi", "Hello."))
    url = f"/api/conversations/{conversation_id}/share"
    for days in (0, 366, "soon"):
        assert (await alice.client.post(url, json={"expires_in_days": days})).status_code == 422
    created = await share(alice, conversation_id, expires_in_days=7)
    assert created["expires_at"] is not None and (await read(anonymous, created["token"])).status_code == 200

    engine = create_engine(DATABASES[live_app.url])
    with engine.begin() as connection:  # a week later
        past = utcnow() - timedelta(seconds=1)
        connection.execute(
            update(Share.__table__).where(Share.conversation_id == conversation_id).values(expires_at=past)
        )
    engine.dispose()
    assert (await read(anonymous, created["token"])).status_code == 404
    assert (await alice.client.post(f"/api/shares/{created['token']}/continue")).status_code == 404
    assert [s["expired"] for s in (await alice.client.get("/api/shares")).json()] == [True]
    await share(alice, conversation_id)  # sharing again opens it again, without an expiry now
    assert (await read(anonymous, created["token"])).status_code == 200


async def test_continue_copies_the_snapshot_with_its_files_into_the_viewers_account(
    live_app, make_account, anonymous, fake_ollama
) -> None:
    alice, bob = await make_account(), await make_account()
    image, unsent = await upload(alice, "square.png", attachments.png()), await upload(alice, "other.txt", b"secret")
    conversation_id = await alice.new_conversation(title="A square")
    fake_ollama.then(Script(tokens=["A red square."]))
    async with alice.socket(live_app, conversation_id) as ws:
        await ws.send(json.dumps({"type": "message", "content": "What is this?", "attachments": [image["id"]]}))
        await until_done(ws)
    token = (await share(alice, conversation_id))["token"]

    shown = (await read(anonymous, token)).json()["messages"]
    assert [f["name"] for f in shown[0]["files"]] == ["square.png"]
    through_link = await anonymous.get(f"/s/{token}/files/{image['id']}")
    assert through_link.status_code == 200 and through_link.content == attachments.png()
    assert through_link.headers["x-robots-tag"] == "noindex, nofollow"
    assert (await anonymous.get(f"/s/{token}/files/{unsent['id']}")).status_code == 404  # not in the snapshot
    assert (await anonymous.get(f"/api/files/{image['id']}")).status_code == 401  # nothing else serves it
    assert (await bob.client.get(f"/api/files/{image['id']}")).status_code == 404

    assert (await anonymous.post(f"/api/shares/{token}/continue")).status_code == 401
    continued = await bob.client.post(f"/api/shares/{token}/continue")
    assert continued.status_code == 201
    copy = (await bob.client.get(f"/api/conversations/{continued.json()['id']}")).json()
    assert copy["title"] == "A square"
    question, reply = copy["messages"]
    assert (question["content"], reply["content"], reply["parent_id"]) == (
        "What is this?",
        "A red square.",
        question["id"],
    )
    own_file = question["attachments"][0]
    assert own_file["name"] == "square.png" and own_file["id"] != image["id"]
    assert (await bob.client.get(f"/api/files/{own_file['id']}")).content == attachments.png()
    assert (await alice.client.get(f"/api/files/{own_file['id']}")).status_code == 404

    fake_ollama.then(Script(tokens=["It is red."]))
    await send(bob, live_app, continued.json()["id"], "What colour?")  # Bob carries it on in his own account
    assert len((await read(anonymous, token)).json()["messages"]) == 2  # the link is unchanged


async def test_an_administrator_lists_and_revokes_every_link(
    live_app, make_account, admin, anonymous, fake_ollama
) -> None:
    alice = await make_account()
    conversation_id = await chat(live_app, alice, fake_ollama, "Listed", ("Hi", "Hello."))
    token = (await share(alice, conversation_id))["token"]
    listed = [s for s in (await admin.get("/api/admin/shares")).json() if s["conversation_id"] == conversation_id]
    assert [(s["username"], s["title"], s["token"], s["url"]) for s in listed] == [
        (alice.username, "Listed", None, None)
    ]

    assert (await admin.delete(f"/api/admin/shares/{listed[0]['id']}")).status_code == 204
    assert (await read(anonymous, token)).status_code == 404
    assert (await admin.delete(f"/api/admin/shares/{listed[0]['id']}")).status_code == 404
    assert (await alice.client.delete(f"/api/admin/shares/{listed[0]['id']}")).status_code == 403


async def test_a_disabled_accounts_links_close_with_it(live_app, make_account, admin, anonymous, fake_ollama) -> None:
    alice = await make_account()
    conversation_id = await chat(live_app, alice, fake_ollama, "Paused", ("Hi", "Hello."))
    token = (await share(alice, conversation_id))["token"]
    alice_id = (await alice.client.get("/api/auth/me")).json()["id"]
    assert (await admin.patch(f"/api/admin/users/{alice_id}", json={"disabled": True})).status_code == 200
    assert (await read(anonymous, token)).status_code == 404
    assert (await admin.patch(f"/api/admin/users/{alice_id}", json={"disabled": False})).status_code == 200
    assert (await read(anonymous, token)).status_code == 200


async def test_links_are_not_exported(live_app, make_account, fake_ollama) -> None:
    alice = await make_account()
    conversation_id = await chat(live_app, alice, fake_ollama, "Exported", ("Hi", "Hello."))
    token = (await share(alice, conversation_id))["token"]
    exported = await alice.client.get("/api/export")
    assert exported.status_code == 200 and "Exported" in exported.text and token not in exported.text


async def test_deleting_the_conversation_ends_its_link(live_app, make_account, anonymous, fake_ollama) -> None:
    alice = await make_account()
    conversation_id = await chat(live_app, alice, fake_ollama, "Deleted", ("Hi", "Hello."))
    token = (await share(alice, conversation_id))["token"]
    assert (await alice.client.delete(f"/api/conversations/{conversation_id}")).status_code == 204
    assert (await read(anonymous, token)).status_code == 404
    assert (await anonymous.get(f"/api/shares/{'x' * 43}")).status_code == 404
