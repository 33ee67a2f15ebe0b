"""A tool loop that goes wrong, end to end over `/ws` (issue 24): a call that outlasts `CHATUI_TOOL_TIMEOUT`, Stop while
a call runs, and the server killed mid-call. What is checked is what a client is sent and what the database keeps
(storage/PARTS.md): the model reads a timeout as an error result; Stop keeps the partial reply, its call ended
`interrupted`; a crash leaves the call without a result, which reads as interrupted, and the reply `interrupted`.
Regenerate and edit run the loop again, each version with its own steps."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from testing.fakes.mcp_server import HttpMcpServer
from testing.fakes.ollama import FakeOllama
from testing.fakes.server import Script, ScriptedCall, ScriptedProvider, ThreadedServer
from testing.live import LiveApp, module_app
from tests.api.conftest import Account
from tests.api.test_tools_api import chat_with_tools, frames_until_done, wait_available


@pytest.fixture(scope="module")
def mcp_http() -> Iterator[HttpMcpServer]:
    server = HttpMcpServer.start()
    yield server
    server.stop()


def servers(mcp: HttpMcpServer) -> str:
    return json.dumps([{"name": "remote", "url": mcp.url}])


@pytest.fixture(scope="module")
def live_app(
    tmp_path_factory: pytest.TempPathFactory,
    ollama_server: tuple[ScriptedProvider, ThreadedServer],
    mcp_http: HttpMcpServer,
) -> Iterator[LiveApp]:
    env = {"CHATUI_MCP_SERVERS": servers(mcp_http), "CHATUI_TOOL_TIMEOUT": "1"}
    yield from module_app(tmp_path_factory, ollama_server[1].url, "toolfaults", **env)


def stored_parts(data_dir: Path, conversation_id: str) -> tuple[str, list[tuple[str, str | None, dict[str, Any]]]]:
    """The reply's status and its parts (kind, text, data) as the database holds them."""
    with sqlite3.connect(data_dir / "database.db") as db:
        reply_id, status = db.execute(
            "SELECT id, status FROM messages WHERE conversation_id = ? AND role = 'assistant'", (conversation_id,)
        ).fetchone()
        rows = db.execute(
            "SELECT kind, text, data FROM message_parts WHERE message_id = ? ORDER BY position", (reply_id,)
        ).fetchall()
    return status, [(kind, text, json.loads(data) if data else {}) for kind, text, data in rows]


async def test_a_call_past_the_timeout_is_an_error_the_model_reads(
    live_app: LiveApp, make_account: Any, fake_ollama: FakeOllama
) -> None:
    account = await make_account()
    conversation_id = await chat_with_tools(account, ["remote:sleep"])
    await wait_available(account, "remote")
    fake_ollama.then(
        Script(tokens=[], tool_calls=[ScriptedCall("remote__sleep", {"seconds": 30})]),
        Script(tokens=["It took too long."]),
    )
    async with account.socket(live_app, conversation_id) as ws:
        await ws.send(json.dumps({"type": "message", "content": "sleep"}))
        began = time.monotonic()
        frames = await frames_until_done(ws)
    assert time.monotonic() - began < 10
    assert [f["type"] for f in frames] == ["tool_call", "tool_result", "token", "done"]
    result = frames[1]
    assert result["is_error"] and result["content"] == "The tool did not answer within 1 s."
    assert frames[-1]["status"] == "done"
    sent = [m for m in fake_ollama.requests[-1]["messages"] if m["role"] == "tool"]
    assert "did not answer within 1 s" in sent[0]["content"]
    status, parts = stored_parts(live_app.data_dir, conversation_id)
    assert status == "done"
    assert [kind for kind, _, _ in parts] == ["tool_call", "tool_result", "text"]
    assert parts[1][2]["is_error"] is True and parts[1][2]["seconds"] >= 1
    assert parts[2][1] == "It took too long."


async def test_stop_during_a_call_keeps_the_partial_reply_and_marks_the_call_interrupted(
    live_app: LiveApp, make_account: Any, fake_ollama: FakeOllama
) -> None:
    account = await make_account()
    conversation_id = await chat_with_tools(account, ["remote:*"])
    await wait_available(account, "remote")
    fake_ollama.then(
        Script(tokens=["Let me ", "wait."], tool_calls=[ScriptedCall("remote__sleep", {"seconds": 3})]),
        Script(tokens=["never sent"]),
    )
    async with account.socket(live_app, conversation_id) as ws:
        await ws.send(json.dumps({"type": "message", "content": "wait"}))
        seen = [json.loads(await ws.recv()) for _ in range(3)]
        assert [f["type"] for f in seen] == ["token", "token", "tool_call"]
        await ws.send(json.dumps({"type": "stop"}))
        frames = await frames_until_done(ws)
    assert [f["type"] for f in frames] == ["tool_result", "done"]
    assert frames[0]["is_error"] and "stopped" in frames[0]["content"]
    assert frames[-1]["status"] == "cancelled"
    await asyncio.sleep(0.5)  # nothing more is sent to the model
    assert len(fake_ollama.requests) == 1
    detail = (await account.client.get(f"/api/conversations/{conversation_id}")).json()
    reply = detail["messages"][-1]
    assert (reply["status"], reply["content"]) == ("cancelled", "Let me wait.")
    status, parts = stored_parts(live_app.data_dir, conversation_id)
    assert status == "cancelled"
    assert [(kind, text) for kind, text, _ in parts[:2]] == [("text", "Let me wait."), ("tool_call", None)]
    kind, text, data = parts[2]
    assert kind == "tool_result" and data["interrupted"] is True and data["is_error"] is True
    assert text == frames[0]["content"]


