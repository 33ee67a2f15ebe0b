"""First run and provider trouble: the chat names what is wrong with its model and the fix, instead of "Ask anything";
the model picker groups models by provider and gets a search field when there are many."""

from __future__ import annotations

import pytest
from nicegui import ElementFilter, ui
from nicegui.testing import User

from chatui.ui.model_picker import SEARCH_FROM
from chatui.ui.provider_banner import model_problem
from providers.registry import ProviderStatus
from testing.fakes.openai import FakeOpenAI
from testing.fakes.server import ScriptedProvider
from testing.waiting import until
from tests.pages.test_chat_flow import ollama_port, register_and_sign_in

__all__ = ["ollama_port"]  # the fixture, shared with the chat flow tests

pytestmark = pytest.mark.usefixtures("app_env")


async def test_a_working_model_shows_no_banner(user: User) -> None:
    await register_and_sign_in(user)
    await user.should_see("Ask anything to start a conversation.")
    user.find("Model").click()
    await user.should_see("llama3.2:3b", retries=30)
    await user.should_not_see(marker="provider-banner")


async def test_ollama_not_running_names_ollama_serve(ollama_port: int, user: User) -> None:
    await register_and_sign_in(user)
    await user.should_see("Ollama is not running", retries=30)
    await user.should_see(f"cannot reach Ollama at http://127.0.0.1:{ollama_port}", retries=5)
    await user.should_see("ollama serve")
    await user.should_not_see("Ask anything to start a conversation.")


@pytest.fixture
def default_not_pulled(app_env, monkeypatch: pytest.MonkeyPatch, fake_ollama: ScriptedProvider) -> None:
    """The operator named a default that Ollama does not have; another Ollama model works."""
    monkeypatch.setenv("DEFAULT_MODEL", "ollama:llama3.2:3b")
    fake_ollama.models = ["qwen2.5:0.5b"]


NOTE = "New chats start on ollama:qwen2.5:0.5b: the default model ollama:llama3.2:3b is not available."


async def test_a_fallback_is_a_quiet_note_with_the_fix_for_the_administrator(default_not_pulled, user: User) -> None:
    await register_and_sign_in(user)  # the first account: the administrator
    await user.should_see(f"{NOTE} The model llama3.2:3b is not pulled. Fix: ollama pull llama3.2:3b", retries=30)
    await user.should_see("Ask anything to start a conversation.")  # nothing is wrong with this chat
    await user.should_not_see(marker="provider-banner")
    # choosing the missing model by hand: now the chat cannot answer, and the banner says why
    user.find("Model").click()
    user.find("llama3.2:3b (unavailable)").click()
    await user.should_see("Ollama is running but has no llama3.2:3b. Or pick another model above.", retries=10)
    await user.should_see("ollama pull llama3.2:3b")
    await user.should_not_see(marker="fallback-note")


async def test_the_note_once_dismissed_stays_away_for_that_person(default_not_pulled, user: User, create_user) -> None:
    await register_and_sign_in(user)
    await user.should_see(marker="fallback-note", retries=30)
    user.find(marker="dismiss-note").click()
    await user.should_not_see(marker="fallback-note", retries=10)
    await user.should_see("Ask anything to start a conversation.")
    await user.open("/")  # a new page, as from another browser: read from the account
    user.find("Model").click()
    await user.should_see("qwen2.5:0.5b", retries=30)  # the listing is in, and the note was decided on
    await user.should_see("Ask anything to start a conversation.")
    await user.should_not_see(marker="fallback-note")
    # another person still sees it, in their words
    other = create_user()
    await register_and_sign_in(other, "bob")
    await other.should_see(f"{NOTE} Ask your administrator if you need it.", retries=30)
    await other.should_not_see("ollama pull")


async def test_a_fresh_install_starts_on_what_answers_without_a_word(user: User, fake_ollama: ScriptedProvider) -> None:
    # DEFAULT_MODEL unset (app_env): the first model that answers is the default, and nothing was passed over
    fake_ollama.models = ["qwen2.5:0.5b"]
    await register_and_sign_in(user)
    await user.should_see("Ask anything to start a conversation.")
    user.find("Model").click()
    await user.should_see("qwen2.5:0.5b", retries=30)
    await user.should_not_see(marker="fallback-note")
    await user.should_not_see(marker="provider-banner")
    with user:
        [picker] = ElementFilter(kind=ui.select)
    assert picker.value == "ollama:qwen2.5:0.5b"


async def test_others_are_told_to_ask_their_administrator(ollama_port: int, user: User, create_user) -> None:
    await register_and_sign_in(user, "admin")
    other = create_user()
    await register_and_sign_in(other, "bob")
    await other.should_see("Ollama is not running", retries=30)
    await other.should_see("ollama:llama3.2:3b cannot answer now. Ask your administrator to fix it.")
    await other.should_not_see("ollama serve")
    await other.should_not_see("OLLAMA_BASE_URL")


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
    await user.should_see("gpt-0", retries=30)
    with user:
        [picker] = ElementFilter(kind=ui.select)
    keys = list(picker.options)
    assert keys[0] == "@ollama" and picker.options["@ollama"] == "Ollama"
    assert keys.index("@openai") > keys.index("ollama:llama3.2:3b") and picker.options["@openai"] == "OpenAI"
    assert "use-input" in picker.props  # a search field
    # a group header is not a model: choosing it keeps the model
    user.find("OpenAI").click()
    # the click sets the header as the value; the change handler, run as a task, puts the model back
    await until(lambda: picker.value == "ollama:llama3.2:3b", within=5, what="the model put back")


def test_a_port_with_401_in_it_is_not_a_refused_key() -> None:
    """The address of the provider is part of its error; three digits of its port are not a status code."""
    error = "OpenAI-compatible server at http://127.0.0.1:54017/v1 did not list its models within 1.5 s"
    statuses = [ProviderStatus("openai", False, error)]
    problem = model_problem("openai:gpt-4o-mini", [], statuses)
    assert problem is not None and problem.title == "OpenAI cannot be reached"
    refused = model_problem("openai:gpt-4o-mini", [], [ProviderStatus("openai", False, "HTTP 401: bad key")])
    assert refused is not None and refused.title == "OpenAI refused the API key"
