"""A tool loop in a browser (issue 24), light and dark, 1280 and 390 px: the reply pauses on a card with Allow / Deny
for a tool that asks first (a real MCP server over stdio), Allow runs it, a second call's error shows as text (not
markup), then the answer; the Tools picker beside the message box; clean under axe at each step.

Each step is photographed into the test's own folder (`tmp_path`); the README's pictures are these
(`docs/screenshots/tools-*.png`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from testing.fakes.mcp_server import stdio_config
from testing.fakes.ollama import FakeOllama
from testing.fakes.server import Script, ScriptedCall, ScriptedProvider, ThreadedServer
from testing.live import LiveApp, module_app
from testing.waiting import until
from tests.browser.conftest import create_account_and_sign_in
from tests.browser.test_settings_continue import shot
from tests.browser.test_ui import DESKTOP, PHONE, assert_accessible, back_to_desktop

pytestmark = pytest.mark.browser

MARKUP = "<b>Mars</b>"


@pytest.fixture(scope="module")
def tools_app(
    tmp_path_factory: pytest.TempPathFactory, ollama_server: tuple[ScriptedProvider, ThreadedServer]
) -> Iterator[LiveApp]:
    servers = [stdio_config("calculator", approval="always")]
    yield from module_app(tmp_path_factory, ollama_server[1].url, "tools", CHATUI_MCP_SERVERS=json.dumps(servers))


async def both_sizes(page: Page, folder: Path, name: str, where: str) -> None:
    """Photograph the page at 1280 × 800 and 390 × 844 and check each with axe; back to the desktop size."""
    for size in (DESKTOP, PHONE):
        await page.set_viewport_size(size)
        await page.locator(".chatui-tool").last.scroll_into_view_if_needed()
        await shot(page, folder, f"{name}-{size['width']}")
        await assert_accessible(page, f"{where} at {size['width']} px")
    await back_to_desktop(page)


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_a_tool_loop_with_allow_reads_well_and_passes_axe(
    scheme: str, browser: Browser, tools_app: LiveApp, fake_ollama: FakeOllama, tmp_path: Path
) -> None:
    context = await browser.new_context(viewport=DESKTOP, color_scheme=scheme)  # type: ignore[arg-type]
    try:
        page = await context.new_page()
        await create_account_and_sign_in(page, tools_app, f"toolsmith-{scheme}")

        async def calculator_up() -> bool:
            listed = await (await page.request.get(f"{tools_app.url}/api/tools")).json()
            return any(s["name"] == "calculator" and s["available"] for s in listed["servers"])

        await until(calculator_up, within=20, what="the stdio MCP server connected")
        picker = page.get_by_role("button", name="Tools: off")  # the picker, beside the message box
        await picker.click()
        dialog = page.get_by_role("dialog")
        await dialog.get_by_text("calculator: all tools").click()
        await dialog.get_by_text("Built-in tools: all tools").click()
        listed = await (await page.request.get(f"{tools_app.url}/api/tools")).json()
        count = sum(len(server["tools"]) for server in listed["servers"])  # the built-ins and the calculator's
        await expect(page.get_by_role("button", name=f"Tools: {count} on")).to_be_attached()
        await expect(dialog.get_by_role("checkbox", name="add")).to_be_disabled()  # all of it: fixed on
        await both_sizes_dialog(page, tmp_path, f"tools-picker-{scheme}")
        await dialog.get_by_role("button", name="Done").click()
        await expect(dialog).to_be_hidden()

        fake_ollama.then(
            Script(tokens=["Let me add ", "that up."], tool_calls=[ScriptedCall("calculator__add", {"a": 2, "b": 3})]),
            Script(tokens=[], tool_calls=[ScriptedCall("chatui__current_time", {"timezone": MARKUP})]),
            Script(tokens=["2 + 3 is **5**. ", "I could not tell the time on Mars."], delay=0.02),
        )
        await page.get_by_label("Message").fill("What is 2 + 3, and the time on Mars?")
        await page.get_by_label("Message").press("Enter")
        allow = page.get_by_role("button", name="Allow")
        await expect(allow).to_be_visible(timeout=15_000)
        await expect(page.get_by_text("Waiting for your approval")).to_be_visible()
        await both_sizes(page, tmp_path, f"tools-approval-{scheme}", "a call waiting for Allow")
        await allow.click()
        await expect(page.get_by_text("I could not tell the time on Mars.")).to_be_visible(timeout=15_000)
        cards = page.locator(".chatui-tool")
        await expect(cards).to_have_count(2)
        await cards.first.get_by_text("Result").click()  # the result, folded, opens on a click
        await expect(cards.first.locator(".chatui-tool-pre").last).to_have_text("5")
        await expect(cards.last.get_by_text(f"Unknown time zone '{MARKUP}'.")).to_be_visible()  # text, not markup
        assert await cards.last.locator("b").count() == 0
        await both_sizes(page, tmp_path, f"tools-done-{scheme}", "a finished tool loop")
    finally:
        await context.close()


async def both_sizes_dialog(page: Page, folder: Path, name: str) -> None:
    for size in (DESKTOP, PHONE):
        await page.set_viewport_size(size)
        await shot(page, folder, f"{name}-{size['width']}")
        await assert_accessible(page, f"the tool picker at {size['width']} px")
    await back_to_desktop(page)
