"""Presets ("assistants") through the REST API, on SQLite and on PostgreSQL (issue 26): a user's own, one an
administrator published (everyone uses it, no one else changes it), and a conversation that starts from one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from testing.fakes.server import ScriptedProvider, ThreadedServer
from testing.live import LiveApp, module_app
from tests.api.conftest import Account
from tests.postgres import drop_postgres_database, fresh_postgres_database

ROOT = {"username": "root", "password": "correct horse battery"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live_app(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    ollama_server: tuple[ScriptedProvider, ThreadedServer],
) -> Iterator[LiveApp]:
    """One live app per database; its first account, `root`, is the administrator (signed up before any test's)."""
    if request.param == "sqlite":
        apps = module_app(tmp_path_factory, ollama_server[1].url, "presets")
    else:
        url = fresh_postgres_database()
        request.addfinalizer(lambda: drop_postgres_database(url))
        apps = module_app(tmp_path_factory, ollama_server[1].url, "presets-pg", DATABASE_URL=url)
    for app in apps:
        with httpx.Client(base_url=app.url) as client:
            assert client.post("/api/auth/register", json=ROOT).status_code == 201
        yield app


@pytest.fixture
async def admin(live_app: LiveApp) -> AsyncIterator[Account]:
    client = httpx.AsyncClient(base_url=live_app.url, timeout=10)
    assert (await client.post("/api/auth/login", json=ROOT)).status_code == 200
    yield Account(client, ROOT["username"], ROOT["password"])
    await client.aclose()


async def create(account: Account, **body: object) -> dict:
    response = await account.client.post("/api/presets", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_preset_is_made_listed_changed_and_deleted_by_its_owner(make_account) -> None:
    me = await make_account()
    made = await create(
        me, name=" Translator ", model="ollama:llama3.2:3b", system_prompt="Translate into French.", temperature=0.2
    )
    assert (made["name"], made["model"], made["temperature"], made["tools"]) == (
        "Translator",
        "ollama:llama3.2:3b",
        0.2,
        None,
    )
    assert made["mine"] is True and made["read_only"] is False and made["shared"] is False

    changed = await me.client.patch(f"/api/presets/{made['id']}", json={"name": "French", "temperature": None})
    assert changed.status_code == 200
    assert (changed.json()["name"], changed.json()["temperature"]) == ("French", None)
    assert changed.json()["system_prompt"] == "Translate into French."  # what was not given stays
    assert [p["name"] for p in (await me.client.get("/api/presets")).json()] == ["French"]

    assert (await me.client.delete(f"/api/presets/{made['id']}")).status_code == 204
    assert (await me.client.get(f"/api/presets/{made['id']}")).status_code == 404
    assert (await me.client.get("/api/presets")).json() == []


async def test_values_obey_the_conversation_settings_rules(make_account) -> None:
    me = await make_account()
    for body in (
        {"name": "  "},
        {"name": "x", "temperature": 3},
        {"name": "x", "tools": ["not a tool"]},
        {"name": "x", "system_prompt": "a" * 8_001},
        {"name": "x", "colour": "red"},
    ):
        assert (await me.client.post("/api/presets", json=body)).status_code == 422, body


async def test_another_users_private_preset_is_not_found_anywhere(make_account) -> None:
    me, other = await make_account(), await make_account()
    mine = await create(me, name="Mine", system_prompt="secret instructions")
    url = f"/api/presets/{mine['id']}"
    assert (await other.client.get(url)).status_code == 404
    assert (await other.client.patch(url, json={"name": "Taken"})).status_code == 404
    assert (await other.client.delete(url)).status_code == 404
    assert (await other.client.get("/api/presets")).json() == []
    refused = await other.client.post("/api/conversations", json={"preset_id": mine["id"]})
    assert refused.status_code == 404
    assert (await me.client.get(url)).json()["name"] == "Mine"  # unchanged


async def test_an_administrator_publishes_a_preset_everyone_uses_and_no_one_else_changes(admin, make_account) -> None:
    user = await make_account()
    assert (await user.client.post("/api/presets", json={"name": "Mine", "shared": True})).status_code == 403
    own = await create(user, name="Own")
    assert (await user.client.patch(f"/api/presets/{own['id']}", json={"shared": True})).status_code == 403

    published = await create(admin, name="Company voice", system_prompt="Be brief.", shared=True)
    seen = {p["name"]: p for p in (await user.client.get("/api/presets")).json()}
    assert seen["Company voice"]["shared"] is True and seen["Company voice"]["read_only"] is True
    assert seen["Own"]["read_only"] is False
    url = f"/api/presets/{published['id']}"
    assert (await user.client.patch(url, json={"name": "Mine now"})).status_code == 403
    assert (await user.client.delete(url)).status_code == 403
    started = await user.client.post("/api/conversations", json={"preset_id": published["id"]})
    assert started.status_code == 201 and started.json()["system_prompt"] == "Be brief."

    withdrawn = await admin.client.patch(url, json={"shared": False})
    assert withdrawn.status_code == 200 and withdrawn.json()["shared"] is False
    assert (await user.client.get(url)).status_code == 404
    assert "Company voice" not in [p["name"] for p in (await user.client.get("/api/presets")).json()]


async def test_a_conversation_starts_with_its_presets_settings_and_records_it(make_account) -> None:
    me = await make_account()
    preset = await create(
        me,
        name="Analyst",
        model="ollama:analyst:7b",
        system_prompt="Answer with numbers.",
        temperature=0.3,
        tools=["chatui:current_time"],
    )
    response = await me.client.post("/api/conversations", json={"preset_id": preset["id"]})
    assert response.status_code == 201, response.text
    started = response.json()
    assert started["preset_id"] == preset["id"]
    assert (started["model"], started["system_prompt"], started["temperature"], started["tools"]) == (
        "ollama:analyst:7b",
        "Answer with numbers.",
        0.3,
        ["chatui:current_time"],
    )
    stored = (await me.client.get(f"/api/conversations/{started['id']}")).json()
    assert stored["preset_id"] == preset["id"] and stored["system_prompt"] == "Answer with numbers."

    chosen = await me.client.post("/api/conversations", json={"preset_id": preset["id"], "temperature": 1.5})
    assert chosen.json()["temperature"] == 1.5 and chosen.json()["system_prompt"] == "Answer with numbers."
    plain = await me.client.post("/api/conversations", json={})
    assert plain.json()["preset_id"] is None and plain.json()["tools"] == []

    await me.client.patch("/api/settings", json={"default_system_prompt": "Be kind."})
    bare = await create(me, name="Only a temperature", temperature=0.9)
    from_bare = (await me.client.post("/api/conversations", json={"preset_id": bare["id"]})).json()
    assert (from_bare["system_prompt"], from_bare["temperature"]) == ("Be kind.", 0.9)  # unset: the account's


async def test_saved_prompts_are_made_changed_and_deleted_and_only_their_owners(make_account) -> None:
    me, other = await make_account(), await make_account()
    made = await me.client.post(
        "/api/prompts",
        json={"name": "/Review", "title": "Code review", "text": "Review this {{language}} code:\n{{ code }}"},
    )
    assert made.status_code == 201, made.text
    prompt = made.json()
    assert (prompt["name"], prompt["title"], prompt["variables"]) == ("review", "Code review", ["language", "code"])
    taken = await me.client.post("/api/prompts", json={"name": "review", "text": "again"})
    assert taken.status_code == 422 and "already have a prompt named /review" in taken.text
    for bad in ({"name": "two words", "text": "x"}, {"name": "ok", "text": "   "}):
        assert (await me.client.post("/api/prompts", json=bad)).status_code == 422, bad

    url = f"/api/prompts/{prompt['id']}"
    changed = await me.client.patch(url, json={"title": None, "text": "Plain text"})
    assert changed.status_code == 200
    assert (changed.json()["title"], changed.json()["variables"], changed.json()["name"]) == (None, [], "review")
    for response in (
        await other.client.get(url),
        await other.client.patch(url, json={"text": "mine"}),
        await other.client.delete(url),
    ):
        assert response.status_code == 404
    assert (await other.client.get("/api/prompts")).json() == []
    assert [p["name"] for p in (await me.client.get("/api/prompts")).json()] == ["review"]
    assert (await me.client.delete(url)).status_code == 204
    assert (await me.client.get(url)).status_code == 404


async def test_a_fork_keeps_the_preset_its_conversation_started_from(live_app, make_account, fake_ollama) -> None:
    from testing.fakes.server import Script
    from tests.api.test_search_api import send

    fake_ollama.default = Script(tokens=["Bonjour", "."])
    me = await make_account()
    preset = await create(me, name="French", system_prompt="Answer in French.")
    started = (await me.client.post("/api/conversations", json={"preset_id": preset["id"]})).json()
    reply_id = await send(me, live_app, started["id"], "Hello")
    forked = await me.client.post(f"/api/conversations/{started['id']}/fork", json={"message_id": reply_id})
    assert forked.status_code == 201
    assert (forked.json()["preset_id"], forked.json()["system_prompt"]) == (preset["id"], "Answer in French.")
