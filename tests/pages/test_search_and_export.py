"""The sidebar's search box and the export items, as a person uses them (NiceGUI's `user` fixture)."""

from __future__ import annotations

import pytest
from nicegui import ui
from nicegui.testing import User

from testing.fakes.server import Script
from tests.pages.test_chat_flow import register_and_sign_in, send

pytestmark = pytest.mark.usefixtures("app_env")


async def chat(user: User, question: str, *answer: str) -> None:
    await send(user, question)
    await user.should_see("".join(answer), retries=50)


async def test_typing_in_the_search_box_lists_matches_and_opens_the_message(user: User, fake_ollama) -> None:
    fake_ollama.then(Script(tokens=["Capybaras ", "are ", "the ", "largest ", "rodents."]), Script(tokens=["Yes."]))
    await register_and_sign_in(user)
    await chat(user, "Tell me about capybaras", "Capybaras are the largest rodents.")
    await user.open("/")
    await chat(user, "Is <img src=x onerror=alert(1)> a capybara?", "Yes.")

    user.find(marker="conversation-filter").type("capyb")
    await user.should_see(marker="search-result", retries=30)
    results = user.find(marker="search-result").elements
    assert len(results) == 3  # two questions and one reply (the titles are the filtered rows below)
    snippets = [e for e in user.find(kind=ui.html).elements if "capyb" in e.content.lower()]
    assert any(s.content == "<mark>Capybaras</mark> are the largest rodents." for s in snippets)
    hostile = next(s.content for s in snippets if "img" in s.content)
    assert "<img" not in hostile and "&lt;img src=x onerror=alert(1)&gt;" in hostile  # text, never markup
    assert len(user.find(marker="conversation-item").elements) == 2  # both titles hold "capyb"

    user.find(marker="conversation-filter").clear()
    await user.should_not_see(marker="search-result", retries=20)
    user.find(marker="conversation-filter").type("zzzqqq")
    await user.should_see("No messages match.", retries=30)


async def test_choosing_a_result_opens_its_conversation_at_that_message(user: User, fake_ollama) -> None:
    fake_ollama.then(Script(tokens=["Okapis live in the Congo."]))
    await register_and_sign_in(user)
    await chat(user, "Where do okapis live?", "Okapis live in the Congo.")
    await user.open("/")
    user.find(marker="conversation-filter").type("congo ")
    await user.should_see(marker="search-result", retries=30)
    assert len(user.find(marker="search-result").elements) == 1  # only the reply says "Congo"
    user.find(marker="search-result").click()
    await user.should_see("Okapis live in the Congo.", retries=30)
    conversation_id, message_id = user.back_history[-1].removeprefix("/chat/").split("&q=")[0].split("?message=")
    document = (await user.http_client.get(f"/api/conversations/{conversation_id}/export")).json()
    assert message_id == document["conversations"][0]["messages"][1]["id"]  # the reply, not the question
    # the query came along (issue 29): run again, its hit is the one open
    await user.should_see("Result 1 of 1", retries=30)
    assert user.find(marker="conversation-filter").elements.pop().value == "congo "
    await user.should_see(marker="search-result")


async def test_the_conversation_menu_exports_markdown_and_json(user: User, fake_ollama) -> None:
    fake_ollama.then(Script(tokens=["Eight."]))
    await register_and_sign_in(user)
    await chat(user, "What is 5 plus 3?", "Eight.")
    user.find(marker="conversation-menu").click()
    user.find(marker="export-markdown").click()
    markdown = await user.download.next()
    assert markdown.status_code == 200 and markdown.text.startswith("# What is 5 plus 3?")
    user.find(marker="conversation-menu").click()
    user.find(marker="export-json").click()
    document = (await user.download.next()).json()
    assert document["format"] == "chatui/1" and len(document["conversations"][0]["messages"]) == 2
    user.find(marker="account").click()
    user.find(marker="export-all").click()
    assert (await user.download.next()).json()["conversations"][0]["title"] == "What is 5 plus 3?"
