"""The model picker: it lists every configured provider's models, and the conversation's next reply comes from the
model picked — also after a reload, because the choice is stored with the conversation."""

from __future__ import annotations

import pytest
from nicegui.testing import User

from chatui.ui.composer import SEND_EVENT
from tests.fakes.openai import FakeOpenAI
from tests.fakes.server import Script, ScriptedProvider

pytestmark = pytest.mark.usefixtures("app_env")

OLLAMA_MODEL = "ollama:llama3.2:3b"
OPENAI_MODEL = "openai:gpt-4o-mini"


@pytest.fixture
def fake_openai_env(app_env, monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAI) -> FakeOpenAI:
    """The app also configured with an OpenAI-compatible server (the fake, which needs no key)."""
    monkeypatch.setenv("OPENAI_BASE_URL", f"{fake_openai.url}/v1")  # type: ignore[attr-defined]
    return fake_openai


async def register_and_sign_in(user: User) -> None:
    await user.open("/login")
    user.find("Username").type("picker")
    user.find("Password").type("correct horse")
    user.find("Create account").click()
    await user.should_see("New chat", retries=30)


async def send(user: User, text: str) -> None:
    user.find("Message").type(text)
    user.find("Message").trigger(SEND_EVENT)


async def only_conversation(user: User) -> dict:
    conversations = (await user.http_client.get("/api/conversations")).json()
    assert len(conversations) == 1
    response = await user.http_client.get(f"/api/conversations/{conversations[0]['id']}")
    assert response.status_code == 200
    return response.json()


async def test_switching_model_mid_conversation_sends_the_next_reply_to_the_chosen_provider(
    fake_openai_env: FakeOpenAI, user: User, fake_ollama: ScriptedProvider
) -> None:
    fake_openai = fake_openai_env
    fake_ollama.then(Script(tokens=["Ollama", " here"]))
    fake_openai.then(Script(tokens=["OpenAI", " here"]), Script(tokens=["Still", " OpenAI"]))
    await register_and_sign_in(user)
    await send(user, "Who are you?")
    await user.should_see(f"{OLLAMA_MODEL} · 2 tokens", retries=50)  # the reply's footer names its model
    await user.should_see("Ollama here")

    user.find("Model").click()  # opens the list
    await user.should_see(OPENAI_MODEL, retries=30)
    await user.should_see("openai:gpt-4.1")
    await user.should_see(OLLAMA_MODEL)
    user.find(OPENAI_MODEL).click()

    await send(user, "And now?")
    await user.should_see(f"{OPENAI_MODEL} · 2 tokens", retries=50)
    await user.should_see("OpenAI here")
    assert len(fake_ollama.requests) == 1
    [sent] = fake_openai.requests
    assert sent["model"] == "gpt-4o-mini"
    assert sent["messages"] == [  # the whole conversation goes to the new model
        {"role": "user", "content": "Who are you?"},
        {"role": "assistant", "content": "Ollama here"},
        {"role": "user", "content": "And now?"},
    ]

    detail = await only_conversation(user)
    assert detail["model"] == OPENAI_MODEL
    assert [(m["role"], m["model"]) for m in detail["messages"] if m["role"] == "assistant"] == [
        ("assistant", OLLAMA_MODEL),
        ("assistant", OPENAI_MODEL),
    ]

    # reloaded, the conversation still uses the model picked
    await user.open(f"/chat/{detail['id']}")
    await user.should_see("OpenAI here", retries=20)
    await send(user, "Once more?")
    await user.should_see("Still OpenAI", retries=50)
    assert len(fake_openai.requests) == 2 and len(fake_ollama.requests) == 1


@pytest.fixture
def openai_refusing(fake_openai_env: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAI:
    """The OpenAI-compatible server refuses the app (a key it does not send), and is the default provider."""
    fake_openai_env.api_key = "sk-not-what-the-app-sends"
    monkeypatch.setenv("DEFAULT_MODEL", OPENAI_MODEL)
    return fake_openai_env


async def test_a_provider_that_refuses_is_listed_as_unavailable(
    openai_refusing: FakeOpenAI, user: User, fake_ollama: ScriptedProvider
) -> None:
    fake_ollama.then(Script(tokens=["Ollama", " answers"]))
    await register_and_sign_in(user)
    user.find("Model").click()
    await user.should_see(f"{OPENAI_MODEL} (unavailable)", retries=30)
    await user.should_see(OLLAMA_MODEL)
    # the default does not answer: a new chat starts on a model that does
    await send(user, "hello?")
    await user.should_see(f"{OLLAMA_MODEL} · 2 tokens", retries=50)
    # picked by hand, the refusing provider's reply says why it failed
    user.find(f"{OPENAI_MODEL} (unavailable)").click()
    await send(user, "and you?")
    await user.should_see("refused the API key (401): Incorrect API key provided", retries=30)
