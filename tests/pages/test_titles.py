"""Titles a person can read, in the conversation list: a model's title when it reads as one for the conversation,
the first message when the model's answer is noise."""

from __future__ import annotations

import pytest
from nicegui import app
from nicegui.testing import User

from testing.fakes.server import Script, ScriptedProvider
from testing.waiting import until
from tests.pages.test_chat_flow import register_and_sign_in, send

QUESTION = "How do tides work, and why are there two of them each day?"
FIRST_MESSAGE_TITLE = "How do tides work, and why are there two of them e..."


@pytest.fixture
def titled(app_env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATUI_AI_TITLES", "true")


async def titles_done(fake_ollama: ScriptedProvider) -> None:
    """Until the title was asked for (the second request) and the service's title tasks have ended."""
    await until(lambda: len(fake_ollama.requests) == 2, what="the title request")
    titles = app.state.services.conversations.titles
    await until(lambda: titles.writing == 0, what="the title stored or refused")


async def test_a_readable_title_replaces_the_first_message(titled, user: User, fake_ollama: ScriptedProvider) -> None:
    fake_ollama.then(Script(tokens=["The moon pulls the oceans."]), Script(tokens=["Why Two Tides a Day"]))
    await register_and_sign_in(user)
    await send(user, QUESTION)
    await user.should_see("The moon pulls the oceans.", retries=50)
    await titles_done(fake_ollama)
    with user.scope(marker="conversation-list"):
        await user.should_see("Why Two Tides a Day", retries=30)


async def test_noise_from_the_model_leaves_the_first_message(titled, user: User, fake_ollama: ScriptedProvider) -> None:
    noise = "Smarxil, one of the words that serves as…"
    fake_ollama.then(Script(tokens=["The moon pulls the oceans."]), Script(tokens=[noise]))
    await register_and_sign_in(user)
    await send(user, QUESTION)
    await user.should_see("The moon pulls the oceans.", retries=50)
    await titles_done(fake_ollama)
    await user.open("/")
    with user.scope(marker="conversation-list"):
        await user.should_see(FIRST_MESSAGE_TITLE, retries=30)
        await user.should_not_see("Smarxil")
