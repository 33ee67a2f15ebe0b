"""In Chromium, the import dialog (issue 29): a file dropped on its picker is imported and the conversation list
shows it at once; LibreChat's export comes in with its branches as versions; a file that imports nothing, or
breaks, never says "Import finished" but what went wrong."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.async_api import Page, expect

from testing.exports import chatui_conversation, librechat_tree
from tests.browser.conftest import create_account_and_sign_in
from tests.browser.test_ui import assert_accessible

pytestmark = pytest.mark.browser

DROP = """([name, text]) => {
  const data = new DataTransfer();
  data.items.add(new File([text], name, {type: "application/json"}));
  const zone = document.querySelector(".chatui-drop");
  for (const type of ["dragenter", "dragover", "drop"]) {
    zone.dispatchEvent(new DragEvent(type, {dataTransfer: data, bubbles: true, cancelable: true}));
  }
}"""


def chatui_document(*conversations: dict[str, Any]) -> str:
    document = {"format": "chatui/1", "exported_at": "2024-05-02T00:00:00+00:00", "conversations": conversations}
    return json.dumps(document)


async def open_import(page: Page) -> None:
    await page.get_by_role("button", name=re.compile("^Account")).click()
    await page.locator(".q-menu .q-item", has_text="Import").click()
    await expect(page.get_by_text("Drop the file here, or choose one")).to_be_visible()


async def drop_and_import(page: Page, name: str, text: str) -> None:
    await page.evaluate(DROP, [name, text])
    await expect(page.locator(".chatui-drop-name")).to_have_text(name)
    await page.get_by_role("button", name="Import", exact=True).click()


async def test_a_dropped_file_with_nulls_is_imported_and_listed_at_once(page: Page, browser_app) -> None:
    await create_account_and_sign_in(page, browser_app, "dropper")
    conversation = chatui_conversation(1, 2, 30)
    conversation["title"] = "Careful exporter"
    conversation["messages"][0].update(usage=None, status=None, attachments=None)
    await open_import(page)
    await drop_and_import(page, "careful.json", chatui_document(conversation))

    await expect(page.locator("[role=status]")).to_have_text("Import finished.", timeout=20_000)
    await expect(page.get_by_text("1 conversation and 2 messages imported.")).to_be_visible()
    await expect(page.get_by_role("progressbar")).to_be_hidden()  # the report replaces the bar once it ended
    await assert_accessible(page, "the import dialog, after an import")
    await page.get_by_role("button", name="Close").click()
    await expect(page.locator(".chatui-drawer").get_by_text("Careful exporter")).to_be_visible()  # no reload


async def test_an_import_that_stores_nothing_says_what_failed(page: Page, browser_app) -> None:
    await create_account_and_sign_in(page, browser_app, "failer")
    broken = chatui_conversation(2, 2, 30)
    del broken["model"]
    broken["title"] = "No model"
    await open_import(page)
    await drop_and_import(page, "broken.json", chatui_document(broken))
    status = page.locator("[role=status]")
    await expect(status).to_have_text(re.compile("^Nothing was imported"), timeout=20_000)
    await expect(page.get_by_text(re.compile(r"#1 'No model'.*model"))).to_be_visible()

    whole = chatui_document(*(chatui_conversation(i, 2, 30) for i in range(3, 6)))
    await drop_and_import(page, "cut.json", whole[: len(whole) - 200])
    await expect(status).to_have_text(re.compile("^The import failed: The file stops being valid JSON"), timeout=20_000)
    assert "Import finished" not in (await page.locator(".chatui-dialog").inner_text())


async def test_a_librechat_export_opens_with_its_branches_as_versions(page: Page, browser_app) -> None:
    await create_account_and_sign_in(page, browser_app, "librechat")
    await open_import(page)
    await drop_and_import(page, "librechat.json", json.dumps(librechat_tree()))
    await expect(page.locator("[role=status]")).to_have_text("Import finished.", timeout=20_000)
    await expect(page.get_by_text("1 conversation and 5 messages imported.")).to_be_visible()
    await page.get_by_role("button", name="Close").click()
    await page.locator(".chatui-drawer").get_by_text("Sourdough starter").click()
    await expect(page.get_by_text("Once a week.")).to_be_visible()
    await page.get_by_text("Every 12 hours if it lives on the counter.").hover()
    await expect(page.get_by_text("2 / 2")).to_be_visible()  # the answer was regenerated in LibreChat
    await page.get_by_role("button", name="Previous version").click()
    await expect(page.get_by_text("Once a day at room temperature.")).to_be_visible()
    await expect(page.get_by_text("Once a week.")).to_have_count(0)
