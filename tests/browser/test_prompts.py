"""In Chromium, typing `/` at the start of the message box lists the saved prompts, narrowing as one types; Tab or
Enter inserts one, after a dialog asks for its `{{variables}}` (issue 26). Tab still moves focus when no list is open.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import create_account_and_sign_in

pytestmark = pytest.mark.browser


async def test_slash_lists_saved_prompts_and_tab_or_enter_inserts_one(page: Page, browser_app) -> None:
    await create_account_and_sign_in(page, browser_app, "prompter")
    api = page.request
    for name, title, text in (
        ("summarize", "Summary", "Summarize the text below in three bullet points."),
        ("translate", "Translation", "Translate into {{language}}:\n{{text}}"),
    ):
        saved = await api.post(f"{browser_app.url}/api/prompts", data={"name": name, "title": title, "text": text})
        assert saved.status == 201
    await page.goto(f"{browser_app.url}/")
    message = page.get_by_label("Message")
    menu = page.get_by_role("listbox", name="Saved prompts")

    await message.press_sequentially("/")
    await expect(menu.get_by_role("option")).to_have_count(2)
    await message.press_sequentially("tr")
    await expect(menu.get_by_role("option")).to_have_count(1)
    await expect(menu.get_by_role("option")).to_contain_text("/translate")
    await message.press("Tab")
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("language").fill("Portuguese")
    await dialog.get_by_label("text").fill("See you tomorrow")
    await dialog.get_by_role("button", name="Insert").click()
    await expect(message).to_have_value("Translate into Portuguese:\nSee you tomorrow")
    await expect(menu).to_be_hidden()

    await message.fill("")
    await message.press_sequentially("/su")
    await expect(menu.get_by_role("option")).to_have_count(1)
    await message.press("Enter")  # inserts (a prompt without variables goes in at once) instead of sending
    await expect(message).to_have_value("Summarize the text below in three bullet points.")
    await expect(message).to_be_focused()
    conversations = await (await api.get(f"{browser_app.url}/api/conversations")).json()
    assert conversations == []

    await message.fill("/nothing-like-this")
    await expect(menu).to_contain_text("No saved prompt matches /nothing-like-this")
    await message.press("Tab")  # no prompt offered: Tab is the browser's again and leaves the box
    await expect(message).not_to_be_focused()
