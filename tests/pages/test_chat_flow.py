"""The core slice as a person uses it: create an account, sign in, chat, reload, sign out."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from nicegui.testing import User

from chatui.ui.composer import SEND_EVENT
from testing.fakes.ollama import ollama_app
from testing.fakes.server import ClosedPort, Script, ScriptedProvider, ThreadedServer

pytestmark = pytest.mark.usefixtures("app_env")

QUESTION = "What is 5 plus 3? Give me a very brief answer."


async def register_and_sign_in(user: User, name: str = "alice", password: str = "correct horse") -> None:
    await user.open("/login")
    user.find("Username").type(name)
    user.find("Password").type(password)
    user.find("Create account").click()
    await user.should_see("New chat", retries=30)


async def send(user: User, text: str) -> None:
    user.find("Message").type(text)
    user.find("Message").trigger(SEND_EVENT)


async def test_register_sign_in_chat_and_reload(user: User, fake_ollama) -> None:
    fake_ollama.then(Script(tokens=["The", " answer", " is", " 8", "."], delay=0.01))
    await register_and_sign_in(user)
    await send(user, QUESTION)
    await user.should_see(marker="user-message", retries=20)
    await user.should_see("The answer is 8.", retries=50)
    assert fake_ollama.requests[-1]["messages"][-1]["content"] == QUESTION

    await user.should_see(marker="conversation-item", retries=20)
    await user.open("/")  # a fresh page: the conversation is listed with its title
    await user.should_see("What is 5 plus 3? Give me a very brief answer.")  # in the sidebar: the title
    user.find(marker="conversation-item").click()
    await user.should_see("The answer is 8.", retries=20)
    await user.should_see(QUESTION)


async def test_title_is_first_fifty_characters_then_dots(user: User) -> None:
    await register_and_sign_in(user)
    await send(user, "Tell me about Python programming language in one sentence.")
    await user.should_see("Tell me about Python programming language in one s...", retries=30)


async def test_pages_redirect_to_sign_in_without_session(user: User) -> None:
    await user.open("/")
    await user.should_see("Sign in")
    await user.should_see("Create account")
    response = await user.http_client.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"


async def test_sign_out_revokes_the_session(user: User) -> None:
    await register_and_sign_in(user)
    cookie = user.http_client.cookies.get("chatui_session")
    assert cookie
    user.find(marker="account").click()
    user.find(marker="sign-out").click()
    await user.should_see("Sign in", retries=20)
    # the old cookie no longer opens anything, on the pages or the API
    user.http_client.cookies.set("chatui_session", cookie)
    response = await user.http_client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert (await user.http_client.get("/api/auth/me")).status_code == 401


async def test_wrong_password_shows_an_error_and_no_session(user: User) -> None:
    await register_and_sign_in(user)
    user.http_client.cookies.clear()
    await user.open("/login")
    user.find("Username").type("alice")
    user.find("Password").type("wrong password")
    user.find("Sign in").click()
    await user.should_see("Wrong username or password.")
    assert "chatui_session" not in user.http_client.cookies
    assert (await user.http_client.get("/api/auth/me")).status_code == 401


async def stored_messages(user: User) -> list[dict]:
    conversations = (await user.http_client.get("/api/conversations")).json()
    detail = (await user.http_client.get(f"/api/conversations/{conversations[0]['id']}")).json()
    return detail["messages"]


async def test_provider_error_is_shown_and_the_message_kept(user: User, fake_ollama) -> None:
    fake_ollama.then(Script(status=500, error="llama runner process has terminated"))
    await register_and_sign_in(user)
    await send(user, "hello there")
    await user.should_see("llama runner process has terminated", retries=30)
    stored = await stored_messages(user)
    assert [(m["role"], m["content"], m["status"]) for m in stored] == [
        ("user", "hello there", "done"),
        ("assistant", "", "error"),
    ]


@pytest.fixture
def ollama_port(app_env, monkeypatch: pytest.MonkeyPatch) -> Iterator[ClosedPort]:
    """Point the app at a loopback port where nothing listens, and nothing else may (see `ClosedPort`): a port only
    found free could be given to a server of a suite running beside this one, and Ollama would seem to answer."""
    port = ClosedPort()
    monkeypatch.setenv("OLLAMA_BASE_URL", f"http://127.0.0.1:{port}")
    yield port
    port.release()


async def test_ollama_not_running_then_started(ollama_port: ClosedPort, user: User) -> None:
    await register_and_sign_in(user)
    await send(user, "hello there")
    await user.should_see(
        f"cannot reach Ollama at http://127.0.0.1:{ollama_port}; start it with `ollama serve` or set OLLAMA_BASE_URL",
        retries=30,
    )
    await user.should_see(marker="reply-error", retries=30)  # the reply has ended (the banner says the same earlier)
    await user.should_see(marker="user-message")
    # Ollama comes up on that port: the next try works
    ollama_port.release()
    state = ScriptedProvider()
    state.then(Script(tokens=["Back", " again"]))
    server = ThreadedServer(ollama_app(state), port=ollama_port).start()
    try:
        await send(user, "hello again")
        await user.should_see("Back again", retries=30)
    finally:
        server.stop()
    stored = await stored_messages(user)
    assert [m["content"] for m in stored] == ["hello there", "", "hello again", "Back again"]


@pytest.fixture
def one_new_chat_a_minute(app_env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATUI_CONVERSATIONS_PER_MINUTE", "1")


async def test_a_new_chat_past_the_conversation_limit_says_so_and_keeps_the_message(
    one_new_chat_a_minute: None, user: User, fake_ollama
) -> None:
    fake_ollama.then(Script(tokens=["Hello", " there"]))
    await register_and_sign_in(user)
    await send(user, "first chat")
    await user.should_see("Hello there", retries=50)
    await user.open("/")
    await send(user, "second chat")
    await user.should_see("Too many new conversations; try again in", retries=20)
    assert user.find("Message").elements.pop().value == "second chat"  # not lost: it can be sent in a minute
    assert len((await user.http_client.get("/api/conversations")).json()) == 1
