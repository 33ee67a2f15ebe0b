"""In Chromium, typing `/` at the start of the message box lists the saved prompts, narrowing as one types; Tab or
Enter inserts one, after a dialog asks for its `{{variables}}` (issue 26). Tab still moves focus when no list is open.
The `/` list, the preset menu beside New chat, a rated reply and the settings page's Presets and Prompt library pass
axe in the light and the dark theme.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from testing.fakes.server import Script, ScriptedProvider
from testing.live import LiveApp
from tests.browser.conftest import create_account_and_sign_in
from tests.browser.test_ui import DESKTOP, assert_accessible

pytestmark = pytest.mark.browser


async def save_prompts(page: Page, base: str) -> None:
    for name, title, text in (
        ("summarize", "Summary", "Summarize the text below in three bullet points."),
        ("translate", "Translation", "Translate into {{language}}:\n{{text}}"),
    ):
        saved = await page.request.post(f"{base}/api/prompts", data={"name": name, "title": title, "text": text})
        assert saved.status == 201


async def test_slash_lists_saved_prompts_and_tab_or_enter_inserts_one(page: Page, browser_app) -> None:
    await create_account_and_sign_in(page, browser_app, "prompter")
    await save_prompts(page, browser_app.url)
    await page.goto(f"{browser_app.url}/")
    message = page.get_by_label("Message")
    menu = page.get_by_role("listbox", name="Saved prompts")

    await message.press_sequentially("/")
    await expect(menu.get_by_role("option")).to_have_count(2)
    await expect(message).to_have_attribute("aria-controls", str(await menu.get_attribute("id")))
    await message.press("ArrowDown")  # the highlight moves; focus stays in the box, which names the option
    second = menu.get_by_role("option").nth(1)
    await expect(second).to_have_attribute("aria-selected", "true")
    highlighted = str(await second.get_attribute("id"))
    await expect(message).to_have_attribute("aria-activedescendant", highlighted)
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
    await expect(message).not_to_have_attribute("aria-activedescendant", highlighted)

    await message.fill("")
    await message.press_sequentially("/su")
    await expect(menu.get_by_role("option")).to_have_count(1)
    await message.press("Enter")  # inserts (a prompt without variables goes in at once) instead of sending
    await expect(message).to_have_value("Summarize the text below in three bullet points.")
    await expect(message).to_be_focused()
    conversations = await (await page.request.get(f"{browser_app.url}/api/conversations")).json()
    assert conversations == []

    await message.fill("/nothing-like-this")
    await expect(page.get_by_text("No saved prompt matches /nothing-like-this")).to_be_visible()
    await message.press("Tab")  # no prompt offered: Tab is the browser's again and leaves the box
    await expect(message).not_to_be_focused()


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_the_slash_list_presets_and_thumbs_pass_axe(
    scheme: str, browser: Browser, browser_app: LiveApp, fake_ollama: ScriptedProvider
) -> None:
    context = await browser.new_context(viewport=DESKTOP, color_scheme=scheme)  # type: ignore[arg-type]
    try:
        page = await context.new_page()
        base = browser_app.url
        await create_account_and_sign_in(page, browser_app, f"axe-presets-{scheme}")
        await save_prompts(page, base)
        for body in ({"name": "French tutor", "system_prompt": "Answer in French."}, {"name": "Reviewer"}):
            assert (await page.request.post(f"{base}/api/presets", data=body)).status == 201
        await page.goto(f"{base}/")
        await page.get_by_role("button", name="Start from a preset").click()
        await page.get_by_text("French tutor").click()
        await expect(page.get_by_text("System prompt: Answer in French.")).to_be_visible()
        await page.get_by_label("Message").press_sequentially("/")
        await expect(page.get_by_role("option")).to_have_count(2)
        await assert_accessible(page, f"the / list in a chat started from a preset, {scheme}")

        fake_ollama.then(Script(tokens=["Bonjour", "."]))
        await page.get_by_label("Message").fill("Hello")
        await page.get_by_label("Message").press("Enter")
        await page.get_by_role("button", name="Good reply").click()
        await expect(page.locator("[aria-pressed=true]")).to_have_count(1)
        await assert_accessible(page, f"a rated reply, {scheme}")

        await page.goto(f"{base}/settings")
        await expect(page.get_by_text("/translate · Translation")).to_be_visible()
        await assert_accessible(page, f"settings with presets and prompts, {scheme}")
    finally:
        await context.close()
