"""One MCP server, through the official `mcp` SDK: a session kept open and reused by every call.

A supervisor task owns the session (the SDK's transports are anyio task groups: entered and left in one task). It
connects in the background, lists the tools, refreshes the list every `refresh_seconds`, and when the connection
fails marks the server unavailable and tries again later (1 s, doubling to `retry_max_seconds`). Nothing a chat
does waits for it: a server that is down, hangs or is still starting is listed unavailable, and a call to it
returns an error the model reads at once.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx2
import mcp_types
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError

from chatui.tools.servers import McpServerConfig
from chatui.tools.types import ServerInfo, ToolInfo, ToolLimits, ToolOutcome, capped

log = logging.getLogger(__name__)


class McpServer:
    """A configured server: its state, its tools, and calls to them."""

    def __init__(self, config: McpServerConfig, limits: ToolLimits) -> None:
        self.config = config
        self.limits = limits
        self._client: Client | None = None
        self._tools: dict[str, ToolInfo] = {}
        self._error: str | None = "connecting"
        self._lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.connected = asyncio.Event()
        """Set while a session is open (tests and the benchmark wait on it)."""

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._supervise(), name=f"mcp server {self.config.name}")

    async def aclose(self) -> None:
        """Stop the supervisor. A cancellation can be absorbed by the SDK's anyio task groups while they clean up
        (the supervisor then carried on retrying and a shutdown hung), so it is repeated until the task has ended,
        and the supervisor also checks `_closing` between attempts."""
        task, self._task = self._task, None
        if task is None:
            return
        self._closing = True
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=1.0)
        if not task.cancelled() and task.exception() is not None:
            log.warning("MCP server %s: stopped with %r", self.config.name, task.exception())

    def info(self) -> ServerInfo:
        available = self._client is not None
        return ServerInfo(
            self.config.name,
            self.config.transport,
            self.config.approval,
            available,
            list(self._tools.values()) if available else [],
            None if available else self._error,
        )

    def tools(self) -> list[ToolInfo]:
        return list(self._tools.values()) if self._client is not None else []

    async def call(self, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        """Call `name`; an unavailable server, a timeout or a broken connection come back as an error outcome."""
        client = self._client
        if client is None:
            return ToolOutcome(f"The tool server '{self.config.name}' is unavailable.", is_error=True)
        seconds = self.limits.call_seconds
        try:
            async with asyncio.timeout(seconds):
                result = await client.call_tool(name, arguments)
        except TimeoutError:
            return ToolOutcome(f"The tool did not answer within {seconds:g} s.", is_error=True)
        except MCPError as exc:
            return ToolOutcome(capped(f"The tool server refused the call: {exc.error.message}", 2000), is_error=True)
        except Exception as exc:  # the connection broke: the supervisor reconnects
            log.warning("MCP server %s: call failed (%s); reconnecting", self.config.name, type(exc).__name__)
            self._lost.set()
            return ToolOutcome(f"The tool server '{self.config.name}' failed during the call.", is_error=True)
        return ToolOutcome(capped(result_text(result), self.limits.output_max_chars), is_error=result.is_error)

    async def _supervise(self) -> None:
        delay = 1.0
        while not self._closing:
            try:
                # The deadline covers the connection and the first listing only: a server that accepts and never
                # answers is given up on (the SDK's own timeouts do not cover its first request).
                async with asyncio.timeout(self.limits.connect_seconds) as deadline, self._connect() as client:
                    await self._list(client)
                    deadline.reschedule(None)
                    self._client, self._error, delay = client, None, 1.0
                    self.connected.set()
                    log.info("MCP server %s: connected, %d tools", self.config.name, len(self._tools))
                    while not self._lost.is_set():
                        try:
                            await asyncio.wait_for(self._lost.wait(), self.limits.refresh_seconds)
                        except TimeoutError:
                            async with asyncio.timeout(self.limits.connect_seconds):
                                await self._list(client)
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # an ExceptionGroup from the transport's task group, a timeout, OSError
                error = describe(exc)
                if error != self._error:  # once per change, not once per retry
                    log.warning("MCP server %s: unavailable (%s)", self.config.name, error)
                self._error = error
            finally:
                self._client = None
                self.connected.clear()
                self._lost = asyncio.Event()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.limits.retry_max_seconds)

    async def _list(self, client: Client) -> None:
        tools: dict[str, ToolInfo] = {}
        cursor: str | None = None
        for _ in range(20):  # pages: a server that never stops paging is cut off
            page = await client.list_tools(cursor=cursor, cache_mode="refresh")
            for tool in page.tools:
                tools[tool.name] = ToolInfo(
                    self.config.name, tool.name, tool.description or "", dict(tool.input_schema), self.config.approval
                )
            cursor = page.next_cursor
            if cursor is None:
                break
        self._tools = tools

    def _connect(self) -> AbstractAsyncContextManager[Client]:
        """The session, through the server's transport; secrets go to the transport only."""
        config = self.config
        if config.url is not None:
            return _http_session(config, self.limits)
        assert config.command is not None
        params = StdioServerParameters(
            command=config.command,
            args=list(config.args),
            env={key: value.get_secret_value() for key, value in config.env.items()} or None,
        )
        return Client(stdio_client(params, errlog=sys.stderr), read_timeout_seconds=self.limits.connect_seconds)


@asynccontextmanager
async def _http_session(config: McpServerConfig, limits: ToolLimits) -> AsyncIterator[Client]:
    assert config.url is not None
    headers = {key: value.get_secret_value() for key, value in config.headers.items()}
    timeout = httpx2.Timeout(limits.connect_seconds, read=max(limits.call_seconds, 300.0))
    async with create_mcp_http_client(headers=headers, timeout=timeout) as http:
        transport = streamable_http_client(config.url, http_client=http)
        async with Client(transport, read_timeout_seconds=limits.connect_seconds) as client:
            yield client


def result_text(result: mcp_types.CallToolResult) -> str:
    """A result as text for the model: its text blocks; other blocks named, not inlined (an image is not text)."""
    pieces: list[str] = []
    for block in result.content:
        if isinstance(block, mcp_types.TextContent):
            pieces.append(block.text)
        else:
            pieces.append(f"[{block.type} content omitted]")
    if not pieces and result.structured_content is not None:
        import json

        pieces.append(json.dumps(result.structured_content, ensure_ascii=False, default=str))
    return "\n".join(pieces)


def describe(exc: BaseException) -> str:
    """The kind of failure, in words with no secret in them (a server's own text or URL may carry one)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, TimeoutError):
        return "it did not answer in time"
    if isinstance(exc, httpx2.ConnectError | ConnectionError):
        return "the connection was refused"
    if isinstance(exc, FileNotFoundError | PermissionError):
        return "its command could not be started"
    if isinstance(exc, MCPError):
        return f"it refused the session (error {exc.error.code})"
    if isinstance(exc, httpx2.HTTPStatusError):
        return f"it answered HTTP {exc.response.status_code}"
    return f"the connection failed ({type(exc).__name__})"
