"""In Chromium, a conversation dragged onto a folder in the sidebar is filed there (issue 26)."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import create_account_and_sign_in

pytestmark = pytest.mark.browser


async def test_a_conversation_dragged_onto_a_folder_moves_into_it(page: Page, browser_app) -> None:
    await create_account_and_sign_in(page, browser_app, "filer")
    api = page.request
    folder = await (await api.post(f"{browser_app.url}/api/folders", data={"name": "Travel"})).json()
    trip = await (await api.post(f"{browser_app.url}/api/conversations", data={"title": "Lisbon trip"})).json()
    await page.goto(f"{browser_app.url}/")
    row = page.locator(f"[data-conversation='{trip['id']}']")
    target = page.locator(f"[data-folder='{folder['id']}']")
    await expect(row).to_be_visible()
    await row.drag_to(target)

    await expect(page.locator(".chatui-drawer [data-conversation]")).to_have_count(0)  # out of the unfiled list
    detail = await (await api.get(f"{browser_app.url}/api/conversations/{trip['id']}")).json()
    assert detail["folder_id"] == folder["id"]
    await target.get_by_text("Travel").click()  # open the folder: the conversation is in it
    await expect(target.get_by_text("Lisbon trip")).to_be_visible()
