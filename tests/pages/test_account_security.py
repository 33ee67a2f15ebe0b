"""Accounts in the UI: revocation reaches open pages, password change, sign-in throttling, the admin page."""

from __future__ import annotations

import pytest
from nicegui import ElementFilter, app
from nicegui.testing import User

from chatui.web.sign_in_binding import BINDING_COOKIE
from tests.pages.test_chat_flow import register_and_sign_in

pytestmark = pytest.mark.usefixtures("app_env")


async def me(user: User) -> dict:
    return (await user.http_client.get("/api/auth/me")).json()


async def test_disabling_the_account_sends_the_open_page_to_sign_in(user: User) -> None:
    await user.http_client.post("/api/auth/register", json={"username": "first-admin", "password": "password123"})
    await register_and_sign_in(user, "victim")
    victim = await me(user)
    await user.should_see("New chat")
    await app.state.services.auth.set_disabled(victim["id"], True)
    await user.should_see("Sign in", retries=30)
    assert (await user.http_client.get("/api/auth/me")).status_code == 401
    user.find("Username").type("victim")
    user.find("Password").type("correct horse")
    user.find("Sign in").click()
    await user.should_see("This account is disabled; ask an administrator.")


async def test_changing_the_password_ends_every_session(user: User) -> None:
    await register_and_sign_in(user, "changer")
    old_cookie = user.http_client.cookies["chatui_session"]
    user.find(marker="account").click()
    user.find(marker="change-password").click()
    await user.should_see("Current password")
    user.find("Current password").type("correct horse")
    user.find("New password").type("a brand new secret")
    user.find(marker="save-password").click()
    await user.should_see("Sign in", retries=30)
    user.http_client.cookies.set("chatui_session", old_cookie)
    assert (await user.http_client.get("/api/auth/me")).status_code == 401
    login = await user.http_client.post("/api/auth/login", json={"username": "changer", "password": "correct horse"})
    assert login.status_code == 401
    login = await user.http_client.post(
        "/api/auth/login", json={"username": "changer", "password": "a brand new secret"}
    )
    assert login.status_code == 200


async def test_wrong_current_password_changes_nothing(user: User) -> None:
    await register_and_sign_in(user, "careful")
    user.find(marker="account").click()
    user.find(marker="change-password").click()
    await user.should_see("Current password")
    user.find("Current password").type("not my password")
    user.find("New password").type("a brand new secret")
    user.find(marker="save-password").click()
    await user.should_see("The current password is wrong.")
    assert (await user.http_client.get("/api/auth/me")).status_code == 200


