"""The prompt library as a person uses it (issue 26): saved in the settings page, listed by typing `/` at the start
of the message box, inserted with Tab, Enter or a click, its `{{variables}}` asked for first."""

from __future__ import annotations

import asyncio

import pytest
from nicegui import ui
from nicegui.testing import User

from chatui.ui.composer import SEND_EVENT
from tests.pages.test_chat_flow import register_and_sign_in

pytestmark = pytest.mark.usefixtures("app_env")


async def save_prompt(user: User, name: str, text: str, title: str | None = None) -> None:
    response = await user.http_client.post("/api/prompts", json={"name": name, "text": text, "title": title})
    assert response.status_code == 201, response.text


def box(user: User) -> ui.textarea:
    element = user.find("Message").elements.pop()
    assert isinstance(element, ui.textarea)
    return element


async def composer_holds(user: User, text: str) -> None:
    """Wait until the message box holds `text` (Enter's handler runs as a task of its own)."""
    for _ in range(50):
        if box(user).value == text:
            return
        await asyncio.sleep(0.02)
    assert box(user).value == text


async def test_prompts_are_saved_and_listed_in_settings(user: User) -> None:
    await register_and_sign_in(user)
    await user.open("/settings")
    await user.should_see("No saved prompts yet.")
    user.find(marker="new-prompt").click()
    await user.should_see(marker="prompt-dialog")
    user.find(marker="prompt-name").type("code review")
    user.find(marker="prompt-text").type("Review this {{language}} code: {{code}}")
    user.find(marker="save-prompt").click()
    await user.should_see("A prompt's name is one word: letters, digits, '-' and '_' (it follows '/').")

    user.find(marker="prompt-name").clear().type("Review")
    user.find(marker="prompt-title").type("Code review")
    user.find(marker="save-prompt").click()
    await user.should_see("/review · Code review", retries=20)
    await user.should_see("Asks for language, code")
    [stored] = (await user.http_client.get("/api/prompts")).json()
    assert stored["variables"] == ["language", "code"]


async def test_slash_lists_prompts_narrows_as_you_type_and_tab_asks_for_the_variables(user: User) -> None:
    await register_and_sign_in(user)
    await save_prompt(user, "summarize", "Summarize the text below in three bullet points.", "Summary")
    await save_prompt(user, "translate", "Translate into {{language}}:\n{{text}}", "Translation")
    await user.open("/")
    await user.should_see(marker="send")
    await user.should_not_see(marker="slash-menu")

    box(user).set_value("/")
    await user.should_see("/summarize")
    await user.should_see("/translate")
    box(user).set_value("/tr")
    await user.should_not_see("/summarize")
    await user.should_see("Translation")

    user.find("Message").trigger("keydown.tab")
    await user.should_see(marker="insert-prompt")
    user.find("language").type("French")
    user.find("text").type("Good morning")
    user.find(marker="insert-prompt").click()
    await user.should_not_see(marker="insert-prompt")
    assert box(user).value == "Translate into French:\nGood morning"
    await user.should_not_see(marker="slash-menu")


async def test_enter_inserts_the_highlighted_prompt_instead_of_sending(user: User) -> None:
    await register_and_sign_in(user)
    await save_prompt(user, "alpha", "First prompt")
    await save_prompt(user, "beta", "Second prompt")
    await user.open("/")
    await user.should_see(marker="send")
    box(user).set_value("/")
    await user.should_see("/beta")
    user.find("Message").trigger("keydown.down")
    user.find("Message").trigger(SEND_EVENT)
    await composer_holds(user, "Second prompt")
    assert (await user.http_client.get("/api/conversations")).json() == []  # nothing was sent

    box(user).set_value("/zzz")
    await user.should_see("No saved prompt matches /zzz")
    box(user).set_value("a plain message")
    await user.should_not_see(marker="slash-menu")


async def test_a_prompt_saved_after_the_page_was_built_is_listed_without_a_reload(user: User) -> None:
    await register_and_sign_in(user)
    await save_prompt(user, "alpha", "First prompt")
    await user.open("/")
    await user.should_see(marker="send")
    box(user).set_value("/")
    await user.should_see("/alpha")
    box(user).set_value("")
    await user.should_not_see(marker="slash-menu")

    await save_prompt(user, "standup", "What did you do yesterday?", "Daily standup")  # as another tab would
    box(user).set_value("/")
    await user.should_see("/standup")
    await user.should_see("Daily standup")
    box(user).set_value("/st")
    await user.should_not_see("/alpha")
    user.find("Message").trigger("keydown.tab")
    await composer_holds(user, "What did you do yesterday?")
