"""The chat page as a reader of replies the server owns: reload mid-stream, a second tab, Stop, interrupted replies."""

from __future__ import annotations

import pytest
from nicegui import app
from nicegui.testing import User

from storage import MessageStatus
from testing.fakes.server import Script
from tests.pages.test_chat_flow import register_and_sign_in, send

pytestmark = pytest.mark.usefixtures("app_env")

LONG = Script(tokens=[f"w{i} " for i in range(80)], delay=0.02)


async def newest_conversation_path(user: User) -> str:
    conversations = (await user.http_client.get("/api/conversations")).json()
    return f"/chat/{conversations[0]['id']}"


def assistant_texts(user: User) -> list[str]:
    """The text of each assistant bubble on the user's current page, as its HTML elements hold it."""
    bubbles = user.find(marker="assistant-message").elements
    return ["".join(html.content for html in b.descendants() if hasattr(html, "content")) for b in bubbles]


async def test_reload_mid_stream_shows_partial_then_the_rest(user: User, fake_ollama) -> None:
    fake_ollama.then(LONG)
    await register_and_sign_in(user)
    await send(user, "count for me")
    await user.should_see("w5 ", retries=50)
    path = await newest_conversation_path(user)
    await user.open(path)  # reload
    await user.should_see("w79", retries=100)
    texts = assistant_texts(user)
    assert len(texts) == 1
    assert "w0 w1 w2" in texts[0] and texts[0].count("w40 ") == 1  # no gap, no duplicate


async def test_second_tab_streams_the_same_words(user: User, create_user, fake_ollama) -> None:
    fake_ollama.then(LONG)
    await register_and_sign_in(user)
    await send(user, "count for me")
    await user.should_see("w2 ", retries=50)
    path = await newest_conversation_path(user)
    second = create_user()
    second.http_client.cookies = user.http_client.cookies  # the same browser, another tab
    await second.open(path)
    await second.should_see("w79", retries=100)
    await user.should_see("w79", retries=100)
    assert assistant_texts(second) == assistant_texts(user)


async def test_stop_button_ends_the_reply_and_keeps_the_text(user: User, fake_ollama) -> None:
    fake_ollama.then(Script(tokens=[f"w{i} " for i in range(500)], delay=0.02))
    await register_and_sign_in(user)
    await user.should_not_see(marker="stop")
    await send(user, "a long answer please")
    await user.should_see("w3 ", retries=50)
    await user.should_not_see(marker="send")  # Stop replaces Send while the reply streams
    user.find(marker="stop").click()
    await user.should_see("Stopped", retries=50)
    await user.should_see(marker="send")
    assert await fake_ollama.wait_disconnected(5)
    conversation = (await user.http_client.get("/api/conversations")).json()[0]
    reply = (await user.http_client.get(f"/api/conversations/{conversation['id']}")).json()["messages"][-1]
    assert reply["status"] == "cancelled" and reply["content"].startswith("w0 w1 w2 w3 ")
    assert "w499" not in reply["content"]


async def test_interrupted_reply_is_shown_with_a_notice(user: User) -> None:
    await register_and_sign_in(user)
    services = app.state.services
    me = (await user.http_client.get("/api/auth/me")).json()
    conversation = await services.store.chats.create_conversation(me["id"], "ollama:llama3.2:3b")
    _, reply_id = await services.store.chats.start_exchange(
        me["id"], conversation.id, "tell me", "ollama:llama3.2:3b", "x"
    )
    await services.store.chats.finish_message(
        reply_id, content="Half of an answ", status=MessageStatus.INTERRUPTED, completion_tokens=4
    )
    await user.open(f"/chat/{conversation.id}")
    await user.should_see("Half of an answ")
    await user.should_see("Interrupted — the server stopped before this reply was complete.")


async def test_deleting_the_open_conversation(user: User, fake_ollama) -> None:
    await register_and_sign_in(user)
    await send(user, "short lived")
    await user.should_see(marker="conversation-item", retries=30)
    user.find(marker="delete").click()
    await user.should_see(marker="confirm-delete")
    user.find(marker="confirm-delete").click()
    await user.should_see("Ask anything to start a conversation.", retries=30)
    await user.should_not_see(marker="conversation-item")
    assert (await user.http_client.get("/api/conversations")).json() == []


async def test_rename_conversation(user: User) -> None:
    await register_and_sign_in(user)
    await send(user, "first message")
    await user.should_see(marker="conversation-item", retries=30)
    user.find(marker="rename").click()
    await user.should_see("Rename conversation")
    user.find("Title").clear().type("My renamed chat")
    user.find(marker="save-title").click()
    await user.should_see("My renamed chat", retries=20)
    assert (await user.http_client.get("/api/conversations")).json()[0]["title"] == "My renamed chat"


async def test_another_users_conversation_page_is_not_found(user: User, create_user) -> None:
    await register_and_sign_in(user)
    await send(user, "private")
    await user.should_see(marker="conversation-item", retries=30)
    path = await newest_conversation_path(user)
    intruder = create_user()
    await register_and_sign_in(intruder, "mallory", "password123")
    response = await intruder.http_client.get(path)
    assert response.status_code == 404
    assert "private" not in response.text
    await intruder.open("/")
    await intruder.should_not_see("private")


async def test_thinking_until_the_first_token_then_a_footer(user: User, fake_ollama) -> None:
    fake_ollama.then(Script(tokens=["Hello", " there."], delay=0.6))
    await register_and_sign_in(user)
    await send(user, "say hello")
    await user.should_see("Thinking…", retries=20)
    await user.should_see("Hello", retries=50)
    await user.should_not_see("Thinking…")
    await user.should_see(marker="reply-meta", retries=50)
    with user:
        (footer,) = user.find(marker="reply-meta").elements
    assert footer.text.endswith("· 2 tokens")
    await user.should_not_see(marker="reply-error")


async def test_a_one_token_reply_says_one_token_in_its_footer_live_and_once_reopened(user: User, fake_ollama) -> None:
    fake_ollama.then(Script(tokens=["Yes."]))
    await register_and_sign_in(user)
    await send(user, "short answer?")
    await user.should_see(marker="reply-meta", retries=50)
    with user:
        (footer,) = user.find(marker="reply-meta").elements
    assert footer.text.endswith("· 1 token")
    await user.open(await newest_conversation_path(user))  # the stored reply's footer, drawn from the database
    await user.should_see("1 token</div>", retries=50)
