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
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright

from bench._servers import ChatServer, FakeProvider

CHROMIUM = "/usr/bin/chromium"
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


async def shoot(browser: Browser, base: str, out: Path) -> list[Path]:
    shots: list[Path] = []
    context = await browser.new_context(viewport={"width": 1280, "height": 800}, color_scheme="light")
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.wait_for_load_state("networkidle")
    shots.append(out / "sign-in.png")
    await page.screenshot(path=shots[-1])
    await sign_up(page, base)
    message = page.get_by_label("Message")
    await message.fill(QUESTION)
    await message.press("Enter")
    await page.locator(".assistant-bubble").get_by_text("dialects and quoting").wait_for(timeout=30_000)
    await page.wait_for_timeout(500)
    chat_url = page.url
    shots.append(out / "chat-light.png")
    await page.screenshot(path=shots[-1])
    state = await context.storage_state()
    await context.close()

    for name, scheme, viewport in (
        ("chat-dark.png", "dark", {"width": 1280, "height": 800}),
        ("phone-light.png", "light", {"width": 390, "height": 844}),
        ("phone-dark.png", "dark", {"width": 390, "height": 844}),
    ):
        context = await browser.new_context(
            viewport=viewport,
            color_scheme=scheme,  # type: ignore[arg-type]
            storage_state=state,
            is_mobile=viewport["width"] < 600,
            has_touch=viewport["width"] < 600,
            device_scale_factor=2 if viewport["width"] < 600 else 1,
        )
        page = await context.new_page()
        await page.goto(chat_url)
        await page.locator(".assistant-bubble").get_by_text("dialects and quoting").wait_for(timeout=30_000)
        await page.wait_for_timeout(500)
        shots.append(out / name)
        await page.screenshot(path=shots[-1])
        await context.close()
    return shots


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chatui-shots-") as folder:
        workdir = Path(folder)
        provider = FakeProvider(workdir).start()
        server = ChatServer(workdir, provider.url).start()
        try:
            provider.script(tokens(REPLY), delay=0.002)
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                try:
                    for path in await shoot(browser, server.url, args.out):
                        print(path)
                finally:
                    await browser.close()
        finally:
            server.stop()
            provider.stop()


if __name__ == "__main__":
    asyncio.run(main())
