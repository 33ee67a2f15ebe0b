"""The administration API, as its clients see it: each account's state, approve, promote, create, delete, invite,
the sign-up mode; and a pending account that can sign in to nothing (in-process, through the app's own wiring)."""

from __future__ import annotations

import httpx
import pytest
from nicegui.testing import User

pytestmark = pytest.mark.usefixtures("app_env")

PASSWORD = "password123"


@pytest.fixture
def approval(app_env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHATUI_SIGNUP")  # the default


async def sign_up(client: httpx.AsyncClient, name: str, **extra: str) -> httpx.Response:
    return await client.post("/api/auth/register", json={"username": name, "password": PASSWORD, **extra})


async def sign_in(client: httpx.AsyncClient, name: str) -> httpx.Response:
    return await client.post("/api/auth/login", json={"username": name, "password": PASSWORD})


async def states(admin: httpx.AsyncClient) -> dict[str, dict]:
    response = await admin.get("/api/admin/users")
    assert response.status_code == 200
    return {u["username"]: u for u in response.json()}


async def test_a_pending_account_signs_in_to_nothing_until_approved(approval, user: User, create_user) -> None:
    admin = user.http_client
    first = await sign_up(admin, "root")
    assert first.status_code == 201 and first.json()["approved"] is True  # the first: admin, approved, any mode
    assert (await sign_in(admin, "root")).status_code == 200

    pending = create_user().http_client
    signed_up = await sign_up(pending, "waiting")
    assert signed_up.status_code == 201 and signed_up.json()["approved"] is False
    refused = await sign_in(pending, "waiting")
    assert refused.status_code == 403 and "approval" in refused.json()["detail"]
    assert "chatui_session" not in pending.cookies
    assert (await pending.get("/api/conversations")).status_code == 401

    listed = await states(admin)
    assert listed["waiting"]["state"] == "pending" and listed["waiting"]["approved"] is False
    assert listed["root"]["state"] == "active" and listed["root"]["is_admin"] is True

    user_id = signed_up.json()["id"]
    approved = await admin.patch(f"/api/admin/users/{user_id}", json={"approved": True})
    assert approved.status_code == 200 and approved.json()["state"] == "active"
    assert (await sign_in(pending, "waiting")).status_code == 200
    assert (await pending.get("/api/conversations")).status_code == 200

    # taking the approval back ends the account's sessions at once
    withdrawn = await admin.patch(f"/api/admin/users/{user_id}", json={"approved": False})
    assert withdrawn.json()["state"] == "pending"
    assert (await pending.get("/api/conversations")).status_code == 401


async def test_create_promote_demote_delete_and_the_rules_about_oneself(user: User, create_user) -> None:
    admin = user.http_client
    await sign_up(admin, "root")
    await sign_in(admin, "root")
    root_id = (await admin.get("/api/auth/me")).json()["id"]

    created = await admin.post("/api/admin/users", json={"username": "made", "password": PASSWORD})
    assert created.status_code == 201 and created.json()["state"] == "active" and not created.json()["is_admin"]
    made_id = created.json()["id"]
    taken = await admin.post("/api/admin/users", json={"username": "MADE", "password": PASSWORD})
    assert taken.status_code == 409

    other = create_user().http_client
    assert (await sign_in(other, "made")).status_code == 200
    assert (await other.get("/api/admin/users")).status_code == 403
    promoted = await admin.patch(f"/api/admin/users/{made_id}", json={"is_admin": True})
    assert promoted.json()["is_admin"] is True
    assert (await other.get("/api/admin/users")).status_code == 200  # the same session, an administrator now
    await admin.patch(f"/api/admin/users/{made_id}", json={"is_admin": False})
    assert (await other.get("/api/admin/users")).status_code == 403

    # never oneself: so there is always an administrator left
    assert (await admin.patch(f"/api/admin/users/{root_id}", json={"is_admin": False})).status_code == 409
    assert (await admin.patch(f"/api/admin/users/{root_id}", json={"approved": False})).status_code == 409
    assert (await admin.delete(f"/api/admin/users/{root_id}")).status_code == 409

    conversation = await other.post("/api/conversations", json={"title": "mine"})
    assert conversation.status_code == 201
    assert (await admin.delete(f"/api/admin/users/{made_id}")).status_code == 204
    assert (await other.get("/api/auth/me")).status_code == 401
    assert "made" not in await states(admin)
    assert (await admin.delete(f"/api/admin/users/{made_id}")).status_code == 404
    assert (await sign_in(other, "made")).status_code == 401


async def test_an_invitation_signs_up_once_whatever_the_mode(user: User, create_user) -> None:
    admin = user.http_client
    await sign_up(admin, "root")
    await sign_in(admin, "root")
    assert (await admin.put("/api/admin/signup", json={"mode": "closed"})).json() == {"mode": "closed"}
    assert (await admin.get("/api/admin/signup")).json() == {"mode": "closed"}
    assert (await admin.put("/api/admin/signup", json={"mode": "everyone"})).status_code == 422

    stranger = create_user().http_client
    closed = await sign_up(stranger, "stranger")
    assert closed.status_code == 403 and "closed" in closed.json()["detail"]

    invite = await admin.post("/api/admin/invites")
    assert invite.status_code == 201
    url = invite.json()["url"]
    assert "/login?invite=" in url
    token = url.split("invite=")[1]
    welcomed = await sign_up(stranger, "guest", invite=token)
    assert welcomed.status_code == 201 and welcomed.json()["approved"] is True
    assert (await sign_in(stranger, "guest")).status_code == 200
    again = await sign_up(create_user().http_client, "guest2", invite=token)
    assert again.status_code == 403 and "already used" in again.json()["detail"]
    assert "guest2" not in await states(admin)  # refused sign-ups leave no account behind
    assert (await stranger.post("/api/admin/invites")).status_code == 403
