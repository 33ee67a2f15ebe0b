"""Tool steps between two instances (issue 24): a tool loop written on A is replayed, then live, on B with its calls
and results where A had them, a call waiting for approval on A is allowed from B, and a page on B shows how long a
call run on A took, as A's page does."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from playwright.async_api import async_playwright, expect

from testing.chromium import CHROMIUM, CHROMIUM_FLAGS
from testing.fakes.mcp_server import stdio_config
from testing.fakes.ollama import FakeOllama
from testing.fakes.server import Script, ScriptedCall, ScriptedProvider, ThreadedServer
from testing.live import LiveApp
from testing.waiting import until
from tests.api.conftest import Account
from tests.cluster.conftest import two_instances
from tests.cluster.frames import frames_until


@pytest.fixture(scope="module")
def tool_pair(
    tmp_path_factory: pytest.TempPathFactory, ollama_server: tuple[ScriptedProvider, ThreadedServer]
) -> Iterator[tuple[LiveApp, LiveApp]]:
    """Instances A and B, each with a real MCP server over stdio whose tools ask first."""
    servers = json.dumps([stdio_config("local", approval="always")])
    with two_instances(tmp_path_factory, ollama_server[1].url, CHATUI_MCP_SERVERS=servers) as instances:
        yield instances


@pytest.fixture
async def bob(tool_pair: tuple[LiveApp, LiveApp]) -> AsyncIterator[Account]:
    a, _ = tool_pair
    Account.counter += 1
    async with httpx.AsyncClient(base_url=a.url, timeout=10) as client:
        yield await Account.sign_up(client, f"toolcluster{Account.counter}")


async def chat_with(account: Account, tools: list[str]) -> str:
    conversation_id: str = await account.new_conversation()
    patched = await account.client.patch(f"/api/conversations/{conversation_id}", json={"tools": tools})
    assert patched.status_code == 200, patched.text
    return conversation_id


async def local_up(app: LiveApp, account: Account) -> bool:
    async with httpx.AsyncClient(base_url=app.url, cookies={"chatui_session": account.cookie}) as client:
        listed = (await client.get("/api/tools")).json()["servers"]
    return any(s["name"] == "local" and s["available"] for s in listed)


async def chat_on_a(
    a: LiveApp, account: Account, fake: FakeOllama, call: tuple[str, dict[str, Any]], answer: str
) -> str:
    """A chat with one tool of the MCP server (once A has it connected), whose next reply calls it, then answers."""
    await until(lambda: local_up(a, account), within=20, what="the MCP server connected on A")
    tool, arguments = call
    fake.then(Script(tokens=[], tool_calls=[ScriptedCall(f"local__{tool}", arguments)]), Script(tokens=[answer]))
    return await chat_with(account, [f"local:{tool}"])


def kinds(frames: list[dict[str, Any]]) -> list[str]:
    return [f["type"] for f in frames]


async def test_a_tool_loop_written_on_a_is_replayed_on_b_in_order(
    tool_pair: tuple[LiveApp, LiveApp], bob: Account, fake_ollama: FakeOllama
) -> None:
    a, b = tool_pair
    conversation = await chat_with(bob, ["chatui:*"])
    fake_ollama.then(
        Script(tokens=["Checking."], tool_calls=[ScriptedCall("chatui__current_time", {"timezone": "UTC"})]),
        Script(tokens=[], tool_calls=[ScriptedCall("chatui__current_time", {"timezone": "Asia/Tokyo"})]),
        Script(tokens=["Both ", "known."], delay=0.3),
    )
    async with bob.socket(a, conversation) as on_a:
        await on_a.send(json.dumps({"type": "message", "content": "times?"}))
        seen = await frames_until(on_a, "tool_result")
        async with bob.socket(b, conversation) as on_b:  # a reload that lands on the other instance
            on_b_frames = await frames_until(on_b, "done")
        seen += await frames_until(on_a, "done")
    expected = ["token", "tool_call", "tool_result", "tool_call", "tool_result", "token", "token", "token", "done"]
    assert kinds(seen) == expected
    assert kinds(on_b_frames) == expected
    for mine, theirs in zip(seen[1:5], on_b_frames[1:5], strict=True):
        assert mine == theirs  # the same calls and results, with the same ids
    assert on_b_frames[5]["token"] == "\n\n"  # the text after the steps, where A had it


async def test_a_call_waiting_on_a_is_allowed_from_b(
    tool_pair: tuple[LiveApp, LiveApp], bob: Account, fake_ollama: FakeOllama
) -> None:
    a, b = tool_pair
    conversation = await chat_on_a(a, bob, fake_ollama, ("add", {"a": 20, "b": 22}), "42.")
    async with bob.socket(a, conversation) as on_a:
        await on_a.send(json.dumps({"type": "message", "content": "add"}))
        asked_on_a = await frames_until(on_a, "tool_approval")
        async with bob.socket(b, conversation) as on_b:
            asked = await frames_until(on_b, "tool_approval")  # replayed on B: the call waits
            call_id = asked[-1]["call_id"]
            assert call_id == asked_on_a[-1]["call_id"]
            await on_b.send(json.dumps({"type": "approve", "call_id": "not-a-call", "allow": True}))
            assert (await frames_until(on_b, "error"))[-1]["code"] == "not_waiting"
            await on_b.send(json.dumps({"type": "approve", "call_id": call_id, "allow": True}))
            on_b_rest = await frames_until(on_b, "done")
        rest = await frames_until(on_a, "done")
    assert kinds(rest) == ["tool_result", "token", "done"]
    assert rest[0]["content"] == "42" and not rest[0]["is_error"]  # allowed from B, run on A
    assert kinds(on_b_rest)[-3:] == ["tool_result", "token", "done"]
    assert fake_ollama.requests[-1]["messages"][-1]["content"] == "42"


async def test_a_page_on_b_shows_how_long_a_call_run_on_a_took(
    tool_pair: tuple[LiveApp, LiveApp], bob: Account, fake_ollama: FakeOllama
) -> None:
    a, b = tool_pair
    conversation = await chat_on_a(a, bob, fake_ollama, ("sleep", {"seconds": 0.6}), "Rested.")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        context = await browser.new_context()
        await context.add_cookies([{"name": "chatui_session", "value": bob.cookie, "url": b.url}])
        page = await context.new_page()
        state = page.locator(".chatui-tool-state")
        async with bob.socket(a, conversation) as on_a:
            await on_a.send(json.dumps({"type": "message", "content": "rest a while"}))
            call_id = (await frames_until(on_a, "tool_approval"))[-1]["call_id"]
            await page.goto(f"{b.url}/chat/{conversation}")  # B mirrors the reply A writes
            await expect(state).to_have_text("Waiting for your approval", timeout=20_000)
            await on_a.send(json.dumps({"type": "approve", "call_id": call_id, "allow": True}))
            await frames_until(on_a, "done")
        await expect(page.get_by_text("Rested.")).to_be_visible()
        on_b = await state.text_content()

        await page.goto(f"{a.url}/chat/{conversation}")  # A's page: the reply as stored where it ran
        await expect(page.get_by_text("Rested.")).to_be_visible()
        on_a_page = await state.text_content()
        await browser.close()
    assert on_b == on_a_page
    assert on_b is not None and on_b.endswith(" s") and 0.6 <= float(on_b.removesuffix(" s")) < 10, on_b
