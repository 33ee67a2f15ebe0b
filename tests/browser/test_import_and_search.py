"""In Chromium: import a ChatGPT export from the account menu, search a word, open the hit at its message."""

from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.async_api import Page, expect

from testing.exports import chatgpt_conversation, write_chatgpt_zip
from tests.browser.conftest import create_account_and_sign_in


async def test_import_a_chatgpt_zip_then_search_and_open_the_hit(page: Page, browser_app, tmp_path: Path) -> None:
    export = write_chatgpt_zip(tmp_path / "chatgpt-export.zip", [chatgpt_conversation("tea", "Tea brewing")])
    await create_account_and_sign_in(page, browser_app, "importer")

    await page.get_by_role("button", name=re.compile("^Account")).click()
    await page.locator(".q-menu .q-item", has_text="Import").click()
    await page.get_by_label("File to import").set_input_files(export)
    await page.get_by_role("button", name="Import", exact=True).click()
    report = page.locator("[role=status]")
    await expect(report).to_have_text("Import finished.", timeout=20_000)
    await expect(page.get_by_text("1 conversation and 3 messages imported.")).to_be_visible()
    await expect(page.get_by_text("3 hidden, tool or non-text messages and parts were left out.")).to_be_visible()
    await page.get_by_role("button", name="Close").click()

    box = page.get_by_label("Search conversations")
    await box.fill("80 °C")
    hit = page.locator(".q-item", has_text="three minutes at")
    await expect(hit).to_be_visible(timeout=10_000)
    await expect(hit.locator("mark")).to_have_text(["80", "C"])  # the matches, marked
    await hit.click()
    await page.wait_for_url(re.compile(r"/chat/[0-9a-f-]+\?message=[0-9a-f-]+&q=80%20%C2%B0C$"))  # the query kept
    await expect(page.get_by_text("Two to three minutes at 80 °C.")).to_be_visible()
    conversation_id, message_id = page.url.split("/chat/")[1].split("&q=")[0].split("?message=")
    exported = await page.request.get(f"{browser_app.url}/api/conversations/{conversation_id}/export")
    messages = json.loads(await exported.text())["conversations"][0]["messages"]
    assert message_id == next(m["id"] for m in messages if m["content"].startswith("Two to three"))
