"""Knowledge in a browser (issue 25): a collection made on the Knowledge page, a file added to it, attached to a chat
with `#` (and one of its documents on its own, whose chip says it is a document), a question asked, and the reply's
citation followed to the document, where the passage is highlighted and in view. Light and dark, 1280 and 390 px;
each step photographed into the test's folder (`tmp_path`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from testing.fakes.ollama import FakeOllama
from testing.fakes.server import Script
from testing.live import LiveApp
from tests.browser.conftest import create_account_and_sign_in
from tests.browser.test_settings_continue import shot
from tests.browser.test_ui import DESKTOP, PHONE, assert_accessible

pytestmark = pytest.mark.browser

MANUAL = """# Espresso machine manual

## Grinding

Use a fine burr grind; adjust one notch finer when shots run faster than 25 seconds.

## Descaling

Descale the boiler every 200 shots with citric acid dissolved in warm water, then flush twice.
"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_attach_with_hash_ask_and_follow_a_citation_to_the_highlighted_passage(
    scheme: str, browser: Browser, browser_app: LiveApp, fake_ollama: FakeOllama, tmp_path: Path
) -> None:
    context = await browser.new_context(viewport=DESKTOP, color_scheme=scheme)  # type: ignore[arg-type]
    try:
        page = await context.new_page()
        await create_account_and_sign_in(page, browser_app, f"reader-{scheme}")
        await page.goto(f"{browser_app.url}/knowledge")
        await page.get_by_label("New collection").fill("Espresso")
        await page.get_by_role("button", name="Create").click()
        manual = tmp_path / "espresso.md"
        manual.write_text(MANUAL)
        async with page.expect_file_chooser() as chooser:
            await page.get_by_role("button", name="Add files").click()
        await (await chooser.value).set_files(manual)
        await expect(page.get_by_text("Ready · 2 passages")).to_be_visible(timeout=15_000)
        await shot(page, tmp_path, f"knowledge-page-{scheme}-1280")
        await assert_accessible(page, "the Knowledge page")

        await page.goto(f"{browser_app.url}/")
        box = page.get_by_label("Message")
        await box.fill("#esp")
        option = page.get_by_role("option", name="#Espresso 1 document")
        await expect(option).to_be_visible()
        await shot(page, tmp_path, f"knowledge-hash-{scheme}-1280")
        await box.press("Enter")
        await expect(page.locator(".chatui-knowledge-chip", has_text="#Espresso")).to_be_visible()
        await expect(page.get_by_role("option")).to_have_count(0)  # the list closed
        await expect(box).to_have_value("")
        # the single document too (the collection, attached, is offered no more): a chip of its own, named a document
        await box.fill("#espresso")
        await expect(page.get_by_role("option", name="#espresso.md in Espresso")).to_be_visible()
        await box.press("Enter")
        document_chip = page.locator(".chatui-knowledge-chip", has_text="#espresso.md")
        await expect(document_chip).to_contain_text("document in Espresso")
        await expect(page.locator(".chatui-knowledge-chip", has_text="collection")).to_contain_text("#Espresso")
        await expect(page.get_by_role("option")).to_have_count(0)
        await shot(page, tmp_path, f"knowledge-chips-{scheme}-1280")
        await assert_accessible(page, "a collection and a single document attached")
        await page.set_viewport_size(PHONE)
        await expect(page.get_by_role("button", name="New chat")).not_to_be_in_viewport()  # the drawer slid away
        await expect(document_chip).to_be_in_viewport()
        await shot(page, tmp_path, f"knowledge-chips-{scheme}-390")
        await page.set_viewport_size(DESKTOP)
        fake_ollama.then(Script(tokens=["Descale every ", "200 shots [1]."]))
        await box.fill("How often should I descale the boiler?")
        await box.press("Enter")
        sources = page.locator(".chatui-sources")
        await expect(sources).to_contain_text("espresso.md › Espresso machine manual › Descaling")
        citation = page.locator("a.chatui-cite", has_text="[1]")
        await expect(citation).to_be_visible()
        assert "Descale the boiler every 200 shots" in fake_ollama.requests[-1]["messages"][0]["content"]
        await shot(page, tmp_path, f"knowledge-reply-{scheme}-1280")
        await assert_accessible(page, "a reply with its sources")

        async with context.expect_page() as opened:
            await citation.click()
        document = await opened.value
        cited = document.locator("mark[data-cited]")
        await expect(cited).to_contain_text("Descale the boiler every 200 shots")
        await expect(cited).to_be_in_viewport()
        await shot(document, tmp_path, f"knowledge-document-{scheme}-1280")
        await assert_accessible(document, "a document at its passage")

        for shown in (page, document):  # the phone's width
            await shown.set_viewport_size(PHONE)
            await shown.reload()
        await expect(page.locator("a.chatui-cite", has_text="[1]")).to_be_visible()
        await expect(document.locator("mark[data-cited]")).to_be_in_viewport()
        await shot(page, tmp_path, f"knowledge-reply-{scheme}-390")
        await shot(document, tmp_path, f"knowledge-document-{scheme}-390")
    finally:
        await context.close()
