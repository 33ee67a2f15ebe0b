"""The Think control in a browser (issue 24), light and dark, 1280 and 390 px: beside the message box for a model that
thinks, its menu of efforts, the chosen effort on the button; in view, leaving the message box room, clean under axe.

Each step is photographed into the test's own folder (`tmp_path`), to be looked at when the look changes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from testing.fakes.ollama import FakeOllama
from testing.live import LiveApp
from tests.browser.conftest import create_account_and_sign_in
from tests.browser.test_settings_continue import shot
from tests.browser.test_ui import DESKTOP, PHONE, assert_accessible

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_think_sits_beside_the_message_box_reads_well_and_passes_axe(
    scheme: str, browser: Browser, browser_app: LiveApp, fake_ollama: FakeOllama, tmp_path: Path
) -> None:
    fake_ollama.models = ["qwen3:8b"]
    fake_ollama.thinking_models = {"qwen3:8b": ["low", "medium", "high"]}
    context = await browser.new_context(viewport=DESKTOP, color_scheme=scheme)  # type: ignore[arg-type]
    try:
        page = await context.new_page()
        await create_account_and_sign_in(page, browser_app, f"thinker-{scheme}")
        for size in (DESKTOP, PHONE):
            width = size["width"]
            await page.set_viewport_size(size)
            await page.goto(f"{browser_app.url}/")
            think = page.get_by_role("button", name="Think: off")
            await expect(think).to_be_in_viewport()
            await think.click()
            menu = page.get_by_role("menu")
            await expect(menu.get_by_text("Medium")).to_be_visible()
            await shot(page, tmp_path, f"think-menu-{scheme}-{width}")
            await assert_accessible(page, f"the Think menu at {width} px")
            await menu.get_by_text("High").click()
            chosen = page.get_by_role("button", name="Think: high")
            await expect(chosen).to_be_in_viewport()
            box = await page.get_by_label("Message").bounding_box()
            assert box is not None and box["width"] >= width * 0.3, box  # the message box keeps its room
            await shot(page, tmp_path, f"think-high-{scheme}-{width}")
            await assert_accessible(page, f"the Think control at {width} px")
    finally:
        await context.close()
