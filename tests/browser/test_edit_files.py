"""Editing a message's files in a browser (issue 23): the editor holds the message's files as chips; a file picked
with the editor's own paperclip and an image pasted into the editor join them there (not the message box's tray);
a removed one leaves; the new version's bubble shows what the editor held. Axe-clean, light and dark, desktop and
phone; the screenshots go to $CHATUI_SHOTS when it is set."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from testing.attachments import pdf, png
from testing.fakes.ollama import FakeOllama
from testing.fakes.server import Script
from testing.live import LiveApp
from tests.browser.conftest import create_account_and_sign_in
from tests.browser.test_ui import DESKTOP, PHONE, assert_accessible, back_to_desktop

pytestmark = pytest.mark.browser

MODEL = "llama3.2:3b"
PASTE_IN_EDITOR = """async (data) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], "image.png", { type: "image/png" }));
    const paste = new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true, cancelable: true });
    document.querySelector(".chatui-editor textarea").dispatchEvent(paste);
}"""


async def shoot(page: Page, folder: Path, name: str) -> None:
    await page.screenshot(path=str(folder / f"{name}.png"))


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_the_editor_takes_files_by_its_paperclip_and_by_paste_and_drops_a_removed_one(
    scheme: str, browser: Browser, browser_app: LiveApp, fake_ollama: FakeOllama, tmp_path: Path
) -> None:
    shots = Path(os.environ.get("CHATUI_SHOTS") or tmp_path)
    fake_ollama.vision_models = {MODEL}
    fake_ollama.then(Script(tokens=["A red square and a report."]))
    fake_ollama.then(Script(tokens=["A red square, a green one and notes."]))
    context = await browser.new_context(viewport=DESKTOP, color_scheme=scheme)  # type: ignore[arg-type]
    try:
        page = await context.new_page()
        await create_account_and_sign_in(page, browser_app, f"edit-files-{scheme}")
        await page.locator(".chatui-footer [data-testid=attach-input]").set_input_files(
            [
                {"name": "red.png", "mimeType": "image/png", "buffer": png(120, 80)},
                {"name": "report.pdf", "mimeType": "application/pdf", "buffer": pdf(pages=1)},
            ]
        )
        await expect(page.locator(".chatui-footer .chatui-upload-done")).to_have_count(2)
        message = page.get_by_label("Message")
        await message.fill("What are these?")
        await message.press("Enter")
        await expect(page.locator(".assistant-bubble").last).to_contain_text("A red square and a report.")

        await page.locator(".user-bubble").last.hover()
        await page.get_by_role("button", name="Edit", exact=True).click()
        editor = page.locator(".chatui-editor")
        await expect(editor.locator(".chatui-upload-chip")).to_have_count(2)
        await editor.locator("[data-testid=attach-input]").set_input_files(
            [{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"Green is the second square.\n"}]
        )
        await page.evaluate(PASTE_IN_EDITOR, base64.b64encode(png(90, 90, (40, 160, 60))).decode())
        await expect(editor.locator(".chatui-upload-done")).to_have_count(4)
        await expect(page.locator(".chatui-footer .chatui-upload-chip")).to_have_count(0)  # not the message box's
        await editor.get_by_role("button", name="Remove report.pdf").click()
        await expect(editor.locator(".chatui-upload-chip")).to_have_count(3)
        await expect(editor.get_by_role("button", name="Attach files")).to_be_visible()
        await assert_accessible(page, f"the editor with its files ({scheme})")
        await shoot(page, shots, f"edit-files-desktop-{scheme}")
        await page.set_viewport_size(PHONE)
        await expect(page.get_by_role("button", name="New chat")).not_to_be_in_viewport()  # the drawer slid away
        await editor.scroll_into_view_if_needed()
        await assert_accessible(page, f"the editor with its files on a phone ({scheme})")
        await shoot(page, shots, f"edit-files-phone-{scheme}")
        await back_to_desktop(page)

        await editor.get_by_role("button", name="Save & submit").click()
        await expect(page.locator(".assistant-bubble").last).to_contain_text(
            "A red square, a green one and notes.", timeout=10_000
        )
        await expect(editor).to_have_count(0)
        bubble = page.locator(".user-bubble").last
        await expect(bubble.locator(".chatui-thumb img")).to_have_count(2)
        await expect(bubble.locator(".chatui-file-chip")).to_have_text("descriptionnotes.txt28 B")
        sent = fake_ollama.requests[-1]["messages"][-1]
        assert len(sent["images"]) == 2 and "notes.txt" in sent["content"] and "report.pdf" not in sent["content"]
    finally:
        await context.close()