async def test_a_crash_mid_call_leaves_the_call_without_a_result_and_the_reply_interrupted(
    tmp_path: Path,
    ollama_server: tuple[ScriptedProvider, ThreadedServer],
    fake_ollama: FakeOllama,
    mcp_http: HttpMcpServer,
) -> None:
    data_dir = tmp_path / "data"
    env = {"OLLAMA_BASE_URL": ollama_server[1].url, "CHATUI_MCP_SERVERS": servers(mcp_http)}
    fake_ollama.then(Script(tokens=["Looking."], tool_calls=[ScriptedCall("remote__sleep", {"seconds": 60})]))
    app = LiveApp(data_dir, env).start()
    try:
        async with httpx.AsyncClient(base_url=app.url, timeout=10) as client:
            account = await Account.sign_up(client, "crashy")
            conversation_id = await chat_with_tools(account, ["remote:*"])
            await wait_available(account, "remote")
            async with account.socket(app, conversation_id) as ws:
                await ws.send(json.dumps({"type": "message", "content": "sleep long"}))
                while json.loads(await ws.recv())["type"] != "tool_call":
                    pass

                def checkpointed() -> bool:
                    _, parts = stored_parts(data_dir, conversation_id)
                    return any(kind == "tool_call" for kind, _, _ in parts)

                deadline = time.monotonic() + 10
                while not checkpointed():  # the checkpoint (about once a second) writes the call
                    assert time.monotonic() < deadline, "the call was never checkpointed"
                    await asyncio.sleep(0.1)
                app.kill()
    finally:
        app.kill()
    status, parts = stored_parts(data_dir, conversation_id)
    assert status == "streaming" and [kind for kind, _, _ in parts] == ["text", "tool_call"]

    restarted = LiveApp(data_dir, env).start()
    try:
        async with httpx.AsyncClient(base_url=restarted.url) as client:
            await client.post("/api/auth/login", json={"username": "crashy", "password": "password123"})
            detail = (await client.get(f"/api/conversations/{conversation_id}")).json()
    finally:
        restarted.stop()
    reply = detail["messages"][-1]
    assert (reply["status"], reply["content"]) == ("interrupted", "Looking.")
    status, parts = stored_parts(data_dir, conversation_id)
    assert status == "interrupted"
    assert [(kind, text) for kind, text, _ in parts] == [("text", "Looking."), ("tool_call", None)]  # no result: the
    # page draws it interrupted (chatui.ui.tool_cards.stored_steps; tests/pages/test_tool_cards.py)


async def test_regenerate_and_edit_run_the_tool_loop_again(
    live_app: LiveApp, make_account: Any, fake_ollama: FakeOllama
) -> None:
    account = await make_account()
    conversation_id = await chat_with_tools(account, ["remote:add"])
    await wait_available(account, "remote")

    def loop(a: int, b: int, answer: str) -> list[Script]:
        return [Script(tokens=[], tool_calls=[ScriptedCall("remote__add", {"a": a, "b": b})]), Script(tokens=[answer])]

    fake_ollama.then(*loop(1, 2, "3."), *loop(1, 2, "Three."), *loop(2, 2, "4."))
    expected = ["tool_call", "tool_result", "token", "done"]
    async with account.socket(live_app, conversation_id) as ws:
        await ws.send(json.dumps({"type": "message", "content": "1 + 2?"}))
        first = await frames_until_done(ws)
        await ws.send(json.dumps({"type": "regenerate"}))
        again = await frames_until_done(ws)
        detail = (await account.client.get(f"/api/conversations/{conversation_id}")).json()
        question = detail["messages"][0]["id"]
        await ws.send(json.dumps({"type": "edit", "message_id": question, "content": "2 + 2?"}))
        edited = [f for f in await frames_until_done(ws) if f["type"] != "title"]
    for frames, result in ((first, "3"), (again, "3"), (edited, "4")):
        assert [f["type"] for f in frames] == expected
        assert frames[1]["content"] == result and not frames[1]["is_error"]
    assert again[-1]["message_id"] != first[-1]["message_id"]  # a new version, with its own steps
    assert [r["messages"][-1]["content"] for r in fake_ollama.requests[1::2]] == ["3", "3", "4"]
    _, parts = stored_parts_of(live_app.data_dir, edited[-1]["message_id"])
    assert [kind for kind, _, _ in parts] == ["tool_call", "tool_result", "text"]


def stored_parts_of(data_dir: Path, message_id: str) -> tuple[str, list[tuple[str, str | None, dict[str, Any]]]]:
    with sqlite3.connect(data_dir / "database.db") as db:
        [status] = db.execute("SELECT status FROM messages WHERE id = ?", (message_id,)).fetchone()
        rows = db.execute(
            "SELECT kind, text, data FROM message_parts WHERE message_id = ? ORDER BY position", (message_id,)
        ).fetchall()
    return status, [(kind, text, json.loads(data) if data else {}) for kind, text, data in rows]
