"""Every day, in a browser (issue 29): Markdown people paste (math, diagrams, task lists, links), the shortcuts
dialog, actions shown on hover beside or under their message, Copy that says so, and the "still writing" notice
above the message box — light and dark, axe-clean.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, expect

from chatui.conversations.errors import BUSY
from testing.fakes.server import Script, ScriptedProvider
from testing.live import LiveApp
from testing.seed import into_sqlite, seed_conversation
from testing.waiting import until
from tests.browser.conftest import create_account_and_sign_in
from tests.browser.test_ui import DESKTOP, PHONE, assert_accessible

pytestmark = pytest.mark.browser

INTRO = "A few things people paste. " * 20  # makes the diagram's block long enough to be finished while text follows
MATH = r"""Euler: $e^{i\pi} + 1 = 0$ and \(a_1 \cdot b_2\), for $5 and $10.

$$
\sum_{k=1}^{n} k = \frac{n(n+1)}{2}
$$

\[
\begin{pmatrix} a & b \\ c & d \end{pmatrix}
\]

- [ ] write the tests
- [x] read the issue

See the [docs](https://example.com/docs).
"""
DIAGRAM = "```mermaid\ngraph TD\n  A[Question] --> B[Answer]\n```\n\n"
TEX = [r"e^{i\pi} + 1 = 0", r"a_1 \cdot b_2", r"\sum_{k=1}^{n} k = \frac{n(n+1)}{2}",
       r"\begin{pmatrix} a & b \\ c & d \end{pmatrix}"]  # fmt: skip


async def context_for(browser: Browser, app: LiveApp, scheme: str, name: str, **options: object) -> BrowserContext:
    context = await browser.new_context(viewport=DESKTOP, color_scheme=scheme, **options)  # type: ignore[arg-type]
    await create_account_and_sign_in(await context.new_page(), app, name)
    return context


async def ask(page: Page, question: str) -> None:
    message = page.get_by_label("Message")
    await message.fill(question)
    await message.press("Enter")


async def assert_markdown(reply: Locator) -> None:
    """Four formulas typeset (two displayed) with their TeX whole, two checkboxes, a link to a new tab, a diagram."""
    await expect(reply.locator(".chatui-math .katex")).to_have_count(4)
    await expect(reply.locator(".katex-display")).to_have_count(2)
    annotations = reply.locator('annotation[encoding="application/x-tex"]')
    assert [t.strip() for t in await annotations.all_text_contents()] == TEX  # every backslash kept
    await expect(reply).to_contain_text("for $5 and $10.")
    boxes = reply.get_by_role("checkbox")
    await expect(boxes).to_have_count(2)
    await expect(boxes.first).to_be_disabled()
    await expect(boxes.first).not_to_be_checked()
    await expect(boxes.last).to_be_checked()
    link = reply.get_by_role("link", name="docs")
    await expect(link).to_have_attribute("target", "_blank")
    assert {"noopener", "noreferrer"} <= set((await link.get_attribute("rel") or "").split())
    diagram = reply.get_by_role("img", name="Mermaid diagram (Copy code copies its source)")
    await expect(diagram).to_be_visible(timeout=15_000)
    assert await diagram.evaluate("i => i.complete && i.naturalWidth > 50 && i.src.startsWith('data:image/svg')")
    await expect(reply.locator(".chatui-mermaid pre")).to_be_hidden()


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_math_diagrams_tasks_and_links_render_after_streaming_and_reload(
    scheme: str, browser: Browser, browser_app: LiveApp, fake_ollama: ScriptedProvider
) -> None:
    context = await context_for(browser, browser_app, scheme, f"paster-{scheme}")
    try:
        page = await context.new_page()
        await page.goto(f"{browser_app.url}/")
        rest = ["and ", "now ", "the ", "rest ", "of ", "it ", "comes ", "slowly "]
        fake_ollama.then(Script(tokens=[DIAGRAM, INTRO, "\n\n", *rest, "\n\n", MATH], delay=0.4))
        await ask(page, "paste things")
        reply = page.locator(".assistant-bubble").last
        await expect(reply).to_contain_text("the rest", timeout=10_000)
        # the diagram's block is finished, the reply is not: no drawing yet, the source shows as code
        await expect(page.get_by_role("button", name="Stop")).to_be_visible()
        await expect(reply.locator(".chatui-mermaid pre")).to_be_visible()
        await expect(reply.locator("img.chatui-diagram")).to_have_count(0)
        await expect(page.get_by_role("button", name="Send")).to_be_visible(timeout=15_000)
        await assert_markdown(reply)
        await assert_accessible(page, f"Markdown, {scheme}")

        await page.reload()
        await assert_markdown(page.locator(".assistant-bubble").last)
    finally:
        await context.close()


async def test_the_shortcuts_dialog_opens_with_ctrl_slash_and_lists_every_key(
    browser: Browser, browser_app: LiveApp
) -> None:
    context = await context_for(browser, browser_app, "light", "keyboardist")
    try:
        page = await context.new_page()
        await page.goto(f"{browser_app.url}/")
        await page.get_by_label("Message").click()
        await page.keyboard.press("Control+Slash")
        dialog = page.get_by_role("dialog")
        await expect(dialog.get_by_role("heading", name="Keyboard shortcuts")).to_be_visible()
        keys = await dialog.locator("dt").all_text_contents()
        assert keys == ["Enter", "Esc", "Ctrl + Shift + O", "Ctrl + K", "Ctrl + /"]
        for what in await dialog.locator("dd").all():
            await expect(what).to_be_visible()
            assert (await what.text_content() or "").strip()
        await assert_accessible(page, "shortcuts dialog")
        await page.keyboard.press("Escape")
        await expect(dialog).to_be_hidden()
    finally:
        await context.close()


async def opacity(locator: Locator) -> float:
    return float(await locator.evaluate("e => getComputedStyle(e).opacity"))


async def is_opaque(locator: Locator) -> bool:
    return await opacity(locator) == 1


async def clearance_is_kept(clearance: Callable[[], Awaitable[float]]) -> bool:
    return await clearance() >= 0


async def test_actions_show_on_hover_beside_your_message_and_copy_says_copied(
    browser: Browser, browser_app: LiveApp, fake_ollama: ScriptedProvider
) -> None:
    context = await context_for(browser, browser_app, "light", "hoverer")
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=browser_app.url)
    try:
        page = await context.new_page()
        await page.goto(f"{browser_app.url}/")
        for answer in ("First answer.", "Second answer."):
            fake_ollama.then(Script(tokens=[answer]))
            await ask(page, f"The question for the {answer.split()[0].lower()} answer, long enough to wrap on a phone")
            await expect(page.locator(".assistant-bubble").last).to_contain_text(answer)
            await expect(page.get_by_role("button", name="Send")).to_be_visible()
        first_question = page.locator(".chatui-entry-user").first
        bubble, actions = first_question.locator(".q-message"), first_question.locator(".chatui-actions")
        bubble_box, actions_box = await bubble.bounding_box(), await actions.bounding_box()
        assert bubble_box and actions_box
        assert actions_box["x"] + actions_box["width"] <= bubble_box["x"] + 1  # beside it, on its left
        assert actions_box["y"] >= bubble_box["y"] - 1 and actions_box["y"] < bubble_box["y"] + bubble_box["height"]
        assert bubble_box["x"] + bubble_box["width"] > DESKTOP["width"] / 2  # on the right
        # no row of its own under it: the actions end where the bubble does
        assert actions_box["y"] + actions_box["height"] <= bubble_box["y"] + bubble_box["height"] + 1

        first_reply = page.locator(".chatui-entry").nth(1).locator(".chatui-actions")
        # hidden once no longer the last message (awaited: the actions fade out over a CSS transition)
        await expect(first_reply).to_have_css("opacity", "0")
        await page.locator(".assistant-bubble").first.hover()
        await until(lambda: is_opaque(first_reply), what="the first reply's actions shown on hover")
        last_reply = page.locator(".chatui-entry").last.locator(".chatui-actions")
        await page.get_by_label("Message").hover()
        await until(lambda: is_opaque(last_reply), what="the last message's actions shown without hover")

        await page.locator(".assistant-bubble").last.hover()
        await last_reply.get_by_role("button", name="Copy").click()
        await expect(last_reply.get_by_role("status")).to_have_text("Copied")
        assert await page.evaluate("navigator.clipboard.readText()") == "Second answer."
        await expect(last_reply.get_by_role("status")).to_have_count(0, timeout=5_000)

        touch = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        try:
            await touch.add_cookies(await context.cookies())
            phone = await touch.new_page()
            await phone.goto(page.url)
            await expect(phone.locator(".assistant-bubble").first).to_contain_text("First answer.")
            await expect(phone.locator(".chatui-entry").nth(1).locator(".chatui-actions")).to_have_css("opacity", "1")
            question = phone.locator(".chatui-entry-user").first  # a wrapped question keeps its actions beside it
            bubble_box = await question.locator(".q-message").bounding_box()
            actions_box = await question.locator(".chatui-actions").bounding_box()
            assert bubble_box and actions_box and bubble_box["height"] > 40  # wrapped
            assert actions_box["x"] + actions_box["width"] <= bubble_box["x"] + 1
            assert actions_box["y"] >= bubble_box["y"] - 1
        finally:
            await touch.close()
    finally:
        await context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_the_still_writing_notice_stands_above_the_message_box(
    scheme: str, size: dict[str, int], browser: Browser, browser_app: LiveApp, fake_ollama: ScriptedProvider
) -> None:
    context = await context_for(browser, browser_app, scheme, f"impatient-{scheme}-{size['width']}")
    try:
        page = await context.new_page()
        await page.set_viewport_size(size)
        await page.goto(f"{browser_app.url}/")
        fake_ollama.then(Script(tokens=[f"word{i} " for i in range(40)], delay=0.25))
        await ask(page, "a slow one")
        await expect(page.get_by_role("button", name="Stop")).to_be_visible()
        await ask(page, "and another")
        notice = page.locator(".q-notification").filter(has_text=re.compile(re.escape(BUSY)))
        await expect(notice).to_be_visible()
        footer = page.locator(".chatui-footer")

        async def clearance() -> float:  # from the notice's bottom to the message box's top (it slides in)
            notice_box, footer_box = await notice.bounding_box(), await footer.bounding_box()
            assert notice_box and footer_box
            return footer_box["y"] - (notice_box["y"] + notice_box["height"])

        await until(lambda: clearance_is_kept(clearance), what="the notice above the message box")
        await assert_accessible(page, f"still-writing notice, {scheme}, {size['width']} px")
        await page.get_by_role("button", name="Stop").click()
    finally:
        await context.close()


def formula(i: int) -> str:
    """Message `i` of a long chat: a formula in each, a diagram in every tenth reply."""
    text = f"Message {i}: $x_{{{i}}} = \\frac{{{i}}}{{2}}$."
    return text + ("\n\n```mermaid\ngraph LR\n  A --> B\n```\n" if i % 20 == 1 else "")


async def test_math_and_diagrams_come_back_when_a_long_chat_rebuilds_them(
    browser: Browser, browser_app: LiveApp
) -> None:
    context = await context_for(browser, browser_app, "light", "long-math")
    try:
        page = await context.new_page()
        user_id = str((await (await page.request.get(f"{browser_app.url}/api/auth/me")).json())["id"])
        conversation_id, ids = into_sqlite(
            browser_app.data_dir / "database.db", lambda c: seed_conversation(c, user_id, 400, text=formula)
        )
        await page.goto(f"{browser_app.url}/chat/{conversation_id}?message={ids[101]}")
        await expect(page.locator(".chatui-target")).to_contain_text("Message 101:")
        shown = "[...document.querySelectorAll('.chatui-entry')].some(e => e.textContent.includes('Message 101:'))"
        # down until the window drops message 101, then back up until it builds it again
        await page.wait_for_function(
            f"() => {{ scrollTo(0, document.scrollingElement.scrollHeight); return !{shown}; }}"
        )
        await page.wait_for_function(f"() => {{ scrollTo(0, 0); return {shown}; }}")
        again = page.locator(".chatui-entry").filter(has_text="Message 101:")
        await expect(again.locator(".katex")).to_have_count(1)
        assert await again.locator("annotation").text_content() == "x_{101} = \\frac{101}{2}"
        await expect(again.locator("img.chatui-diagram")).to_be_visible()
        untypeset = page.locator(".chatui-math:not([data-typeset]), .chatui-mermaid:not([data-drawn])")
        await expect(untypeset).to_have_count(0)
    finally:
        await context.close()
