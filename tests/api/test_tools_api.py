"""`GET /api/tools` on a live app configured with real MCP servers (streamable HTTP, stdio) and one that is down."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from testing.fakes.mcp_server import HttpMcpServer, stdio_config
from testing.fakes.ollama import FakeOllama
from testing.fakes.server import ClosedPort, Script, ScriptedCall, ScriptedProvider, ThreadedServer
from testing.live import LiveApp, module_app
from testing.waiting import until

HEADER_SECRET = "Bearer hdr-secret-4711"
ENV_SECRET = "env-secret-0815"


@pytest.fixture(scope="module")
def mcp_http() -> Iterator[HttpMcpServer]:
    server = HttpMcpServer.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def live_app(
    tmp_path_factory: pytest.TempPathFactory,
    ollama_server: tuple[ScriptedProvider, ThreadedServer],
    mcp_http: HttpMcpServer,
) -> Iterator[LiveApp]:
    local = stdio_config("local", approval="always")
    local["env"] = {**local["env"], "MCP_TOKEN": ENV_SECRET}  # type: ignore[dict-item]
    servers = [
        {"name": "remote", "url": mcp_http.url, "headers": {"Authorization": HEADER_SECRET}},
        local,
        {"name": "dead", "url": f"http://127.0.0.1:{ClosedPort()}/mcp"},
    ]
    yield from module_app(tmp_path_factory, ollama_server[1].url, "tools", CHATUI_MCP_SERVERS=json.dumps(servers))


async def listed(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/api/tools")
    assert response.status_code == 200, response.text
    return {server["name"]: server for server in response.json()["servers"]}


async def test_servers_and_tools_are_listed_without_their_secrets(
    live_app: LiveApp, make_account: Any, mcp_http: HttpMcpServer
) -> None:
    account = await make_account()
    began = time.monotonic()
    first = await listed(account.client)
    assert time.monotonic() - began < 2, "the list never waits for a server"
    assert list(first) == ["chatui", "remote", "local", "dead"]
    assert [t["id"] for t in first["chatui"]["tools"]] == [
        "chatui:search_conversations",
        "chatui:current_time",
        "chatui:search_knowledge",
    ]

    async def both_up() -> dict[str, Any] | None:
        servers = await listed(account.client)
        return servers if servers["remote"]["available"] and servers["local"]["available"] else None

    servers = await until(both_up, within=20, what="both MCP servers connected")
    remote, local, dead = servers["remote"], servers["local"], servers["dead"]
    assert (remote["transport"], remote["approval"], local["transport"], local["approval"]) == (
        "http",
        "never",
        "stdio",
        "always",
    )
    add = next(tool for tool in remote["tools"] if tool["name"] == "add")
    assert add == {
        "id": "remote:add",
        "name": "add",
        "description": "Add two numbers.",
        "available": True,
        "approval": "never",
        "input_schema": add["input_schema"],
    }
    assert set(add["input_schema"]["properties"]) == {"a", "b"}
    assert {tool["approval"] for tool in local["tools"]} == {"always"}
    assert dead["available"] is False and dead["tools"] == [] and dead["error"] == "the connection was refused"
    everything = json.dumps(servers) + live_app.log()
    for secret in (HEADER_SECRET, ENV_SECRET, "hdr-secret", "MCP_TOKEN", "testing.fakes.mcp_server", mcp_http.url):
        assert secret not in everything


async def test_the_list_is_for_signed_in_users(live_app: LiveApp) -> None:
    async with httpx.AsyncClient(base_url=live_app.url) as anonymous:
        assert (await anonymous.get("/api/tools")).status_code == 401


# -- the tool loop over /ws --------------------------------------------------------------------------------------


async def frames_until_done(ws: Any) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    while not frames or frames[-1]["type"] != "done":
        frames.append(json.loads(await asyncio.wait_for(ws.recv(), 30)))
    return frames


async def chat_with_tools(account: Any, tools: list[str]) -> str:
    conversation_id: str = await account.new_conversation()
    patched = await account.client.patch(f"/api/conversations/{conversation_id}", json={"tools": tools})
    assert patched.status_code == 200, patched.text
    assert patched.json()["tools"] == tools
    return conversation_id


async def test_a_two_step_tool_loop_streams_calls_and_results_then_the_answer(
    live_app: LiveApp, make_account: Any, fake_ollama: FakeOllama
) -> None:
    account = await make_account()
    conversation_id = await chat_with_tools(account, ["remote:add", "chatui:*"])
    await wait_available(account, "remote")
    fake_ollama.then(
        Script(tokens=["Adding."], tool_calls=[ScriptedCall("remote__add", {"a": 2, "b": 3})]),
        Script(tokens=[], tool_calls=[ScriptedCall("remote__add", {"a": 5, "b": 10})]),
        Script(tokens=["It is ", "15."]),
    )
    async with account.socket(live_app, conversation_id) as ws:
        await ws.send(json.dumps({"type": "message", "content": "2+3, then +10?"}))
        frames = await frames_until_done(ws)
    kinds = [f["type"] for f in frames]
    assert kinds == ["token", "tool_call", "tool_result", "tool_call", "tool_result", "token", "token", "token", "done"]
    call, result = frames[1], frames[2]
    assert call == {
        "type": "tool_call",
        "call_id": call["call_id"],
        "name": "remote:add",
        "arguments": {"a": 2, "b": 3},
        "message_id": frames[-1]["message_id"],
    }
    assert result == {
        "type": "tool_result",
        "call_id": call["call_id"],
        "content": "5",
        "is_error": False,
        "message_id": frames[-1]["message_id"],
    }
    assert frames[4]["content"] == "15" and frames[-1]["status"] == "done"
    offered = [t["function"]["name"] for t in fake_ollama.requests[-1]["tools"]]
    assert offered == [
        "chatui__search_conversations",
        "chatui__current_time",
        "chatui__search_knowledge",
        "remote__add",
    ]
    assert fake_ollama.requests[-1]["messages"][-1] == {"role": "tool", "content": "15", "tool_name": "remote__add"}
    messages = await account.messages(conversation_id)
    assert messages[-1]["content"] == "Adding.\n\nIt is 15."

    # exported with its steps, and imported back into another account as they were
    document = (await account.client.get(f"/api/conversations/{conversation_id}/export")).json()
    steps = document["conversations"][0]["messages"][-1]["tool_steps"]
    assert [(s["kind"], s["text"]) for s in steps] == [
        ("text", "Adding."),
        ("tool_call", None),
        ("tool_result", "5"),
        ("tool_call", None),
        ("tool_result", "15"),
        ("text", "It is 15."),
    ]
    assert steps[1]["data"] == {"name": "remote:add", "arguments": {"a": 2, "b": 3}}
    other = await make_account()
    posted = await other.client.post(
        "/api/import", files={"file": ("chat.json", json.dumps(document).encode(), "application/json")}
    )
    assert posted.status_code == 202, posted.text

    async def imported() -> list[dict[str, Any]] | None:
        listed = (await other.client.get("/api/conversations")).json()
        return listed or None

    copy = (await until(imported, within=10, what="the import"))[0]["id"]
    again = (await other.client.get(f"/api/conversations/{copy}/export")).json()
    assert again["conversations"][0]["messages"][-1]["tool_steps"] == steps


async def test_a_denied_approval_is_a_refusal_the_model_reads(
    live_app: LiveApp, make_account: Any, fake_ollama: FakeOllama
) -> None:
    account = await make_account()
    conversation_id = await chat_with_tools(account, ["local:*"])
    await wait_available(account, "local")
    fake_ollama.then(
        Script(tokens=[], tool_calls=[ScriptedCall("local__add", {"a": 1, "b": 1})]),
        Script(tokens=["Understood."]),
    )
    async with account.socket(live_app, conversation_id) as ws:
        await ws.send(json.dumps({"type": "message", "content": "add"}))
        call = json.loads(await ws.recv())
        asked = json.loads(await ws.recv())
        assert asked == {
            "type": "tool_approval",
            "call_id": call["call_id"],
            "name": "local:add",
            "arguments": call["arguments"],
        }
        await ws.send(json.dumps({"type": "approve", "call_id": "someone-else", "allow": True}))
        assert json.loads(await ws.recv())["code"] == "not_waiting"
        await ws.send(json.dumps({"type": "approve", "call_id": call["call_id"], "allow": False}))
        frames = await frames_until_done(ws)
    result = frames[0]
    assert result["type"] == "tool_result" and result["is_error"] and "denied" in result["content"]
    assert fake_ollama.requests[-1]["messages"][-1]["content"].startswith("Error: The user denied")


async def wait_available(account: Any, name: str) -> None:
    async def up() -> bool:
        return bool((await listed(account.client))[name]["available"])

    await until(up, within=20, what=f"{name} connected")


async def test_stop_during_a_call_ends_it_interrupted_and_the_step_limit_ends_the_loop(
    live_app: LiveApp, make_account: Any, fake_ollama: FakeOllama
) -> None:
    account = await make_account()
    conversation_id = await chat_with_tools(account, ["remote:*"])
    await wait_available(account, "remote")
    fake_ollama.then(Script(tokens=[], tool_calls=[ScriptedCall("remote__sleep", {"seconds": 60})]))
    async with account.socket(live_app, conversation_id) as ws:
        await ws.send(json.dumps({"type": "message", "content": "wait"}))
        assert json.loads(await ws.recv())["type"] == "tool_call"
        began = time.monotonic()
        await ws.send(json.dumps({"type": "stop"}))
        frames = await frames_until_done(ws)
    assert time.monotonic() - began < 5
    assert frames[0]["type"] == "tool_result" and frames[0]["is_error"] and "stopped" in frames[0]["content"]
    assert frames[-1]["status"] == "cancelled"

    # the model keeps calling: 8 rounds run, the 9th is told the limit, the 10th ends the reply
    fake_ollama.default = Script(tokens=[], tool_calls=[ScriptedCall("remote__add", {"a": 1, "b": 1})])
    try:
        async with account.socket(live_app, conversation_id) as ws:
            await ws.send(json.dumps({"type": "message", "content": "loop"}))
            frames = await frames_until_done(ws)
    finally:
        fake_ollama.default = Script()
    results = [f for f in frames if f["type"] == "tool_result"]
    assert [r["content"] for r in results[:8]] == ["2"] * 8
    assert len(results) == 10 and all("limit of 8 tool steps" in r["content"] for r in results[8:])
    assert frames[-1]["status"] == "done"


async def test_a_socket_that_attaches_mid_loop_gets_every_step_replayed_in_order(
    live_app: LiveApp, make_account: Any, fake_ollama: FakeOllama
) -> None:
    account = await make_account()
    conversation_id = await chat_with_tools(account, ["remote:*"])
    await wait_available(account, "remote")
    fake_ollama.then(
        Script(tokens=["Checking."], tool_calls=[ScriptedCall("remote__add", {"a": 1, "b": 2})]),
        Script(tokens=[], tool_calls=[ScriptedCall("remote__sleep", {"seconds": 1})]),
        Script(tokens=["Done."]),
    )
    async with account.socket(live_app, conversation_id) as first:
        await first.send(json.dumps({"type": "message", "content": "go"}))
        seen = [json.loads(await first.recv()) for _ in range(4)]  # token, call, result, the sleeping call
        assert [f["type"] for f in seen] == ["token", "tool_call", "tool_result", "tool_call"]
        async with account.socket(live_app, conversation_id) as late:  # a reload while the tool runs
            replayed = await frames_until_done(late)
        rest = await frames_until_done(first)
    kinds = ["token", "tool_call", "tool_result", "tool_call", "tool_result", "token", "token", "done"]
    assert [f["type"] for f in replayed] == kinds
    assert [f["type"] for f in seen + rest] == kinds
    assert replayed[4]["content"] == "slept 1.0" and replayed[5]["token"] == "\n\n"
