"""The conversation tree as a person uses it in the browser: edit a sent message, regenerate the reply, flip between
versions, reload — and find the same versions and the same active path."""

from __future__ import annotations

from playwright.async_api import Page, expect

from testing.fakes.server import Script
from tests.browser.conftest import create_account_and_sign_in


async def test_edit_regenerate_and_flip_versions_survive_a_reload(page: Page, browser_app, fake_ollama) -> None:
    await create_account_and_sign_in(page, browser_app, "brancher")
    replies = page.locator(".assistant-bubble")
    questions = page.locator(".user-bubble")

    fake_ollama.then(Script(tokens=["First", " answer."]))
    message = page.get_by_label("Message")
    await message.fill("Tell me something")
    await message.press("Enter")
    await expect(replies.last).to_contain_text("First answer.")

    fake_ollama.then(Script(tokens=["Edited", " answer."]))
    await page.get_by_role("button", name="Edit").click()
    editor = page.get_by_label("Edit message")
    await editor.fill("Tell me something else")
    await page.get_by_role("button", name="Save & submit").click()
    await expect(replies.last).to_contain_text("Edited answer.")
    await expect(questions.last).to_contain_text("Tell me something else")
    await expect(page.get_by_text("First answer.")).to_have_count(0)  # the other branch is not on the path

    fake_ollama.then(Script(tokens=["Regenerated", " answer."]))
    await page.get_by_role("button", name="Regenerate", exact=True).click()
    await expect(replies.last).to_contain_text("Regenerated answer.")
    await expect(page.get_by_text("2 / 2")).to_have_count(2)  # the question's versions and the reply's

    await page.get_by_role("button", name="Previous version").last.click()  # the reply's switcher
    await expect(replies.last).to_contain_text("Edited answer.")
    await expect(page.get_by_text("Regenerated answer.")).to_have_count(0)

    await page.reload()
    await expect(replies.last).to_contain_text("Edited answer.")
    await expect(questions.last).to_contain_text("Tell me something else")
    await expect(page.get_by_text("Regenerated answer.")).to_have_count(0)
    await expect(page.get_by_text("1 / 2")).to_be_visible()  # the reply: first of its two versions
    await expect(page.get_by_text("2 / 2")).to_be_visible()  # the question: the edited one
    # the provider saw only the active path: the edited question, never the first one
    assert [m["content"] for m in fake_ollama.requests[-1]["messages"]] == ["Tell me something else"]
