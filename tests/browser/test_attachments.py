"""Attachments in a browser (issue 23's Done when): a file chosen with the paperclip and an image pasted from the
clipboard are uploaded from the page with progress, show as chips, go with the message, and their thumbnails render
in the question's bubble; a refused file says the server's reason; axe-clean, light and dark, desktop and phone."""

from __future__ import annotations

import base64

import pytest
from playwright.async_api import Browser, Page, expect

from testing.attachments import pdf, png
from testing.fakes.ollama import FakeOllama
from testing.fakes.server import Script
from testing.live import LiveApp
from testing.waiting import until
from tests.browser.conftest import create_account_and_sign_in
from tests.browser.test_ui import DESKTOP, PHONE, assert_accessible

pytestmark = pytest.mark.browser

MODEL = "llama3.2:3b"
PASTE = """async (data) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], "image.png", { type: "image/png" }));
    const paste = new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true, cancelable: true });
    document.querySelector("textarea").dispatchEvent(paste);
}"""


async def rendered(page: Page) -> list[int]:
    """The natural widths of the thumbnails in the questions' bubbles (0 for one whose image did not load)."""
    widths = await page.locator(".user-bubble .chatui-thumb img").evaluate_all(
        "images => images.map(image => image.complete ? image.naturalWidth : 0)"
    )
    return [int(width) for width in widths]


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_upload_by_the_button_and_by_paste_then_the_thumbnails_render(
    scheme: str, browser: Browser, browser_app: LiveApp, fake_ollama: FakeOllama
) -> None:
    fake_ollama.vision_models = {MODEL}
    fake_ollama.then(Script(tokens=["Two squares and a report."]))
    context = await browser.new_context(viewport=DESKTOP, color_scheme=scheme)  # type: ignore[arg-type]
    try:
        page = await context.new_page()
        await create_account_and_sign_in(page, browser_app, f"attach-{scheme}")
        await expect(page.get_by_role("button", name="Attach files")).to_be_visible()
        await page.locator("[data-testid=attach-input]").set_input_files(
            [
                {"name": "red.png", "mimeType": "image/png", "buffer": png(120, 80)},
                {"name": "report.pdf", "mimeType": "application/pdf", "buffer": pdf(pages=1)},
            ]
        )
        await page.evaluate(PASTE, base64.b64encode(png(90, 90, (40, 160, 60))).decode())
        chips = page.locator(".chatui-upload-chip")
        await expect(chips).to_have_count(3)
        await expect(chips.filter(has_text="red.png")).to_be_visible()
        await expect(chips.filter(has_text="report.pdf")).to_be_visible()
        await expect(chips.filter(has_text="pasted-")).to_be_visible()  # a pasted image gets a name of its own
        await expect(page.locator(".chatui-upload-done")).to_have_count(3)
        await expect(page.get_by_role("button", name="Send")).to_be_enabled()
        await expect(page.get_by_role("button", name="Remove red.png")).to_be_visible()
        await assert_accessible(page, f"chips above the message box ({scheme})")

        message = page.get_by_label("Message")
        await message.fill("What are these?")
        await message.press("Enter")
        await expect(page.locator(".assistant-bubble").last).to_contain_text("Two squares and a report.")
        await expect(page.locator(".chatui-upload-chip")).to_have_count(0)
        bubble = page.locator(".user-bubble").last
        await expect(bubble.locator(".chatui-thumb img")).to_have_count(2)
        await expect(bubble.locator(".chatui-file-chip")).to_contain_text("report.pdf")
        assert len(fake_ollama.requests[-1]["messages"][-1]["images"]) == 2
        await until(lambda: rendered(page), what="the thumbnails loaded")
        assert all(width > 0 for width in await rendered(page)), await rendered(page)
        await assert_accessible(page, f"a question with its files ({scheme})")

        await page.reload()  # from the database
        await until(lambda: rendered(page), what="the thumbnails loaded after a reload")
        assert sorted(await rendered(page)) == [90, 120]
    finally:
        await context.close()


async def test_on_a_phone_a_refused_file_says_why(browser: Browser, browser_app: LiveApp) -> None:
    context = await browser.new_context(viewport=DESKTOP)
    try:
        page = await context.new_page()
        await create_account_and_sign_in(page, browser_app, "attach-phone")
        await page.set_viewport_size(PHONE)
        # The page as a phone opens it: narrowed right after it opened wide, the drawer once stayed open over it, its
        # backdrop catching every tap (a run of the whole suite).
        await page.reload()
        await expect(page.get_by_role("button", name="New chat")).not_to_be_in_viewport()
        await page.locator("[data-testid=attach-input]").set_input_files(
            [{"name": "clip.mp4", "mimeType": "video/mp4", "buffer": b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200}]
        )
        refused = page.locator(".chatui-upload-failed")
        await expect(refused).to_contain_text("cannot be attached")
        await expect(refused).to_be_in_viewport()
        await expect(page.get_by_label("Message")).to_be_in_viewport()
        await assert_accessible(page, "a refused file on a phone")
        await page.get_by_role("button", name="Remove clip.mp4").click()
        await expect(refused).to_have_count(0)
    finally:
        await context.close()