@pytest.fixture
def few_attempts(app_env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATUI_LOGIN_ATTEMPTS", "3")


async def test_sign_in_form_is_throttled(few_attempts, user: User) -> None:
    await register_and_sign_in(user, "target")
    user.http_client.cookies.clear()
    await user.open("/login")
    with user:
        error = next(iter(ElementFilter(marker="login-error", only_visible=False)))
    for _ in range(3):
        error.text = ""  # so that each attempt's own answer is awaited
        user.find("Username").clear().type("target")
        user.find("Password").clear().type("guess-guess")
        user.find("Sign in").click()
        await user.should_see("Wrong username or password.")
    user.find("Password").clear().type("correct horse")  # even the right password waits now
    user.find("Sign in").click()
    await user.should_see("Too many sign-in attempts", retries=20)
    assert "chatui_session" not in user.http_client.cookies


async def test_admin_page_lists_and_disables_accounts(user: User, create_user) -> None:
    await register_and_sign_in(user, "boss")
    other = create_user()
    await register_and_sign_in(other, "worker")
    assert (await other.http_client.get("/api/admin/users")).status_code == 403
    response = await other.http_client.get("/admin")
    assert response.status_code == 404 and "worker" not in response.text

    await user.open("/admin")
    await user.should_see(marker="user-worker")
    with user.scope(marker="user-worker"):
        user.find("Disable").click()
    await user.should_see("disabled", retries=20)
    assert (await other.http_client.get("/api/auth/me")).status_code == 401
    users = {u["username"]: u for u in (await user.http_client.get("/api/admin/users")).json()}
    assert users["worker"]["is_disabled"] and users["boss"]["is_admin"]


async def test_admin_api_resets_a_password(user: User, create_user) -> None:
    await register_and_sign_in(user, "chief")
    other = create_user()
    await register_and_sign_in(other, "forgetful")
    worker_id = (await other.http_client.get("/api/auth/me")).json()["id"]
    reset = await user.http_client.patch(f"/api/admin/users/{worker_id}", json={"password": "reset-by-admin"})
    assert reset.status_code == 200
    assert (await other.http_client.get("/api/auth/me")).status_code == 401  # their sessions ended
    login = await other.http_client.post(
        "/api/auth/login", json={"username": "forgetful", "password": "reset-by-admin"}
    )
    assert login.status_code == 200
    assert (await other.http_client.patch(f"/api/admin/users/{worker_id}", json={"disabled": True})).status_code == 403


@pytest.fixture
def single_user(app_env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATUI_SINGLE_USER", "1")


async def test_single_user_mode_needs_no_sign_in(single_user, user: User) -> None:
    user.http_client.base_url = "http://localhost:8001"  # the test client's own host name is not a loopback one
    await user.open("/")
    await user.should_see("New chat")
    await user.should_see("local")
    await user.should_not_see("Sign out")
    assert (await user.http_client.get("/api/auth/me")).json()["username"] == "local"
    response = await user.http_client.get("/login", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"


async def test_single_user_mode_answers_only_to_loopback_names(single_user, user: User) -> None:
    assert (await user.http_client.get("/api/health", headers={"Host": "localhost:8001"})).status_code == 200
    rebound = await user.http_client.get("/api/auth/me", headers={"Host": "attacker.example:8001"})
    assert rebound.status_code == 403


@pytest.fixture
def behind_tls(app_env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATUI_SECURE_COOKIES", "true")


async def test_cookie_is_secure_behind_a_tls_proxy(behind_tls, user: User) -> None:
    credentials = {"username": "tls-user", "password": "password123"}
    await user.http_client.post("/api/auth/register", json=credentials)
    login = await user.http_client.post("/api/auth/login", json=credentials)
    cookie = login.headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "samesite=strict" in cookie.lower()


async def test_cookie_is_not_secure_on_plain_http_by_default(user: User) -> None:
    credentials = {"username": "plain-user", "password": "password123"}
    await user.http_client.post("/api/auth/register", json=credentials)
    login = await user.http_client.post("/api/auth/login", json=credentials)
    assert "Secure" not in login.headers["set-cookie"]  # a browser would drop it on http://127.0.0.1


async def test_change_password_dialog_limits_current_password_guesses(few_attempts, user: User) -> None:
    await register_and_sign_in(user, "guessed")
    user.find(marker="account").click()
    user.find(marker="change-password").click()
    await user.should_see("Current password")
    for n in range(3):
        user.find("Current password").clear().type(f"guess number {n}")
        user.find("New password").clear().type("a brand new secret")
        user.find(marker="save-password").click()
        await user.should_see("The current password is wrong.")
        with user:
            next(iter(ElementFilter(content="The current password is wrong."))).text = ""
    user.find("Current password").clear().type("correct horse")  # even the right one waits now
    user.find(marker="save-password").click()
    await user.should_see("Too many wrong passwords", retries=20)
    assert (await user.http_client.get("/api/auth/me")).status_code == 200  # nothing changed, still signed in


async def test_a_sign_in_ticket_works_only_in_the_browser_that_asked_for_it(user: User) -> None:
    """Login CSRF: a ticket for the attacker's account, issued to the attacker's browser, opened by the victim's."""
    services = app.state.services
    mallory = await services.auth.register("mallory", "password123")
    await user.open("/login")  # the victim's browser gets its own sign-in cookie here
    assert user.http_client.cookies.get(BINDING_COOKIE)
    for cookies in ("victim's own", "none"):
        if cookies == "none":
            user.http_client.cookies.clear()
        ticket = await services.auth.issue_ticket(mallory, "mallorys-browser")
        opened = await user.http_client.get(f"/auth/complete?ticket={ticket}", follow_redirects=False)
        assert opened.status_code == 303 and opened.headers["location"] == "/login?expired=1"
        assert "chatui_session" not in user.http_client.cookies
    assert (await user.http_client.get("/api/auth/me")).status_code == 401
    await register_and_sign_in(user, "victim")  # the browser's own sign-in still completes
    assert (await me(user))["username"] == "victim"


async def test_sign_out_is_an_event_of_the_page_not_a_link(user: User) -> None:
    await register_and_sign_in(user, "leaver")
    link = await user.http_client.get("/auth/signed-out")  # what `[x](/auth/signed-out)` in a message opens
    assert "chatui_session" not in link.headers.get("set-cookie", "")
    assert (await user.http_client.get("/api/auth/me")).status_code == 200
    user.find(marker="account").click()
    user.find(marker="sign-out").click()
    await user.should_see("Sign in", retries=20)
    assert (await user.http_client.get("/api/auth/me")).status_code == 401
