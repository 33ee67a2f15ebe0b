"""A share link opened signed out in Chromium (issue 26): the conversation as it was shared, its Markdown and its
image (through the link's own route), and only **Continue this chat**; Axe-clean, light and dark, desktop and phone.
The screenshots go to $CHATUI_SHOTS when it is set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from testing.attachments import png
from testing.fakes.ollama import FakeOllama
from testing.fakes.server import Script
from testing.live import LiveApp
from tests.browser.conftest import create_account_and_sign_in
from tests.browser.test_ui import DESKTOP, PHONE, assert_accessible, serious_violations

pytestmark = pytest.mark.browser

LOADED = "[...document.querySelectorAll('.q-loading-bar')].every(bar => getComputedStyle(bar).opacity === '0')"
"""Quasar's loading bar (it follows the page's requests) has faded: the page is shown as it stays."""

ANSWER = [
    "It is a **red square**, 120 × 80 pixels. To make one in Python:\n\n",
    "```python\nfrom PIL import Image\n\nImage.new('RGB', (120, 80), 'red').save('red.png')\n```\n\n",
    "| colour | width | height |\n|---|---|---|\n| red | 120 | 80 |\n",
]


async def assert_accessible_within(page: Page, selector: str, where: str) -> None:
    """axe-core's serious and critical findings inside one card (the rest of the page is other features' to check)."""
    await serious_violations(page)  # loads axe (or skips or fails, as the whole-page check does)
    found = await page.evaluate(
        """async (selector) => (await axe.run({include: [[selector]]}, {resultTypes: ["violations"]}))
            .violations.filter(v => v.impact === "serious" || v.impact === "critical")
            .map(v => `${v.id}: ${v.nodes.map(n => n.target.join(" ")).join(" | ")}`)""",
        selector,
    )
    assert not found, f"{where}:\n" + "\n".join(found)


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_a_share_link_opened_signed_out_shows_the_conversation(
    scheme: str, browser: Browser, browser_app: LiveApp, fake_ollama: FakeOllama, tmp_path: Path
) -> None:
    shots = Path(os.environ.get("CHATUI_SHOTS") or tmp_path)
    fake_ollama.vision_models = {"llama3.2:3b"}
    fake_ollama.then(Script(tokens=ANSWER))
    owner = await browser.new_context(viewport=DESKTOP, color_scheme=scheme)  # type: ignore[arg-type]
    reader = await browser.new_context(viewport=DESKTOP, color_scheme=scheme)  # type: ignore[arg-type]
    try:
        page = await owner.new_page()
        await create_account_and_sign_in(page, browser_app, f"sharer-{scheme}")
        await page.locator(".chatui-footer [data-testid=attach-input]").set_input_files(
            [{"name": "red.png", "mimeType": "image/png", "buffer": png(120, 80)}]
        )
        await expect(page.locator(".chatui-footer .chatui-upload-done")).to_have_count(1)
        await page.get_by_label("Message").fill("What is this picture?")
        await page.get_by_label("Message").press("Enter")
        await expect(page.locator(".assistant-bubble").last).to_contain_text("3 tokens")
        await page.get_by_role("button", name="Conversation menu").click()
        await page.get_by_role("menuitem", name="Share").click()
        await page.get_by_role("button", name="Create link").click()
        link = page.get_by_label("Link")
        await expect(link).to_be_visible()
        url = await link.input_value()
        assert url.startswith(f"{browser_app.url}/s/")
        await assert_accessible(page, f"the share dialog ({scheme})")
        await page.wait_for_function(LOADED)
        await page.screenshot(path=str(shots / f"share-dialog-{scheme}.png"))

        await page.keyboard.press("Escape")
        await page.goto(f"{browser_app.url}/settings")
        await expect(page.get_by_text("Shared links")).to_be_visible()
        await expect(page.get_by_role("link", name="What is this picture?")).to_be_visible()
        await assert_accessible_within(page, ".chatui-shared-links", f"Settings' Shared links ({scheme})")
        await page.wait_for_function(LOADED)
        await page.screenshot(path=str(shots / f"share-settings-{scheme}.png"), full_page=True)
        if (await page.request.get(f"{browser_app.url}/api/admin/shares")).ok:  # the module's first account
            await page.goto(f"{browser_app.url}/admin")
            await expect(page.get_by_text(f"What is this picture? — sharer-{scheme}")).to_be_visible()
            await assert_accessible_within(page, ".chatui-all-shares", f"the administration page's links ({scheme})")
            await page.wait_for_function(LOADED)
            await page.screenshot(path=str(shots / f"share-admin-{scheme}.png"), full_page=True)

        shared = await reader.new_page()  # signed out
        response = await shared.goto(url)
        assert response is not None and response.headers["x-robots-tag"] == "noindex, nofollow"
        await expect(shared.locator(".user-bubble")).to_contain_text("What is this picture?")
        await expect(shared.locator(".assistant-bubble strong")).to_have_text("red square")
        await expect(shared.locator(".assistant-bubble table")).to_be_visible()
        thumb = shared.locator(".chatui-thumb img")
        await expect(thumb).to_be_visible()
        assert await thumb.evaluate("img => img.complete && img.naturalWidth") == 120  # served through the link
        await expect(shared.get_by_role("link", name="Continue this chat")).to_be_visible()
        await expect(shared.get_by_label("Message")).to_have_count(0)
        await expect(shared.locator("meta[name=robots]")).to_have_attribute("content", "noindex, nofollow")
        await shared.wait_for_load_state("networkidle")
        await assert_accessible(shared, f"a shared conversation ({scheme})")
        await shared.wait_for_function(LOADED)
        await shared.screenshot(path=str(shots / f"share-desktop-{scheme}.png"))
        await shared.set_viewport_size(PHONE)
        await expect(shared.get_by_role("link", name="Continue this chat")).to_be_in_viewport()
        await assert_accessible(shared, f"a shared conversation on a phone ({scheme})")
        await shared.wait_for_function(LOADED)
        await shared.screenshot(path=str(shots / f"share-phone-{scheme}.png"))
    finally:
        await owner.close()
        await reader.close()
