"""What only a browser shows: sign in, send with Enter, the reply streams into the assistant bubble."""

from __future__ import annotations

from playwright.async_api import Page, expect

from testing.fakes.server import Script
from tests.browser.conftest import create_account_and_sign_in


async def test_sign_in_send_and_see_the_reply(page: Page, browser_app, fake_ollama) -> None:
    fake_ollama.then(Script(tokens=["The", " answer", " is", " **8**", "."], delay=0.05))
    await create_account_and_sign_in(page, browser_app, "smoky")
    cookie = next(c for c in await page.context.cookies() if c["name"] == "chatui_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert await page.evaluate("document.cookie") == ""  # invisible to scripts

    message = page.get_by_label("Message")
    await message.fill("What is 5 plus 3? Give me a very brief answer.")
    await message.press("Enter")
    bubble = page.locator(".assistant-bubble")
    await expect(bubble).to_contain_text("The answer is 8.", timeout=10_000)
    await expect(bubble.locator("strong")).to_have_text("8")  # rendered as Markdown
    await expect(page.locator(".user-bubble")).to_contain_text("What is 5 plus 3?")

    await page.reload()
    await expect(page.locator(".assistant-bubble")).to_contain_text("The answer is 8.")
    await expect(page.get_by_text("What is 5 plus 3? Give me a very brief answer.").first).to_be_visible()
