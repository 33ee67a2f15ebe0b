"""The page of a share link, `/s/{token}`, as its readers use it (issue 26): read signed out, Continue this chat
(signed in, or through sign-in and back), a revoked link, and CHATUI_SHARE_REQUIRES_LOGIN."""

from __future__ import annotations

import sys
from urllib.parse import quote

import pytest
from nicegui import ui
from nicegui.testing import User

from testing.fakes.server import Script
from tests.pages.test_chat_flow import register_and_sign_in, send

pytestmark = pytest.mark.usefixtures("app_env")


async def shared_chat(user: User, fake_ollama) -> tuple[str, str]:
    """Alice asks one question and shares the conversation: (its id, the link's token)."""
    fake_ollama.then(Script(tokens=["Capybaras weigh about ", "**50 kg**", "."]))
    await register_and_sign_in(user)
    await send(user, "How big are capybaras?")
    await user.should_see("Capybaras weigh about", retries=50)
    [conversation] = (await user.http_client.get("/api/conversations")).json()
    await user.http_client.patch(f"/api/conversations/{conversation['id']}", json={"title": "Capybaras"})
    shared = await user.http_client.post(f"/api/conversations/{conversation['id']}/share")
    assert shared.status_code == 200, shared.text
    return conversation["id"], shared.json()["token"]


async def test_a_reader_signed_out_sees_the_conversation_and_only_continue(user: User, create_user, fake_ollama):
    _, token = await shared_chat(user, fake_ollama)
    reader = create_user()
    await reader.open(f"/s/{token}")
    await reader.should_see("Capybaras", marker="shared-title")
    await reader.should_see("How big are capybaras?")
    await reader.should_see(marker="assistant-message")
    await reader.should_see("Continue this chat")
    await reader.should_not_see("Message")  # no composer
    await reader.should_not_see(marker="drawer-toggle")

    page = await reader.http_client.get(f"/s/{token}")
    assert page.status_code == 200
    assert '<meta name="robots" content="noindex, nofollow">' in page.text
    assert page.headers["x-robots-tag"] == "noindex, nofollow"
    shown = [element.content for element in reader.find(kind=ui.html).elements]
    assert any("<strong>50 kg</strong>" in html for html in shown)  # the chat's Markdown rendering
    button = reader.find(marker="continue-shared").elements.pop()
    assert button.props["href"] == f"/login?next={quote(f'/s/{token}?continue=1', safe='')}"


async def test_continue_signed_out_signs_in_then_opens_the_copy(user: User, create_user, fake_ollama):
    _, token = await shared_chat(user, fake_ollama)
    reader = create_user()
    await reader.open(f"/login?next={quote(f'/s/{token}?continue=1', safe='')}")
    reader.find("Username").type("bob")
    reader.find("Password").type("correct horse")
    reader.find("Create account").click()
    await reader.should_see("How big are capybaras?", retries=30)
    await reader.should_see("Message")  # Bob's own chat now: he can carry it on
    [copy] = (await reader.http_client.get("/api/conversations")).json()
    assert copy["title"] == "Capybaras"
    back = await reader.http_client.get(f"/login?next={quote(f'/s/{token}?continue=1', safe='')}")  # Back
    assert back.status_code == 303 and back.headers["location"] == f"/s/{token}"  # no second copy


async def test_continue_signed_in_copies_and_opens_it(user: User, create_user, fake_ollama):
    conversation_id, token = await shared_chat(user, fake_ollama)
    reader = create_user()
    await register_and_sign_in(reader, "carol")
    await reader.open(f"/s/{token}")
    await reader.should_see("Continue this chat")
    reader.find(marker="continue-shared").click()
    await reader.should_see("Message", retries=30)
    [copy] = (await reader.http_client.get("/api/conversations")).json()
    assert copy["id"] != conversation_id and copy["title"] == "Capybaras"


async def test_a_revoked_link_is_not_found(user: User, create_user, fake_ollama):
    conversation_id, token = await shared_chat(user, fake_ollama)
    assert (await user.http_client.delete(f"/api/conversations/{conversation_id}/share")).status_code == 204
    page = await create_user().http_client.get(f"/s/{token}")
    assert page.status_code == 404
    assert "This link does not exist, was revoked or has expired." in page.text
    assert "capybaras" not in page.text.lower()


@pytest.fixture
def sign_in_required(monkeypatch: pytest.MonkeyPatch) -> None:
    """Set before the `user` fixture runs `main.py` (asked for before it)."""
    monkeypatch.setenv("CHATUI_SHARE_REQUIRES_LOGIN", "true")


