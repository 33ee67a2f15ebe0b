"""First run and provider trouble: the chat names what is wrong with its model and the fix, instead of "Ask anything";
the model picker groups models by provider and gets a search field when there are many."""

from __future__ import annotations

import asyncio

import pytest
from nicegui import ElementFilter, ui
from nicegui.testing import User

from chatui.ui.model_picker import SEARCH_FROM
from testing.fakes.openai import FakeOpenAI
from testing.fakes.server import ScriptedProvider
from tests.pages.test_chat_flow import ollama_port, register_and_sign_in

__all__ = ["ollama_port"]  # the fixture, shared with the chat flow tests

pytestmark = pytest.mark.usefixtures("app_env")


async def test_a_working_model_shows_no_banner(user: User) -> None:
    await register_and_sign_in(user)
    await user.should_see("Ask anything to start a conversation.")
    user.find("Model").click()
    await user.should_see("ollama:llama3.2:3b", retries=30)
    await user.should_not_see(marker="provider-banner")


async def test_ollama_not_running_names_ollama_serve(ollama_port: int, user: User) -> None:
    await register_and_sign_in(user)
    await user.should_see("Ollama is not running", retries=30)
    await user.should_see(f"cannot reach Ollama at http://127.0.0.1:{ollama_port}", retries=5)
    await user.should_see("ollama serve")
    await user.should_not_see("Ask anything to start a conversation.")


async def test_a_model_not_pulled_names_ollama_pull(user: User, fake_ollama: ScriptedProvider) -> None:
    fake_ollama.models = ["qwen2.5:0.5b"]
    await register_and_sign_in(user)
    await user.should_see("The model llama3.2:3b is not pulled", retries=30)
    await user.should_see("ollama pull llama3.2:3b")
    # the new chat starts on the model that is there (ModelRegistry.model_for_new_chat), and the banner says so
    await user.should_see(
        "Ollama is running but has no llama3.2:3b. Or pick another model above. New chats start on ollama:qwen2.5:0.5b."
    )
    # choosing a model by hand ends the stand-in: the banner is about the model chosen
    user.find("Model").click()
    user.find("ollama:llama3.2:3b (unavailable)").click()
    await user.should_see("Ollama is running but has no llama3.2:3b. Or pick another model above.", retries=10)
    await user.should_not_see("New chats start on")


@pytest.fixture
def openai_key_refused(app_env, monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAI) -> FakeOpenAI:
    monkeypatch.setenv("OPENAI_BASE_URL", f"{fake_openai.url}/v1")  # type: ignore[attr-defined]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
    monkeypatch.setenv("DEFAULT_MODEL", "openai:gpt-4o-mini")
    fake_openai.api_key = "sk-right"
    return fake_openai


async def test_a_refused_key_names_the_setting(openai_key_refused: FakeOpenAI, user: User) -> None:
    await register_and_sign_in(user)
    await user.should_see("OpenAI refused the API key", retries=30)
    await user.should_see("OPENAI_API_KEY (or OPENAI_BASE_URL)")


@pytest.fixture
def many_models(app_env, monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAI, fake_ollama) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", f"{fake_openai.url}/v1")  # type: ignore[attr-defined]
    fake_openai.models = [f"gpt-{i}" for i in range(SEARCH_FROM)]


async def test_the_picker_groups_by_provider_and_searches_when_many(many_models, user: User) -> None:
    await register_and_sign_in(user)
    await user.should_see("Ask anything to start a conversation.")
    user.find("Model").click()
    await user.should_see("openai:gpt-0", retries=30)
    with user:
        [picker] = ElementFilter(kind=ui.select)
    keys = list(picker.options)
    assert keys[0] == "@ollama" and picker.options["@ollama"] == "Ollama"
    assert keys.index("@openai") > keys.index("ollama:llama3.2:3b") and picker.options["@openai"] == "OpenAI"
    assert "use-input" in picker.props  # a search field
    # a group header is not a model: choosing it keeps the model
    user.find("OpenAI").click()
    for _ in range(30):  # the change handler runs as a task
        if picker.value == "ollama:llama3.2:3b":
            break
        await asyncio.sleep(0.05)
    assert picker.value == "ollama:llama3.2:3b"
