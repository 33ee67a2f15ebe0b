"""The installable web app: manifest, icons and service worker as served, and as headless Chromium judges them.

Lighthouse is not installed here; its installability checks are the browser's own, which Chromium reports through
the DevTools protocol (`Page.getAppManifest`, `Page.getInstallabilityErrors`). A persistent profile is used because
Chromium reports every incognito context (Playwright's default) as not installable.
"""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.async_api import BrowserContext, async_playwright, expect

from testing.chromium import CHROMIUM, CHROMIUM_FLAGS
from testing.fakes.server import Script
from testing.live import LiveApp
from tests.browser.conftest import create_account_and_sign_in

CACHE_CONTENTS = """async () => {
  const urls = [];
  for (const name of await caches.keys()) {
    for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
  }
  return urls;
}"""


@pytest.fixture
async def profile(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            tmp_path / "profile", executable_path=CHROMIUM, args=CHROMIUM_FLAGS
        )
        yield context
        await context.close()


def test_manifest_worker_and_icons_are_served_with_their_types(browser_app: LiveApp) -> None:
    manifest = httpx.get(f"{browser_app.url}/manifest.webmanifest")
    assert manifest.headers["content-type"] == "application/manifest+json"
    body = manifest.json()
    assert (body["name"], body["display"], body["start_url"]) == ("chatui", "standalone", "/")
    sizes = {(icon["sizes"], icon["purpose"]) for icon in body["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in body["icons"]:
        image = httpx.get(f"{browser_app.url}{icon['src']}")
        assert image.headers["content-type"] == "image/png"
        width, height = Image.open(io.BytesIO(image.content)).size
        assert f"{width}x{height}" == icon["sizes"]
    worker = httpx.get(f"{browser_app.url}/sw.js")
    assert worker.headers["content-type"].startswith("text/javascript")
    # Its own policy lets it fetch from its origin (the non-HTML default, 'none', would block every fetch).
    assert worker.headers["content-security-policy"].startswith("default-src 'self'")
    assert worker.headers["cache-control"] == "no-cache"


async def test_chromium_finds_the_app_installable_and_the_worker_never_caches_the_api(
    profile: BrowserContext, browser_app: LiveApp, fake_ollama
) -> None:
    fake_ollama.then(Script(tokens=["Not", " cached."]))
    page = await profile.new_page()
    await create_account_and_sign_in(page, browser_app, "pwa-user")
    link = await page.locator('link[rel="manifest"]').get_attribute("href")
    assert link == "/manifest.webmanifest"
    scope = await page.evaluate("navigator.serviceWorker.ready.then((registration) => registration.scope)")
    assert scope == f"{browser_app.url}/"
    cdp = await profile.new_cdp_session(page)
    app_manifest = await cdp.send("Page.getAppManifest")
    assert app_manifest["errors"] == [] and json.loads(app_manifest["data"])["name"] == "chatui"
    assert (await cdp.send("Page.getInstallabilityErrors"))["installabilityErrors"] == []

    # A chat, the API as pages and as fetches from a controlled page: none of it may reach the cache.
    await page.get_by_label("Message").fill("Is this cached?")
    await page.keyboard.press("Enter")
    await expect(page.locator(".assistant-bubble")).to_contain_text("Not cached.")
    await page.reload()  # the conversation's own page, /chat/{id}, now under the worker
    assert await page.evaluate("navigator.serviceWorker.controller !== null")
    await page.evaluate("Promise.all(['/api/health', '/api/models', '/api/conversations'].map((u) => fetch(u)))")
    for path in ("/api/health", "/api/conversations", "/docs"):
        await page.goto(f"{browser_app.url}{path}")
    await page.goto(f"{browser_app.url}/")
    await page.get_by_role("button", name="New chat").wait_for()
    cached = await page.evaluate(CACHE_CONTENTS)
    assert "/chatui-static/chatui.css" in cached and "/chatui-static/icons/chatui-512.png" in cached
    assert any(path.startswith("/_nicegui/") for path in cached)  # NiceGUI's versioned files, once used
    assert all(path.startswith(("/chatui-static/", "/_nicegui/")) for path in cached), cached
