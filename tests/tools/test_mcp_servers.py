"""The registry against real MCP servers: stdio and streamable HTTP, calls, limits, and servers that fail."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from chatui.tools import ServerConfigError, ToolLimits, ToolRegistry, parse_servers
from testing.fakes.black_hole import BlackHole
from testing.fakes.mcp_server import HttpMcpServer, stdio_config
from testing.fakes.server import ClosedPort
from testing.waiting import until


async def no_history(user_id: str, query: str, limit: int) -> Sequence[Any]:
    return []


def registry(*servers: dict[str, Any], **limits: Any) -> ToolRegistry:
    return ToolRegistry(parse_servers(json.dumps(list(servers))), no_history, ToolLimits(**limits))


@pytest.fixture
async def started() -> AsyncIterator[Callable[..., ToolRegistry]]:
    made: list[ToolRegistry] = []

    def start(*servers: dict[str, Any], **limits: Any) -> ToolRegistry:
        tools = registry(*servers, **limits)
        made.append(tools)
        return tools

    yield start
    for tools in made:
        await tools.aclose()


async def connected(tools: ToolRegistry, name: str) -> None:
    server = tools.server(name)
    assert server is not None
    await asyncio.wait_for(server.connected.wait(), 20)


async def test_http_server_tools_are_listed_and_called_with_its_headers(
    started: Callable[..., ToolRegistry], mcp_http: HttpMcpServer
) -> None:
    tools = started({"name": "remote", "url": mcp_http.url, "headers": {"Authorization": "Bearer s3cret-token"}})
    await tools.start()
    await connected(tools, "remote")
    remote = next(s for s in tools.servers() if s.name == "remote")
    assert remote.available and remote.transport == "http" and remote.error is None
    assert {"add", "echo", "sleep"} <= {tool.name for tool in remote.tools}
    assert (await tools.call("remote:add", {"a": 2, "b": 3}, user_id="u")).content == "5"
    assert (await tools.call("remote:whoami", {}, user_id="u")).content == "Bearer s3cret-token"
    assert "s3cret" not in repr(tools.servers()) + repr(tools.server("remote").config)  # type: ignore[union-attr]


async def test_stdio_server_runs_with_its_environment_and_keeps_one_session(
    started: Callable[..., ToolRegistry],
) -> None:
    config = stdio_config("local")
    config["env"] = {**config["env"], "FAKE_KEY": "k-123"}  # type: ignore[dict-item]
    tools = started(config)
    await tools.start()
    await connected(tools, "local")
    server = tools.server("local")
    assert server is not None
    session = server._client
    results = await asyncio.gather(*(tools.call("local:add", {"a": i, "b": 1}, user_id="u") for i in range(5)))
    assert [r.content for r in results] == ["1", "2", "3", "4", "5"]
    assert (await tools.call("local:env", {"name": "FAKE_KEY"}, user_id="u")).content == "k-123"
    assert server._client is session, "every call went through the one session"


async def test_a_call_is_bounded_in_time_and_output_and_errors_reach_the_model(
    started: Callable[..., ToolRegistry], mcp_http: HttpMcpServer
) -> None:
    tools = started({"name": "remote", "url": mcp_http.url}, call_seconds=0.5, output_max_chars=100)
    await tools.start()
    await connected(tools, "remote")
    began = time.monotonic()
    slow = await tools.call("remote:sleep", {"seconds": 30}, user_id="u")
    assert slow.is_error and "within 0.5 s" in slow.content and time.monotonic() - began < 5
    long = await tools.call("remote:shout", {"times": 5000}, user_id="u")
    assert long.content.startswith("A" * 100) and "5,000 characters, the first 100 kept" in long.content
    assert (await tools.call("remote:add", {"a": 1, "b": 1}, user_id="u")).content == "2", "the session survived"
    patient = started({"name": "remote", "url": mcp_http.url})  # the server's first traceback takes ~0.5 s
    await patient.start()
    await connected(patient, "remote")
    failed = await patient.call("remote:fail", {"reason": "nope"}, user_id="u")
    assert failed.is_error and "Error executing tool fail" in failed.content
    unknown = await tools.call("elsewhere:add", {}, user_id="u")
    assert unknown.is_error


async def test_servers_that_are_down_are_listed_unavailable_at_once_and_join_when_they_answer(
    started: Callable[..., ToolRegistry], black_hole: BlackHole
) -> None:
    closed = ClosedPort()
    tools = started(
        {"name": "refused", "url": f"http://127.0.0.1:{closed}/mcp"},
        {"name": "hangs", "url": f"{black_hole.url}/mcp"},
        {"name": "missing", "command": "/nonexistent/mcp-server"},
        connect_seconds=0.5,
    )
    began = time.monotonic()
    await tools.start()
    listed = {s.name: s for s in tools.servers()}
    assert time.monotonic() - began < 0.1, "nothing waits for a server"
    assert [s.available for s in listed.values()] == [True, False, False, False]
    assert [t.id for t in tools.enabled(["refused:*", "hangs:*", "chatui:*"])] == [
        "chatui:search_conversations",
        "chatui:current_time",
    ]
    call = await tools.call("refused:add", {"a": 1, "b": 2}, user_id="u")
    assert call.is_error and "unavailable" in call.content

    def errors() -> dict[str, str | None]:
        return {s.name: s.error for s in tools.servers()[1:]}

    await until(lambda: "connecting" not in errors().values(), within=10, what="every server tried")
    assert errors() == {
        "refused": "the connection was refused",
        "hangs": "it did not answer in time",
        "missing": "its command could not be started",
    }
    closed.release()
    late = HttpMcpServer.start(int(closed))
    try:
        await connected(tools, "refused")
        assert (await tools.call("refused:add", {"a": 1, "b": 2}, user_id="u")).content == "3"
    finally:
        late.stop()


async def test_builtin_tools_answer_for_the_calling_user() -> None:
    asked: list[tuple[str, str, int]] = []

    class Hit:
        conversation_title = "Trip plans"
        role = "user"
        snippet = "we decided on the train"
        created_at = datetime(2026, 11, 3, tzinfo=UTC)

    async def search(user_id: str, query: str, limit: int) -> Sequence[Any]:
        asked.append((user_id, query, limit))
        return [Hit()]

    tools = ToolRegistry([], search, ToolLimits())
    found = await tools.call("chatui:search_conversations", {"query": "train", "limit": 3}, user_id="alice")
    assert asked == [("alice", "train", 3)]
    assert found.content == "- 2026-11-03 in 'Trip plans' (user): we decided on the train"
    now = await tools.call("chatui:current_time", {"timezone": "Europe/Paris"}, user_id="alice")
    assert "Europe/Paris" in now.content and not now.is_error
    assert (await tools.call("chatui:current_time", {"timezone": "Mars/Base"}, user_id="a")).is_error
    assert (await tools.call("chatui:search_conversations", {}, user_id="a")).is_error


def test_server_settings_are_checked_and_their_errors_hold_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bad = [
        ("not json", "not JSON"),
        (json.dumps([{"name": "x"}]), "either `url`"),
        (json.dumps([{"name": "x", "url": "http://a/mcp", "command": "y"}]), "either `url`"),
        (json.dumps([{"name": "chatui", "url": "http://a/mcp"}]), "chatui's own tools"),
        (
            json.dumps([{"name": "x", "url": "http://a/mcp", "headers": {"K": "s3cret"}, "approval": "maybe"}]),
            "0.approval",
        ),
        (json.dumps([{"name": "x", "url": "http://a/mcp"}, {"name": "x", "command": "y"}]), "same name"),
    ]
    for raw, said in bad:
        with pytest.raises(ServerConfigError) as refused:
            parse_servers(raw)
        assert said in str(refused.value) and "s3cret" not in str(refused.value)
    assert parse_servers("  ") == []
