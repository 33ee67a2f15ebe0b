"""In Chromium, finding one's way in long chats (issue 29): after opening a search hit the query and its hits stay,
"Result i of n" steps to the previous and next hit without retyping (in place within a conversation, however far
outside the window the hit is; to another conversation's page with the query), each hit lands centred; and a long
chat has Jump to start beside Jump to latest."""

from __future__ import annotations

import re

from playwright.async_api import Locator, Page, expect

from chatui.ui.message_list import KEEP_PAGES, PAGE_SIZE
from testing.live import LiveApp
from testing.seed import into_sqlite, seed_conversation
from tests.browser.conftest import create_account_and_sign_in
from tests.browser.test_ui import assert_accessible

MARKED = (20, 150, 280)  # far apart: each outside the window (a page or so) around another


def text(i: int) -> str:
    return f"Zebracorn {i} stands out." if i in MARKED else f"Message {i}: a short one."


async def seeded_user(page: Page, app: LiveApp, name: str) -> tuple[str, str]:
    """A long conversation with three hits for "zebracorn", and a short one with one."""
    await create_account_and_sign_in(page, app, name)
    user_id = str((await (await page.request.get(f"{app.url}/api/auth/me")).json())["id"])

    def work(connection):  # type: ignore[no-untyped-def]
        long_id, _ = seed_conversation(connection, user_id, 300, title="Bestiary", text=text)
        short_id, _ = seed_conversation(
            connection, user_id, 4, title="Elsewhere", text=lambda i: "A zebracorn, elsewhere." if i == 1 else "Hi."
        )
        return long_id, short_id

    return into_sqlite(app.data_dir / "database.db", work)


async def centred(page: Page, locator: Locator) -> None:
    await expect(locator).to_be_in_viewport()
    box = await locator.bounding_box()
    height = page.viewport_size["height"] if page.viewport_size else 720
    assert box is not None and abs(box["y"] + box["height"] / 2 - height / 2) < height / 4, (box, height)


async def test_the_query_and_its_hits_stay_and_step_from_hit_to_hit(page: Page, browser_app: LiveApp) -> None:
    long_id, _ = await seeded_user(page, browser_app, "stepper")
    await page.goto(f"{browser_app.url}/")
    await page.get_by_label("Search conversations").fill("zebracorn")
    results = page.locator(".q-item", has=page.locator(".chatui-snippet"))
    await expect(results).to_have_count(4, timeout=10_000)
    await results.first.click()

    position = page.locator(".chatui-finder [aria-live]")
    seen: list[str] = []
    for step in range(4):
        await expect(position).to_have_text(f"Result {step + 1} of 4", timeout=10_000)
        target = page.locator(".chatui-target")
        await expect(target).to_contain_text(re.compile("zebracorn", re.IGNORECASE))
        hit = (await target.inner_text()).strip()
        seen.append(hit)
        if f"/chat/{long_id}" in page.url:  # a long chat: the hit is centred (the short one cannot scroll)
            await centred(page, target)
            assert await page.locator(".chatui-rows > .chatui-entry").count() <= KEEP_PAGES * PAGE_SIZE  # a window
        assert re.search(r"\?message=[0-9a-f-]+&q=zebracorn$", page.url)  # a reload comes back here
        await expect(page.get_by_label("Search conversations")).to_have_value("zebracorn")  # the query stayed
        await expect(results).to_have_count(4)  # and so did its hits
        if step == 0:
            await assert_accessible(page, "a search hit open, its stepper shown")
        if step < 3:
            await page.evaluate("window.chatuiSamePage = true")
            await page.get_by_role("button", name="Next result").click()
    assert len(set(seen)) == 4, seen
    await expect(page.get_by_role("button", name="Next result")).to_be_disabled()

    await page.get_by_role("button", name="Previous result").click()
    await expect(position).to_have_text("Result 3 of 4")
    await page.get_by_role("button", name="Close search").click()
    await expect(page.locator(".chatui-finder")).to_be_hidden()
    await expect(page.get_by_label("Search conversations")).to_have_value("")


async def test_a_hit_far_outside_the_window_opens_in_place(page: Page, browser_app: LiveApp) -> None:
    await seeded_user(page, browser_app, "inplace")
    await page.goto(f"{browser_app.url}/")
    await page.get_by_label("Search conversations").fill("zebracorn")
    await page.locator(".q-item", has_text="Zebracorn 280").click()
    await expect(page.locator(".chatui-target")).to_contain_text("Zebracorn 280")
    await page.evaluate("window.chatuiSamePage = true")  # gone if the page were loaded again
    await page.locator(".q-item", has_text="Zebracorn 20 ").click()
    target = page.locator(".chatui-target")
    await expect(target).to_contain_text("Zebracorn 20 stands out.")
    await centred(page, target)
    assert await page.evaluate("window.chatuiSamePage === true")
    rows = page.locator(".chatui-rows")
    await expect(rows.get_by_text("Zebracorn 280 stands out.")).not_to_be_attached()  # a new window, around 20


async def test_a_long_chat_jumps_to_its_start_and_back_to_the_latest(page: Page, browser_app: LiveApp) -> None:
    long_id, short_id = await seeded_user(page, browser_app, "jumper")
    await page.goto(f"{browser_app.url}/chat/{short_id}")
    await expect(page.get_by_text("A zebracorn, elsewhere.")).to_be_visible()
    await expect(page.get_by_role("button", name="Jump to start")).to_have_count(0)  # a short chat: no jumps
    await page.goto(f"{browser_app.url}/chat/{long_id}")
    await expect(page.get_by_text("Message 299: a short one.")).to_be_in_viewport()
    await page.get_by_role("button", name="Jump to start").click()
    await expect(page.get_by_text("Message 0: a short one.")).to_be_in_viewport()
    await expect(page.get_by_text("Message 299: a short one.")).not_to_be_attached()
    await page.get_by_role("button", name="Jump to latest").click()
    await expect(page.get_by_text("Message 299: a short one.")).to_be_in_viewport()
