"""The README's screenshots of attachments, made in headless Chromium against a real server and a fake Ollama that
sees images.

    python -m bench.screenshots_attachments [--out docs/screenshots]

Signs up, attaches a chart (PNG) and a report (PDF) with the paperclip, photographs their chips above the message
box, sends them with a question and photographs the answered chat at 1280×800 in the light and the dark theme and at
390×844 (a phone). Debian's Chromium, never a downloaded browser.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import re
import tempfile
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright

from bench._servers import ChatServer
from bench.screenshots import CHROMIUM, DESKTOP, FLAGS, PHONE, photographed, sign_up
from testing.attachments import pdf
from testing.fakes.ollama import FakeOllama, ollama_app
from testing.fakes.server import Script, ThreadedServer

MODEL = "llama3.2:3b"
QUESTION = "Which month had the most sign-ups, and does the report explain why?"
REPLY = """**June** had the most sign-ups: its bar is about twice as tall as May's.

The report gives the reason on page 2: the June release added *sign in with a passkey*, and the share of visitors
who finished signing up rose from 31 % to 58 % that month."""


def chart() -> bytes:
    """A bar chart of six months, drawn with Pillow: something a person would really ask about."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 400), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.text((24, 16), "Sign-ups per month", fill=(30, 30, 30))
    values = list(zip(("Jan", "Feb", "Mar", "Apr", "May", "Jun"), (90, 120, 110, 150, 160, 310), strict=True))
    for i, (name, value) in enumerate(values):
        left = 60 + i * 95
        draw.rectangle((left, 360 - value, left + 60, 360), fill=(11, 87, 208) if name != "Jun" else (214, 80, 50))
        draw.text((left + 18, 368), name, fill=(60, 60, 60))
    draw.line((40, 360, 620, 360), fill=(120, 120, 120), width=2)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def attach_and_ask(page: Page, out: Path) -> Path:
    await page.locator("[data-testid=attach-input]").set_input_files(
        [
            {"name": "signups-2024.png", "mimeType": "image/png", "buffer": chart()},
            {"name": "q2-report.pdf", "mimeType": "application/pdf", "buffer": pdf(pages=3, text="Page {n}.")},
        ]
    )
    await page.locator(".chatui-upload-done").nth(1).wait_for()
    await page.get_by_label("Message").fill(QUESTION)
    chips = out / "attach-chips-light.png"
    await page.screenshot(path=chips)
    await page.get_by_label("Message").press("Enter")
    return chips


async def answered(page: Page) -> None:
    await page.locator(".assistant-bubble").get_by_text("58 %").wait_for(timeout=30_000)
    await page.wait_for_function(
        "() => [...document.querySelectorAll('.chatui-thumb img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    await page.wait_for_timeout(300)


async def shoot(browser: Browser, base: str, out: Path) -> list[Path]:
    page = await (await browser.new_context(viewport=DESKTOP, color_scheme="light")).new_page()  # type: ignore[arg-type]
    await sign_up(page, base)
    shots = [await attach_and_ask(page, out)]
    views = [
        (out / "attachments-dark.png", "dark", DESKTOP),
        (out / "attachments-phone-light.png", "light", PHONE),
        (out / "attachments-phone-dark.png", "dark", PHONE),
    ]
    return shots + await photographed(browser, page, out / "attachments-light.png", views, answered)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    ollama = FakeOllama()
    ollama.models, ollama.vision_models = [MODEL], {MODEL}
    ollama.then(Script(tokens=re.findall(r"\s*\S+|\s+", REPLY), delay=0.002))
    provider = ThreadedServer(ollama_app(ollama)).start()
    with tempfile.TemporaryDirectory(prefix="chatui-attachments-") as folder:
        server = ChatServer(Path(folder), provider.url).start()
        try:
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
