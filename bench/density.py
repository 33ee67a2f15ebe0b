"""How many exchanges a screen holds: a chat of short questions and three-line replies at 1280×800 (issue 29).

    python -m bench.density [--exchanges 8]

Starts chatui and the fake Ollama on free loopback ports, signs up, asks `--exchanges` questions, opens the chat
again (it opens at its end) and counts the exchanges, question and reply, wholly between the header and the message
box, and the pixels one exchange takes. Debian's Chromium, headless, the light theme.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from playwright.async_api import Page

from bench.screenshots import chat_in_chromium, sign_up

REPLY = (
    "A list keeps its items in order and can change; a tuple cannot change once made, so it can be a dictionary "
    "key. Use a list for things you add to and a tuple for a fixed record, like a point's coordinates."
)
COUNT = """() => {
  const top = document.querySelector(".chatui-header").getBoundingClientRect().bottom;
  const bottom = document.querySelector(".chatui-footer").getBoundingClientRect().top;
  const entries = [...document.querySelectorAll(".chatui-entry")];
  const inside = (e) => { const r = e.getBoundingClientRect(); return r.top >= top - 1 && r.bottom <= bottom + 1; };
  let whole = 0;
  for (let i = 0; i + 1 < entries.length; i += 2) if (inside(entries[i]) && inside(entries[i + 1])) whole += 1;
  const bottomOf = (i) => entries[i].getBoundingClientRect().bottom;
  const pair = entries.length >= 4 ? bottomOf(3) - bottomOf(1) : 0;
  return {whole, pixels_per_exchange: Math.round(pair), view: Math.round(bottom - top)};
}"""


async def measure(page: Page, base: str, exchanges: int) -> dict[str, int]:
    await sign_up(page, base)
    message = page.get_by_label("Message")
    for i in range(exchanges):
        await message.fill(f"Question {i + 1}: what is the difference between a list and a tuple?")
        await message.press("Enter")
        await page.locator(".assistant-bubble").nth(i).get_by_text("coordinates").wait_for(timeout=30_000)
        await page.get_by_role("button", name="Send").wait_for()
    await page.goto(page.url)
    await page.locator(".assistant-bubble").last.get_by_text("coordinates").wait_for(timeout=30_000)
    await page.wait_for_timeout(500)
    return dict(await page.evaluate(COUNT))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exchanges", type=int, default=8)
    parser.add_argument("--screenshot", type=Path, help="also save what the screen shows")
    args = parser.parse_args()
    async with chat_in_chromium(REPLY, delay=0.001) as (browser, base):
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        print(await measure(page, base, args.exchanges))
        if args.screenshot:
            await page.screenshot(path=args.screenshot)


if __name__ == "__main__":
    asyncio.run(main())
