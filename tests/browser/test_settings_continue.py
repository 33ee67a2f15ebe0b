"""Issue 29 (part C) in a browser, light and dark, 1280 and 390 px: a new chat's settings dialog, the system prompt's
chip, Continue under a cut-off reply, and the settings page — each in view and clean under axe.

Each step is photographed into the test's own folder (`tmp_path`), to be looked at when the look changes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from testing.fakes.server import Script, ScriptedProvider
from testing.live import LiveApp
from tests.browser.conftest import create_account_and_sign_in
from tests.browser.test_ui import DESKTOP, PHONE, assert_accessible

pytestmark = pytest.mark.browser
PROMPT = "You are a patient tutor.\nExplain each step, then give the answer on its own line."


async def shot(page: Page, folder: Path, name: str) -> None:
    await page.wait_for_timeout(300)  # transitions (dialogs fade in)
    await page.screenshot(path=folder / f"{name}.png")


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_settings_chip_continue_and_settings_page_read_well_and_pass_axe(
    scheme: str, browser: Browser, browser_app: LiveApp, fake_ollama: ScriptedProvider, tmp_path: Path
) -> None:
    context = await browser.new_context(viewport=DESKTOP, color_scheme=scheme)  # type: ignore[arg-type]
    try:
        page = await context.new_page()
        await create_account_and_sign_in(page, browser_app, f"tutor-{scheme}")
        for size in (DESKTOP, PHONE):
            width = size["width"]
            await page.set_viewport_size(size)
            await page.goto(f"{browser_app.url}/")
            await page.get_by_role("button", name="Chat settings").click()
            dialog = page.get_by_role("dialog")
            prompt = dialog.get_by_label("System prompt")
            await expect(prompt).to_be_in_viewport()
            await prompt.fill(PROMPT)  # a textarea: the new line stays
            await dialog.get_by_label("Max tokens").fill("12")
            await expect(dialog.get_by_text("not sent to Anthropic")).to_be_visible()
            await shot(page, tmp_path, f"settings-dialog-{scheme}-{width}")
            await assert_accessible(page, f"chat settings dialog at {width} px")
            await dialog.get_by_role("button", name="Save").click()
            await expect(dialog).to_be_hidden()
            chip = page.get_by_role("button", name="System prompt: You are a patient tutor.")
            await expect(chip).to_be_in_viewport()

            fake_ollama.then(Script(tokens=["Step one: read the question. Step two:"], cut_off=True))
            message = page.get_by_label("Message")
            await message.fill("What is 6 times 7?")
            await message.press("Enter")
            carry_on = page.get_by_role("button", name="Continue", exact=True)
            await expect(carry_on).to_be_in_viewport(timeout=15_000)
            assert fake_ollama.requests[-1]["options"] == {"num_predict": 12}
            await shot(page, tmp_path, f"cut-off-reply-{scheme}-{width}")
            await assert_accessible(page, f"a cut-off reply with Continue at {width} px")
            fake_ollama.then(Script(tokens=[" multiply: 42."]))
            await carry_on.click()
            await expect(page.locator(".assistant-bubble")).to_contain_text("Step two: multiply: 42.")
            await expect(carry_on).to_be_hidden()
            await shot(page, tmp_path, f"continued-{scheme}-{width}")

            await page.goto(f"{browser_app.url}/settings")
            instructions = page.get_by_label("Default instructions")
            await expect(instructions).to_be_in_viewport()
            await shot(page, tmp_path, f"settings-page-{scheme}-{width}")
            await assert_accessible(page, f"settings page at {width} px")
    finally:
        await context.close()
    print(f"screenshots in {tmp_path}")
