"""Headless Debian Chromium driven by Playwright (never a downloaded browser), against a live server."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser, Page, async_playwright

from testing.chromium import CHROMIUM, CHROMIUM_FLAGS
from testing.fakes.server import ScriptedProvider, ThreadedServer
from testing.live import LiveApp, module_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser_app(
    tmp_path_factory: pytest.TempPathFactory, ollama_server: tuple[ScriptedProvider, ThreadedServer]
) -> Iterator[LiveApp]:
    yield from module_app(tmp_path_factory, ollama_server[1].url, "browser")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        await browser.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context()
    page = await context.new_page()
    yield page
    await context.close()


async def create_account_and_sign_in(page: Page, app: LiveApp, username: str, password: str = "correct horse") -> None:
    await page.goto(f"{app.url}/login")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Create account").click()
    await page.get_by_role("button", name="New chat").wait_for()