async def test_with_sign_in_required_a_reader_signs_in_first(sign_in_required, user: User, create_user, fake_ollama):
    _, token = await shared_chat(user, fake_ollama)
    reader = create_user()
    assert (await reader.http_client.get(f"/api/shares/{token}")).status_code == 401
    page = await reader.http_client.get(f"/s/{token}", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == f"/login?next=%2Fs%2F{token}"
    await reader.open(page.headers["location"])
    reader.find("Username").type("dave")
    reader.find("Password").type("correct horse")
    reader.find("Create account").click()
    await reader.should_see("How big are capybaras?", retries=30)
    await reader.should_see("Continue this chat")


async def test_the_share_dialog_creates_updates_and_revokes_the_link(user: User, fake_ollama):
    conversation_id, _ = await shared_chat(user, fake_ollama)
    assert (await user.http_client.delete(f"/api/conversations/{conversation_id}/share")).status_code == 204
    await user.open(f"/chat/{conversation_id}")
    user.find(marker="conversation-menu").click()
    user.find(marker="share").click()
    await user.should_see(marker="share-dialog")
    user.find(marker="share-expiry").elements.pop().set_value(7)
    user.find(marker="create-share").click()
    await user.should_see(marker="share-url", retries=20)
    [link] = (await user.http_client.get("/api/shares")).json()
    assert link["expires_at"] is not None
    assert user.find(marker="share-url").elements.pop().value == link["url"]

    await user.open(f"/chat/{conversation_id}")  # the dialog again: an update keeps the link's expiry date
    user.find(marker="conversation-menu").click()
    user.find(marker="share").click()
    await user.should_see(marker="share-url")
    assert user.find(marker="share-expiry").elements.pop().value == -1
    user.find(marker="update-share").click()
    await user.should_see("Link copied.")
    [again] = (await user.http_client.get("/api/shares")).json()
    assert (again["token"], again["expires_at"]) == (link["token"], link["expires_at"])
    assert again["shared_at"] > link["shared_at"]
    user.find(marker="revoke-share").click()
    await user.should_see(marker="create-share", retries=20)
    assert (await user.http_client.get("/api/shares")).json() == []


async def test_settings_list_the_persons_links_and_revoke_them(user: User, fake_ollama):
    _, token = await shared_chat(user, fake_ollama)
    await user.open("/settings")
    await user.should_see("Shared links")
    await user.should_see("Capybaras", marker="shared-link")
    user.find(marker="revoke-link").click()
    await user.should_see("Revoke the link?")
    user.find(marker="confirm-revoke").click()
    await user.should_see("You have not shared any conversation", retries=20)
    assert (await user.http_client.get(f"/api/shares/{token}")).status_code == 404


async def test_the_administrator_sees_every_link_and_revokes_one(user: User, create_user, fake_ollama):
    await register_and_sign_in(user, "root")  # the first account: the administrator
    alice = create_user()
    _, token = await shared_chat(alice, fake_ollama)
    await user.open("/admin")
    await user.should_see("Share links")
    await user.should_see("Capybaras — alice", marker="any-share")
    user.find(marker="revoke-share-alice").click()
    await user.should_see("Revoke the link?")
    user.find(marker="confirm-revoke").click()
    await user.should_see("No conversation is shared.", retries=20)
    assert (await alice.http_client.get(f"/api/shares/{token}")).status_code == 404


async def test_a_long_conversation_is_shown_a_page_at_a_time(
    user: User, create_user, fake_ollama, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(sys.modules["chatui.ui.shared"], "PAGE", 1)  # the module `main.py` just loaded
    _, token = await shared_chat(user, fake_ollama)
    reader = create_user()
    await reader.open(f"/s/{token}")
    await reader.should_see("How big are capybaras?")
    await reader.should_not_see(marker="assistant-message")
    await reader.should_see("Show 1 more of 1 message")
    reader.find(marker="show-more").click()
    await reader.should_see(marker="assistant-message")
    await reader.should_not_see(marker="show-more")


async def test_a_sidebar_rows_menu_shares_a_chat_that_is_not_open(user: User, fake_ollama):
    conversation_id, _ = await shared_chat(user, fake_ollama)
    assert (await user.http_client.delete(f"/api/conversations/{conversation_id}/share")).status_code == 204
    await user.open("/")  # a new chat: the header has no conversation menu, the row's menu is the way
    await user.should_not_see(marker="conversation-menu")
    user.find(marker=f"row-menu-{conversation_id}").click()
    await user.should_see(marker="share-conversation")
    user.find(marker="share-conversation").click()
    await user.should_see(marker="share-dialog")
    user.find(marker="create-share").click()
    await user.should_see(marker="share-url", retries=20)
    [link] = (await user.http_client.get("/api/shares")).json()
    assert (link["conversation_id"], link["expires_at"]) == (conversation_id, None)
    assert user.find(marker="share-url").elements.pop().value == link["url"]
