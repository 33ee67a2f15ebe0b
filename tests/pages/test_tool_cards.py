"""Tool calls on the chat page (issue 24): a card per call inside the reply, live while it streams and the same after a
reload, its result as plain text, an error shown as one; Allow / Deny for a tool that asks first."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from nicegui import ui
from nicegui.testing import User

from testing.fakes.mcp_server import stdio_config
from testing.fakes.ollama import FakeOllama
from testing.fakes.server import Script, ScriptedCall
from testing.waiting import until
from tests.pages.test_chat_flow import register_and_sign_in, send

pytestmark = pytest.mark.usefixtures("app_env")


def texts(user: User, marker: str) -> list[str]:
    with user:
        return [str(element.text) for element in user.find(marker=marker).elements]


def reply_order(user: User) -> list[str]:
    """What the last reply's bubble shows, in order: `text:…` for a text block, `card:name` for a tool card."""
    with user:
        bubble = list(user.find(marker="assistant-message").elements)[-1]
        shown: list[str] = []
        for element in bubble.descendants():
            if "tool-card" in element._markers:
                name = next(e for e in element.descendants() if "tool-name" in e._markers)
                shown.append(f"card:{name.text}")
            elif isinstance(element, ui.html) and element.content.strip():
                shown.append(f"text:{element.content}")
        return shown


async def choose_tools(user: User, tools: list[str]) -> None:
    response = await user.http_client.patch("/api/settings", json={"default_tools": tools})
    assert response.status_code == 200, response.text


async def conversation_id(user: User) -> str:
    return str((await user.http_client.get("/api/conversations")).json()[0]["id"])


async def test_a_tool_loop_shows_a_card_between_the_texts_live_and_after_a_reload(
    user: User, fake_ollama: FakeOllama
) -> None:
    fake_ollama.then(
        Script(tokens=["Let me ", "look."], tool_calls=[ScriptedCall("chatui__current_time", {"timezone": "UTC"})]),
        Script(tokens=["It is ", "late."], delay=0.02),
    )
    await register_and_sign_in(user)
    await choose_tools(user, ["chatui:*"])
    await send(user, "What time is it?")
    await user.should_see(marker="tool-card", retries=50)
    await user.should_see("It is late.", retries=100)
    [card] = texts(user, "tool-name")
    assert card == "chatui:current_time"
    assert json.loads(texts(user, "tool-arguments")[0]) == {"timezone": "UTC"}
    await until(lambda: texts(user, "tool-output") != [], what="the result in the card")
    assert texts(user, "tool-output")[0].endswith("UTC (UTC+0000)")
    [state] = texts(user, "tool-state")
    assert state.endswith(" s"), state  # how long it took
    live = reply_order(user)
    assert [entry.split(":")[0] for entry in live] == ["text", "card", "text"]
    assert "Let me look." in live[0] and live[1] == "card:chatui:current_time" and "It is late." in live[2]

    await user.open(f"/chat/{await conversation_id(user)}")  # from the stored parts
    await user.should_see("It is late.", retries=50)
    assert reply_order(user) == live
    assert texts(user, "tool-output")[0].endswith("UTC (UTC+0000)")
    assert texts(user, "tool-state") == [state]


async def test_a_failed_call_shows_its_error_as_text_never_as_markup(user: User, fake_ollama: FakeOllama) -> None:
    zone = "<img src=x onerror=alert(1)>"
    fake_ollama.then(
        Script(tokens=[], tool_calls=[ScriptedCall("chatui__current_time", {"timezone": zone})]),
        Script(tokens=["No such zone."]),
    )
    await register_and_sign_in(user)
    await choose_tools(user, ["chatui:current_time"])
    await send(user, "Time in a bad zone?")
    await user.should_see("No such zone.", retries=100)
    [output] = texts(user, "tool-output")
    assert output == f"Unknown time zone {zone!r}."  # the text itself, in a label: the browser shows it as text
    assert texts(user, "tool-state")[0].startswith("Failed")
    with user:
        [result] = user.find(marker="tool-result").elements
        [card] = user.find(marker="tool-card").elements
    assert "open" in result.props and "chatui-tool-failed" in card.classes  # an error is shown opened, in red
    assert not any(isinstance(e, ui.html) and zone in e.content for e in card.descendants())


