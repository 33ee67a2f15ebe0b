"""The README's screenshots, made in headless Chromium against a real server and the fake provider.

    python -m bench.screenshots [--out docs/screenshots]

Starts chatui and the fake Ollama on free loopback ports, signs up, asks one question whose scripted reply has a
heading, a list, a code block and a table, and photographs the chat at 1280×800 in the light and the dark theme and
at 390×844 (a phone), plus the sign-in page. Debian's Chromium, never a downloaded browser.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, async_playwright

from bench._servers import ChatServer, FakeProvider

CHROMIUM = "/usr/bin/chromium"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

QUESTION = "How do I read a CSV file in Python and sum one column?"
REPLY = """Use the standard library's `csv` module: `DictReader` gives one dictionary per row, keyed by the header.

```python
import csv

def column_total(path: str, column: str) -> float:
    with open(path, newline="") as f:
        return sum(float(row[column]) for row in csv.DictReader(f))

print(column_total("sales.csv", "amount"))
```

For larger files, **pandas** is faster and handles types for you:

| approach | memory | speed | extra install |
|---|---|---|---|
| `csv.DictReader` | one row at a time | fine up to ~1 GB | no |
| `pandas.read_csv` | whole file | fast (C parser) | yes |

See the [csv documentation](https://docs.python.org/3/library/csv.html) for dialects and quoting.
"""


def tokens(text: str) -> list[str]:
    return re.findall(r"\s*\S+|\s+", text)


async def sign_up(page: Page, base: str) -> None:
    await page.goto(f"{base}/login")
    await page.get_by_label("Username").fill("ada")
    await page.get_by_label("Password").fill("correct horse battery")
    await page.get_by_role("button", name="Create account").click()
    await page.get_by_role("button", name="New chat").wait_for()


async def shoot_again(
    browser: Browser,
    state: Any,
    url: str,
    views: Sequence[tuple[Path, str, dict[str, int]]],
    ready: Callable[[Page], Awaitable[None]],
) -> list[Path]:
    """The page at `url` photographed again signed in (`state`) for each (path, colour scheme, viewport) once `ready`:
    a phone (touch, 2× pixels) below 600 px wide."""
    for path, scheme, viewport in views:
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
        await page.goto(url)
        await ready(page)
        await page.screenshot(path=path)
        await context.close()
    return [path for path, _, _ in views]


async def answered(page: Page) -> None:
    await page.locator(".assistant-bubble").get_by_text("dialects and quoting").wait_for(timeout=30_000)
    await page.wait_for_timeout(500)


async def shoot(browser: Browser, base: str, out: Path) -> list[Path]:
    shots: list[Path] = []
    context = await browser.new_context(viewport=DESKTOP, color_scheme="light")
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.wait_for_load_state("networkidle")
    shots.append(out / "sign-in.png")
    await page.screenshot(path=shots[-1])
    await sign_up(page, base)
    message = page.get_by_label("Message")
    await message.fill(QUESTION)
    await message.press("Enter")
    views = [(out / "chat-dark.png", "dark", DESKTOP), (out / "phone-light.png", "light", PHONE)]
    views.append((out / "phone-dark.png", "dark", PHONE))
    return shots + await photographed(browser, page, out / "chat-light.png", views, answered)


async def photographed(
    browser: Browser,
    page: Page,
    first: Path,
    views: Sequence[tuple[Path, str, dict[str, int]]],
    ready: Callable[[Page], Awaitable[None]],
) -> list[Path]:
    """The chat on `page` photographed to `first` once `ready`, then again in each view (its context is closed)."""
    await ready(page)
    await page.screenshot(path=first)
    state = await page.context.storage_state()
    await page.context.close()
    return [first, *await shoot_again(browser, state, page.url, views, ready)]


@asynccontextmanager
async def chat_in_chromium(reply: str, delay: float) -> AsyncIterator[tuple[Browser, str]]:
    """chatui and the fake Ollama (answering `reply`, a token every `delay` s) on free loopback ports, and Debian's
    Chromium: (the browser, chatui's address)."""
    with tempfile.TemporaryDirectory(prefix="chatui-browser-") as folder:
        provider = FakeProvider(Path(folder)).start()
        server = ChatServer(Path(folder), provider.url).start()
        try:
            provider.script(tokens(reply), delay=delay)
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                try:
                    yield browser, server.url
                finally:
                    await browser.close()
        finally:
            server.stop()
            provider.stop()


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
