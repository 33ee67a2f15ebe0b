"""What only a browser shows of long conversations and big accounts: where the page opens, that loading older
messages does not move what the reader looks at, that a reply streams into a long conversation, that the sidebar
loads more as it scrolls."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from playwright.async_api import Page, expect
from sqlalchemy import Connection

from chatui.ui.message_list import KEEP_PAGES, PAGE_SIZE
from chatui.ui.sidebar import PAGE_SIZE as SIDEBAR_PAGE
from testing.fakes.server import Script
from testing.live import LiveApp
from testing.seed import into_sqlite, seed_conversation, seed_conversations
from tests.browser.conftest import create_account_and_sign_in

T = TypeVar("T")
BUBBLES = ".chatui-rows > .chatui-entry"  # one per message: its bubble, then its row of actions


def seed(app: LiveApp, work: Callable[[Connection], T]) -> T:
    return into_sqlite(app.data_dir / "database.db", work)


async def signed_in_user(page: Page, app: LiveApp, name: str) -> str:
    await create_account_and_sign_in(page, app, name)
    response = await page.request.get(f"{app.url}/api/auth/me")
    return str((await response.json())["id"])


async def test_a_long_conversation_opens_with_its_last_message_in_view(page: Page, browser_app) -> None:
    user_id = await signed_in_user(page, browser_app, "reader")
    conversation_id, _ = seed(browser_app, lambda c: seed_conversation(c, user_id, 2000))
    await page.goto(f"{browser_app.url}/chat/{conversation_id}")
    await expect(page.get_by_text("Table 1999.")).to_be_in_viewport()  # the last message
    await expect(page.locator(BUBBLES).last).to_be_in_viewport()
    assert await page.locator(BUBBLES).count() == PAGE_SIZE


async def test_scrolling_up_loads_older_messages_without_a_jump(page: Page, browser_app) -> None:
    user_id = await signed_in_user(page, browser_app, "scroller")
    conversation_id, _ = seed(browser_app, lambda c: seed_conversation(c, user_id, 2000))
    await page.goto(f"{browser_app.url}/chat/{conversation_id}")
    await expect(page.get_by_text("Table 1999.")).to_be_in_viewport()  # the last message
    for step in range(1, KEEP_PAGES + 3):
        top = await page.locator(BUBBLES).first.element_handle()  # the oldest message shown
        # at the very top (where Chromium's own scroll anchoring gives up), where the reader sees that message
        before = await top.evaluate("e => { window.scrollTo(0, 0); return e.getBoundingClientRect().top; }")
        await page.wait_for_function("e => e.parentElement.firstElementChild !== e", arg=top)  # an older page came
        after = await top.evaluate("e => e.getBoundingClientRect().top")
        assert abs(after - before) < 2, f"the view jumped by {after - before:.0f} px at step {step}"
        assert await page.locator(BUBBLES).count() <= KEEP_PAGES * PAGE_SIZE
    await expect(page.get_by_text("Message 1996: a short one.")).not_to_be_attached()  # far pages were dropped


async def test_opening_at_a_message_shows_it(page: Page, browser_app) -> None:
    user_id = await signed_in_user(page, browser_app, "searcher")
    conversation_id, ids = seed(browser_app, lambda c: seed_conversation(c, user_id, 2000))
    await page.goto(f"{browser_app.url}/chat/{conversation_id}?message={ids[500]}")
    target = page.locator(".chatui-target")
    await expect(target).to_contain_text("Message 500: a short one.")
    await expect(target).to_be_in_viewport()
    assert "chatui-highlight" in (await target.get_attribute("class") or "")
    await expect(page.get_by_text("Message 1996: a short one.")).not_to_be_attached()


async def test_a_reply_streams_into_a_long_conversation(page: Page, browser_app, fake_ollama) -> None:
    fake_ollama.then(Script(tokens=["The", " reply", " is", " **here**", "."], delay=0.05))
    user_id = await signed_in_user(page, browser_app, "streamer")
    conversation_id, _ = seed(browser_app, lambda c: seed_conversation(c, user_id, 2000))
    await page.goto(f"{browser_app.url}/chat/{conversation_id}")
    await expect(page.get_by_text("Table 1999.")).to_be_in_viewport()  # the last message
    message = page.get_by_label("Message")
    await message.fill("And one more thing?")
    await message.press("Enter")
    reply = page.locator(".assistant-bubble").last
    await expect(reply).to_contain_text("The reply is here.", timeout=10_000)
    await expect(reply.locator("strong")).to_have_text("here")
    await expect(reply).to_be_in_viewport()
    await expect(page.locator(".user-bubble").last).to_contain_text("And one more thing?")
    assert await page.locator(BUBBLES).count() == PAGE_SIZE + 2


async def test_the_sidebar_loads_more_as_it_scrolls_and_filters(page: Page, browser_app) -> None:
    user_id = await signed_in_user(page, browser_app, "hoarder")
    seed(browser_app, lambda c: seed_conversations(c, user_id, 2 * SIDEBAR_PAGE + 10))
    await page.goto(f"{browser_app.url}/")
    rows = page.locator(".conversation-row")
    await expect(rows.first).to_contain_text("Conversation 109")
    assert await rows.count() == SIDEBAR_PAGE
    drawer = page.locator(".q-drawer__content")
    for expected in (2 * SIDEBAR_PAGE, 2 * SIDEBAR_PAGE + 10):
        await drawer.evaluate("d => d.scrollTo(0, d.scrollHeight)")
        await expect(rows).to_have_count(expected)
    await expect(rows.last).to_contain_text("Conversation 0")

    await page.get_by_label("Search conversations").fill("Conversation 7")
    await expect(rows).to_have_count(11)  # 7 and 70-79
    await rows.first.locator("button").click()  # the row's own menu, not the row
    await expect(page.locator(".q-menu").get_by_text("Rename")).to_be_visible()
    assert page.url.endswith("/")
    await page.locator(".q-menu").get_by_text("Rename").click()
    await page.get_by_label("Title").fill("Seventy-nine, renamed")  # the dialog outlives the menu that opened it
    await page.get_by_role("button", name="Save").click()
    await expect(rows).to_have_count(10)  # renamed away from the filter
    await page.get_by_label("Search conversations").fill("renamed")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Seventy-nine, renamed")