# -- approval ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def asks_first(app_env: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real MCP server over stdio whose tools wait for the user's Allow / Deny."""
    monkeypatch.setenv("CHATUI_MCP_SERVERS", json.dumps([stdio_config("local", approval="always")]))


@pytest.fixture
def local_tools(app_env: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real MCP server over stdio, called without asking."""
    monkeypatch.setenv("CHATUI_MCP_SERVERS", json.dumps([stdio_config("local")]))


async def local_is_up(user: User) -> None:
    async def up() -> bool:
        servers = (await user.http_client.get("/api/tools")).json()["servers"]
        return any(s["name"] == "local" and s["available"] for s in servers)

    await until(up, within=20, what="the stdio MCP server connected")


@pytest.mark.parametrize("allow", [True, False], ids=["allow", "deny"])
async def test_a_call_that_asks_first_waits_for_allow_or_deny(
    asks_first: None, user: User, fake_ollama: FakeOllama, allow: bool
) -> None:
    fake_ollama.then(
        Script(tokens=["Adding."], tool_calls=[ScriptedCall("local__add", {"a": 2, "b": 3})]),
        Script(tokens=["The sum is 5." if allow else "You said no."]),
    )
    await register_and_sign_in(user)
    await choose_tools(user, ["local:*"])
    await local_is_up(user)
    await send(user, "2 + 3?")
    await user.should_see(marker="tool-allow", retries=100)
    await user.should_see("Waiting for your approval")
    assert len(fake_ollama.requests) == 1  # the reply waits: the model is not asked again yet
    user.find(marker="tool-allow" if allow else "tool-deny").click()
    await user.should_see("The sum is 5." if allow else "You said no.", retries=100)
    await user.should_not_see(marker="tool-allow")
    [output] = texts(user, "tool-output")
    results = [m for m in fake_ollama.requests[-1]["messages"] if m["role"] == "tool"]
    if allow:
        assert output == "5" and results[0]["content"] == "5"
    else:
        assert texts(user, "tool-state") == ["Denied"] and "denied" in results[0]["content"]


async def test_a_long_result_is_cut_on_the_page(local_tools: None, user: User, fake_ollama: FakeOllama) -> None:
    fake_ollama.then(Script(tokens=[], tool_calls=[ScriptedCall("local__shout", {"times": 9000})]), Script(["Loud."]))
    await register_and_sign_in(user)
    await choose_tools(user, ["local:shout"])
    await local_is_up(user)
    await send(user, "Shout")
    await user.should_see("Loud.", retries=100)
    assert texts(user, "tool-output") == ["A" * 4000]
    await user.should_see("Showing 4,000 of 9,000 characters.")
    assert [m["content"] for m in fake_ollama.requests[-1]["messages"] if m["role"] == "tool"] == ["A" * 9000]


# -- the per-chat picker ----------------------------------------------------------------------------------------------


def ticked(user: User, marker: str) -> tuple[bool, bool]:
    """(value, enabled) of a checkbox of the tool picker."""
    with user:
        [box] = user.find(marker=marker).elements
    return bool(box.value), bool(box.enabled)  # type: ignore[attr-defined]


def tools_label(user: User) -> str:
    with user:
        [button] = user.find(marker="tools-button").elements
    return str(button.props.get("aria-label"))


@pytest.fixture
def one_down(app_env: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """A configured MCP server that is down (nothing listens on its port)."""
    from testing.fakes.server import ClosedPort

    dead = {"name": "files", "url": f"http://127.0.0.1:{ClosedPort()}/mcp"}
    monkeypatch.setenv("CHATUI_MCP_SERVERS", json.dumps([dead]))


async def test_the_picker_turns_tools_on_for_a_new_chat_then_saves_at_once(
    one_down: None, user: User, fake_ollama: FakeOllama
) -> None:
    fake_ollama.then(Script(tokens=["Hi."]), Script(tokens=["Again."]))
    await register_and_sign_in(user)
    await user.should_see(marker="tools-button")
    assert tools_label(user) == "Tools: off"
    user.find(marker="tools-button").click()
    await user.should_see(marker="tools-dialog")
    await user.should_see("Built-in tools: all tools")
    await user.should_see("Unavailable: the connection was refused.", retries=50)
    assert ticked(user, "tools-files") == (False, False)  # the server that is down: greyed, with why
    user.find(marker="tool-chatui:current_time").click()
    await until(lambda: tools_label(user) == "Tools: 1 on", what="the button counts the tool")
    assert fake_ollama.requests == []  # a new chat: nothing stored yet
    await send(user, "Hello")
    await user.should_see("Hi.", retries=50)
    offered = [t["function"]["name"] for t in fake_ollama.requests[-1]["tools"]]
    assert offered == ["chatui__current_time"]
    [conversation] = (await user.http_client.get("/api/conversations")).json()
    assert conversation["tools"] == ["chatui:current_time"]

    user.find(marker="tools-done").click()
    user.find(marker="tools-button").click()  # the open chat: each change is stored at once
    await user.should_see(marker="tools-dialog")
    user.find(marker="tools-chatui").click()  # the whole server
    await until(lambda: ticked(user, "tool-chatui:search_conversations") == (True, False), what="all ticked")

    async def stored() -> list[str]:
        return list((await user.http_client.get(f"/api/conversations/{conversation['id']}")).json()["tools"])

    assert await stored() == ["chatui:*"]
    user.find(marker="tools-chatui").click()  # all off again
    await until(lambda: tools_label(user) == "Tools: off", what="the button says off")
    assert await stored() == [] and ticked(user, "tool-chatui:current_time") == (False, True)


async def test_a_new_chat_starts_with_the_default_tools(user: User, fake_ollama: FakeOllama) -> None:
    await register_and_sign_in(user)
    await choose_tools(user, ["chatui:*"])
    await user.open("/")
    await until(lambda: tools_label(user) == "Tools: 3 on", what="the default shown")
    user.find(marker="tools-button").click()
    await user.should_see(marker="tools-dialog")
    assert ticked(user, "tools-chatui") == (True, True)
    assert ticked(user, "tool-chatui:current_time") == (True, False)


async def test_stop_during_a_call_shows_it_interrupted_live_and_after_a_reload(
    local_tools: None, user: User, fake_ollama: FakeOllama
) -> None:
    fake_ollama.then(Script(tokens=["Waiting."], tool_calls=[ScriptedCall("local__sleep", {"seconds": 30})]))
    await register_and_sign_in(user)
    await choose_tools(user, ["local:*"])
    await local_is_up(user)
    await send(user, "Sleep")
    await user.should_see(marker="tool-card", retries=100)
    await until(lambda: texts(user, "tool-state") == ["Running…"], what="the call running")
    user.find(marker="stop").click()
    await until(lambda: texts(user, "tool-state") == ["Interrupted"], what="the call marked interrupted")
    await user.should_see("Stopped", retries=50)
    await user.open(f"/chat/{await conversation_id(user)}")
    await user.should_see("Waiting.", retries=50)
    assert texts(user, "tool-state") == ["Interrupted"]
    assert texts(user, "tool-output") == ["The reply was stopped before this tool answered."]


async def test_a_reload_while_a_call_waits_shows_allow_again_and_it_still_answers(
    asks_first: None, user: User, fake_ollama: FakeOllama
) -> None:
    fake_ollama.then(
        Script(tokens=[], tool_calls=[ScriptedCall("local__echo", {"text": "hello"})]),
        Script(tokens=["It said hello."]),
    )
    await register_and_sign_in(user)
    await choose_tools(user, ["local:echo"])
    await local_is_up(user)
    await send(user, "Echo hello")
    await user.should_see(marker="tool-allow", retries=100)
    await user.open(f"/chat/{await conversation_id(user)}")  # the tab reloaded: the reply is replayed from memory
    await user.should_see(marker="tool-allow", retries=50)
    user.find(marker="tool-allow").click()
    await user.should_see("It said hello.", retries=100)
    assert texts(user, "tool-output") == ["hello"]


async def test_calls_made_together_each_get_a_card(user: User, fake_ollama: FakeOllama) -> None:
    zones = ["Europe/Paris", "Asia/Tokyo"]
    fake_ollama.then(
        Script(tokens=[], tool_calls=[ScriptedCall("chatui__current_time", {"timezone": zone}) for zone in zones]),
        Script(tokens=["Both told."]),
    )
    await register_and_sign_in(user)
    await choose_tools(user, ["chatui:current_time"])
    await send(user, "Paris and Tokyo?")
    await user.should_see("Both told.", retries=100)
    with user:
        [bubble] = list(user.find(marker="assistant-message").elements)[-1:]
        cards = [e for e in bubble.descendants() if "tool-card" in e._markers]  # in the page's order
        shown = [
            {m: str(e.text) for e in card.descendants() for m in ("tool-arguments", "tool-output") if m in e._markers}
            for card in cards
        ]
    assert [json.loads(card["tool-arguments"])["timezone"] for card in shown] == zones
    assert [zone in card["tool-output"] for zone, card in zip(zones, shown, strict=True)] == [True, True]


async def test_the_reasoning_folds_when_the_model_calls_a_tool(
    asks_first: None, user: User, fake_ollama: FakeOllama
) -> None:
    fake_ollama.then(
        Script(thinking=["I need ", "to add."], tokens=[], tool_calls=[ScriptedCall("local__add", {"a": 1, "b": 1})]),
        Script(tokens=["Two."]),
    )
    await register_and_sign_in(user)
    await choose_tools(user, ["local:*"])
    await local_is_up(user)
    await send(user, "1 + 1?")
    await user.should_see(marker="tool-allow", retries=100)  # the call waits: no text yet, the thinking is over
    with user:
        [block] = user.find(marker="reasoning").elements
    assert "open" not in block.props and texts(user, "reasoning-title")[0].startswith("Thought")
    user.find(marker="tool-allow").click()
    await user.should_see("Two.", retries=100)
    assert reply_order(user)[0] == "card:local:add"  # the card under the folded reasoning, then the text


async def test_a_call_a_crash_left_without_a_result_shows_interrupted(
    user: User, fake_ollama: FakeOllama, app_env: Path
) -> None:
    fake_ollama.then(Script(tokens=["Looking."]))
    await register_and_sign_in(user)
    await send(user, "Look it up")
    await user.should_see("Looking.", retries=50)
    conversation = await conversation_id(user)
    call = {"name": "files:read", "arguments": {"path": "notes.txt"}}
    with sqlite3.connect(app_env / "database.db") as db:  # as a checkpoint left it when the server died mid-call
        [reply] = db.execute("SELECT id FROM messages WHERE role = 'assistant'").fetchone()
        db.executemany(
            "INSERT INTO message_parts (message_id, position, kind, text, call_id, data) VALUES (?, ?, ?, ?, ?, ?)",
            [(reply, 0, "text", "Looking.", None, None), (reply, 1, "tool_call", None, "c1", json.dumps(call))],
        )
        db.execute("UPDATE messages SET status = 'interrupted' WHERE id = ?", (reply,))
    await user.open(f"/chat/{conversation}")
    await user.should_see(marker="tool-card", retries=30)
    assert reply_order(user)[1] == "card:files:read"
    assert texts(user, "tool-state") == ["Interrupted"]
    assert json.loads(texts(user, "tool-arguments")[0]) == {"path": "notes.txt"}


async def test_settings_choose_the_tools_new_chats_start_with(user: User, fake_ollama: FakeOllama) -> None:
    await register_and_sign_in(user)
    await user.open("/settings")
    await user.should_see("Tools for new chats")
    user.find(marker="tool-chatui:current_time").click()

    async def defaults() -> list[str]:
        return list((await user.http_client.get("/api/settings")).json()["default_tools"])

    assert await until(defaults, what="the default stored") == ["chatui:current_time"]
    user.find(marker="tools-chatui").click()  # all of the built-ins
    assert await until(lambda: _all(defaults), what="all of them") == ["chatui:*"]
    servers = (await user.http_client.get("/api/tools")).json()["servers"]
    builtins = len(next(server for server in servers if server["name"] == "chatui")["tools"])
    await user.open("/")
    await until(lambda: tools_label(user) == f"Tools: {builtins} on", what="a new chat starts with them")


async def _all(defaults: Callable[[], Awaitable[list[str]]]) -> list[str] | None:
    chosen = await defaults()
    return chosen if chosen == ["chatui:*"] else None
