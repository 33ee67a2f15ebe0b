"""Who may sign up, seen from the sign-in page and the administration page: approval (the default), closed with
invitation links, the switch, and what an administrator does to accounts (approve, reject, promote, delete)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from nicegui import ElementFilter, app, ui
from nicegui.testing import User

from chatui.accounts.auth import INVITE_UNUSABLE, PENDING_MESSAGE, SIGNUP_CLOSED
from chatui.ui.login import APPROVAL_HINT, CLOSED_HINT, INVITED, PENDING_CREATED
from tests.pages.test_chat_flow import register_and_sign_in

pytestmark = pytest.mark.usefixtures("app_env")


@pytest.fixture
def approval(app_env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHATUI_SIGNUP")  # the default


@pytest.fixture
def closed(app_env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATUI_SIGNUP", "closed")


async def fill(user: User, name: str, password: str = "correct horse") -> None:
    user.find("Username").clear().type(name)
    user.find("Password").clear().type(password)


async def test_by_default_a_new_account_waits_until_an_administrator_approves_it(
    approval, user: User, create_user
) -> None:
    await user.open("/login")
    await user.should_not_see(marker="signup-hint")  # the first account: nothing to wait for
    await register_and_sign_in(user, "boss")  # ... and it is the administrator

    other = create_user()
    await other.open("/login")
    await other.should_see(APPROVAL_HINT)
    await fill(other, "newcomer")
    other.find("Create account").click()
    await other.should_see(PENDING_CREATED, retries=20)
    assert "chatui_session" not in other.http_client.cookies
    await fill(other, "newcomer")
    other.find("Sign in").click()
    await other.should_see(PENDING_MESSAGE, retries=20)
    assert "chatui_session" not in other.http_client.cookies

    await user.open("/admin")
    with user.scope(marker="user-newcomer"):
        await user.should_see("waiting for approval")
    user.find(marker="approve-newcomer").click()
    await user.should_see("newcomer can sign in now.", retries=20)

    other.find("Sign in").click()
    await other.should_see("New chat", retries=30)


async def test_a_rejected_sign_up_is_gone(approval, user: User, create_user) -> None:
    await register_and_sign_in(user, "boss")
    other = create_user()
    signed_up = await other.http_client.post("/api/auth/register", json={"username": "spam", "password": "x" * 10})
    assert signed_up.status_code == 201 and signed_up.json()["approved"] is False
    await user.open("/admin")
    user.find(marker="reject-spam").click()
    await user.should_see("spam's sign-up was rejected.", retries=20)
    await user.should_not_see(marker="user-spam")
    login = await other.http_client.post("/api/auth/login", json={"username": "spam", "password": "x" * 10})
    assert login.status_code == 401


async def test_closed_sign_up_takes_an_invitation_link_once(closed, user: User, create_user) -> None:
    await user.open("/login")
    await user.should_not_see(marker="signup-hint")  # the first account can always be created
    await register_and_sign_in(user, "boss")

    stranger = create_user()
    await stranger.open("/login")
    await stranger.should_see(CLOSED_HINT)
    await fill(stranger, "stranger")
    stranger.find("Create account").click()
    await stranger.should_see(SIGNUP_CLOSED, retries=20)

    await user.open("/admin")
    user.find("Invitation link").click()
    await user.should_see(marker="invite-url", retries=20)
    [link] = user.find(marker="invite-url").elements
    url = str(link.value)  # type: ignore[attr-defined]
    assert url.startswith("http") and "/login?invite=" in url
    path = url[url.index("/login") :]

    invited = create_user()
    await invited.open(path)
    await invited.should_see(INVITED)
    await fill(invited, "guest")
    invited.find("Create account").click()
    await invited.should_see("New chat", retries=30)  # works at once, in a closed mode

    again = create_user()
    await again.open(path)
    await again.should_see(INVITE_UNUSABLE)
    await fill(again, "second-guest")
    again.find("Create account").click()
    await again.should_see(INVITE_UNUSABLE, retries=20)
    login = await again.http_client.post("/api/auth/login", json={"username": "second-guest", "password": "x" * 10})
    assert login.status_code == 401


async def test_an_expired_invitation_creates_nothing(closed, user: User, create_user) -> None:
    await register_and_sign_in(user, "boss")
    services = app.state.services
    services.signup.invite_lifetime = timedelta(seconds=-1)  # made already expired
    invite = (await user.http_client.post("/api/admin/invites")).json()["url"]
    token = invite.split("invite=")[1]
    late = create_user()
    body = {"username": "late", "password": "correct horse", "invite": token}
    refused = await late.http_client.post("/api/auth/register", json=body)
    assert refused.status_code == 403 and refused.json()["detail"] == INVITE_UNUSABLE


async def test_the_switch_on_the_admin_page_changes_who_may_sign_up(approval, user: User, create_user) -> None:
    await register_and_sign_in(user, "boss")
    await user.open("/admin")
    with user:
        [switch] = ElementFilter(marker="signup-mode", kind=ui.select)
    assert switch.value == "approval"
    switch.set_value("closed")
    await user.should_see("Sign-up: closed.", retries=20)
    assert (await user.http_client.get("/api/admin/signup")).json() == {"mode": "closed"}
    other = create_user()
    await other.open("/login")
    await other.should_see(CLOSED_HINT)


async def test_an_administrator_promotes_demotes_and_deletes_with_a_typed_confirmation(user: User, create_user) -> None:
    await register_and_sign_in(user, "boss")
    other = create_user()
    await register_and_sign_in(other, "worker")
    created = await other.http_client.post("/api/conversations", json={"title": "worker's notes"})
    assert created.status_code == 201
    worker_id = (await other.http_client.get("/api/auth/me")).json()["id"]

    await user.open("/admin")
    await user.should_not_see(marker="delete-boss")  # not oneself
    user.find(marker="role-worker").click()  # Make admin
    await user.should_see("worker is an administrator.", retries=20)
    assert (await other.http_client.get("/api/admin/users")).status_code == 200
    user.find(marker="role-worker").click()  # Demote
    await user.should_see("worker is no longer an administrator.", retries=20)
    assert (await other.http_client.get("/api/admin/users")).status_code == 403

    user.find(marker="delete-worker").click()
    await user.should_see("Delete worker?")
    user.find("Username").type("worke")
    user.find(marker="confirm-delete").click()
    await user.should_see("Type worker to confirm.")
    assert (await other.http_client.get("/api/auth/me")).status_code == 200  # nothing happened yet
    user.find("Username").type("r")
    user.find(marker="confirm-delete").click()
    await user.should_see("worker and their data were deleted.", retries=20)
    await user.should_not_see(marker="user-worker")
    assert (await other.http_client.get("/api/auth/me")).status_code == 401
    services = app.state.services
    assert await services.store.accounts.user_by_id(worker_id) is None
    assert await services.store.chats.get_conversation(worker_id, created.json()["id"]) is None
