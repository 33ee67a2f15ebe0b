"""The first minute in a browser, light and dark, 1280 and 390 px: the sign-in page under approval, the pending
message, the administration page with a sign-up waiting, and the quiet note of a new chat on a stand-in model —
each in view and clean under axe."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.async_api import Browser, expect

from testing.fakes.server import ScriptedProvider, ThreadedServer
from testing.live import LiveApp, module_app
from tests.browser.test_ui import DESKTOP, PHONE, assert_accessible

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def approving_app(
    tmp_path_factory: pytest.TempPathFactory, ollama_server: tuple[ScriptedProvider, ThreadedServer]
) -> Iterator[LiveApp]:
    """Sign-up by approval (the default) and a configured default model the fake Ollama does not have."""
    for app in module_app(
        tmp_path_factory, ollama_server[1].url, "first-minute", CHATUI_SIGNUP="approval", DEFAULT_MODEL="mistral:7b"
    ):
        owner = {"username": "owner", "password": "correct horse"}
        assert httpx.post(f"{app.url}/api/auth/register", json=owner).json()["approved"]  # the first: administrator
        yield app


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_the_first_minute_reads_well_and_passes_axe(
    scheme: str, browser: Browser, approving_app: LiveApp, fake_ollama: ScriptedProvider
) -> None:
    base = approving_app.url
    admin_context = await browser.new_context(viewport=DESKTOP, color_scheme=scheme)  # type: ignore[arg-type]
    try:
        page = await admin_context.new_page()
        await page.goto(f"{base}/login")
        await page.get_by_label("Username").fill("owner")
        await page.get_by_label("Password").fill("correct horse")
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_role("button", name="New chat").wait_for()
        note = page.get_by_role("status").filter(has_text="New chats start on ollama:llama3.2:3b")
        await expect(note).to_contain_text("Fix: ollama pull mistral:7b")
        await expect(note).to_be_in_viewport()
        await assert_accessible(page, "new chat with the fallback note")

        for size in (DESKTOP, PHONE):
            visitor = await browser.new_context(viewport=size, color_scheme=scheme)  # type: ignore[arg-type]
            try:
                form = await visitor.new_page()
                await form.goto(f"{base}/login")
                await expect(form.get_by_text("New accounts wait for an administrator's approval.")).to_be_visible()
                await form.get_by_label("Username").fill(f"visitor-{scheme}-{size['width']}")
                await form.get_by_label("Password").fill("correct horse")
                await form.get_by_role("button", name="Create account").click()
                pending = form.get_by_role("status").filter(has_text="An administrator has to approve it")
                await expect(pending).to_be_in_viewport()
                await assert_accessible(form, f"pending sign-up at {size['width']} px")
            finally:
                await visitor.close()

        for size in (DESKTOP, PHONE):
            await page.set_viewport_size(size)
            await page.goto(f"{base}/admin")
            row = page.locator(".q-item").filter(has_text=f"visitor-{scheme}-390").first
            await expect(row).to_contain_text("waiting for approval")
            await expect(row.get_by_role("button", name="Approve")).to_be_in_viewport()
            await assert_accessible(page, f"admin page at {size['width']} px")
    finally:
        await admin_context.close()
