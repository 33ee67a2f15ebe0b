"""The README's screenshots of presets, the prompt library and feedback, made in headless Chromium against a real
server and the fake provider.

    python -m bench.screenshots_presets [--out docs/screenshots]

Signs up (the first account: an administrator, who publishes one preset), saves three presets and four prompts
through the API, then photographs: the preset menu beside New chat; a new chat started from a preset with the `/`
list open above the message box; an answered reply rated thumbs down; and the settings page's Presets and Prompt
library. Each at 1280×800 light and dark, some at 390×844 (a phone). Debian's Chromium, never a downloaded browser.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page

from bench.screenshots import DESKTOP, PHONE, chat_in_chromium, sign_up

QUESTION = "Explain what a Python context manager is, in two sentences."
REPLY = (
    "A context manager is an object that sets something up when a `with` block starts and tidies it up when the "
    "block ends, even if an exception escapes it.\n\nFiles are the usual example: `with open(path) as f:` closes "
    "the file for you, however the block is left."
)
PRESETS: list[dict[str, Any]] = [
    {"name": "Company voice", "system_prompt": "Answer in our house style: short and friendly.", "shared": True},
    {"name": "French tutor", "system_prompt": "Answer in simple French, then give the English.", "temperature": 0.4},
    {"name": "Code reviewer", "system_prompt": "Review code for bugs first, style last.", "temperature": 0.2},
]
PROMPTS = [
    ("summarize", "Summary in three bullets", "Summarize the text below in three bullet points:\n\n"),
    ("translate", "Translate", "Translate into {{language}}, keeping the tone:\n\n{{text}}"),
    ("bug-report", "Bug report", "Write a bug report for {{component}}: steps, expected, actual."),
    ("standup", "Stand-up notes", "Turn these notes into yesterday / today / blockers:\n\n"),
]
Scene = Callable[[Page, str], Awaitable[None]]


async def prepare(page: Page, base: str) -> dict[str, str]:
    api = page.request
    ids = {}
    for preset in PRESETS:
        made = await (await api.post(f"{base}/api/presets", data=preset)).json()
        ids[preset["name"]] = made["id"]
    for name, title, text in PROMPTS:
        await api.post(f"{base}/api/prompts", data={"name": name, "title": title, "text": text})
    return ids


async def open_drawer_on_a_phone(page: Page) -> None:
    if (page.viewport_size or DESKTOP)["width"] < 600:
        await page.get_by_role("button", name="Conversations").click()
        await page.wait_for_timeout(400)


async def preset_menu(page: Page, base: str) -> None:
    await page.goto(f"{base}/")
    await open_drawer_on_a_phone(page)
    await page.get_by_role("button", name="Start from a preset").click()
    await page.get_by_text("Manage presets…").wait_for()
    await page.wait_for_timeout(300)


def slash_list(preset_id: str) -> Scene:
    async def scene(page: Page, base: str) -> None:
        await page.goto(f"{base}/?preset={preset_id}")
        await page.locator(".chatui-preset-chip").wait_for()
        await page.get_by_label("Message").press_sequentially("/")
        await page.get_by_role("listbox", name="Saved prompts").get_by_role("option").nth(3).wait_for()
        await page.wait_for_timeout(300)

    return scene


def rated(conversation_id: str) -> Scene:
    async def scene(page: Page, base: str) -> None:
        await page.goto(f"{base}/chat/{conversation_id}")
        await page.locator("[aria-pressed=true]").wait_for()
        await page.wait_for_timeout(300)

    return scene


async def settings(page: Page, base: str) -> None:
    await page.goto(f"{base}/settings#presets")
    await page.get_by_text("/translate").wait_for()
    await page.locator("#presets").scroll_into_view_if_needed()
    await page.wait_for_timeout(300)


async def answer_and_rate(page: Page, base: str) -> str:
    """Ask through the page, wait for the reply, rate it thumbs down with a comment through the page."""
    await page.goto(f"{base}/")
    await page.get_by_label("Message").fill(QUESTION)
    await page.get_by_label("Message").press("Enter")
    await page.get_by_role("button", name="Bad reply").wait_for(timeout=30_000)
    await page.get_by_role("button", name="Bad reply").click()
    await page.get_by_label("Comment (optional)").fill("Give an example with a lock, not only files.")
    await page.get_by_role("button", name="Send feedback").click()
    await page.locator("[aria-pressed=true]").wait_for()
    conversations = await (await page.request.get(f"{base}/api/conversations")).json()
    return str(conversations[0]["id"])


async def shoot(browser: Browser, base: str, out: Path) -> list[Path]:
    first = await browser.new_context(viewport=DESKTOP, color_scheme="light")  # type: ignore[arg-type]
    page = await first.new_page()
    await sign_up(page, base)
    ids = await prepare(page, base)
    conversation_id = await answer_and_rate(page, base)
    state = await first.storage_state()
    await first.close()
    scenes: list[tuple[str, Scene, list[tuple[str, dict[str, int]]]]] = [
        ("presets-menu", preset_menu, [("light", DESKTOP), ("dark", DESKTOP), ("light", PHONE)]),
        ("prompts-slash", slash_list(ids["French tutor"]), [("light", DESKTOP), ("dark", DESKTOP), ("dark", PHONE)]),
        ("feedback", rated(conversation_id), [("light", DESKTOP), ("dark", DESKTOP), ("dark", PHONE)]),
        ("presets-settings", settings, [("light", DESKTOP), ("dark", DESKTOP), ("light", PHONE)]),
    ]
    shots = []
    for name, scene, views in scenes:
        for scheme, viewport in views:
            phone = viewport["width"] < 600
            context = await browser.new_context(
                viewport=viewport,  # type: ignore[arg-type]
                color_scheme=scheme,  # type: ignore[arg-type]
                storage_state=state,
                is_mobile=phone,
                has_touch=phone,
                device_scale_factor=2 if phone else 1,
            )
            page = await context.new_page()
            await scene(page, base)
            path = out / f"{name}-{'phone-' if phone else ''}{scheme}.png"
            await page.screenshot(path=path)
            await context.close()
            shots.append(path)
    return shots


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    async with chat_in_chromium(REPLY, delay=0.002) as (browser, base):
        for path in await shoot(browser, base, args.out):
            print(path)


if __name__ == "__main__":
    asyncio.run(main())
