"""`ToolRegistry`: every server (chatui's built-ins, then the configured MCP servers) and calls to their tools."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from chatui.tools.builtin import BuiltinTools, KnowledgeSearch, Search
from chatui.tools.servers import McpServerConfig
from chatui.tools.types import BUILTIN_SERVER, ServerInfo, ToolInfo, ToolLimits, ToolOutcome, capped, selected

if TYPE_CHECKING:
    from chatui.tools.mcp import McpServer


class ToolRegistry:
    def __init__(
        self,
        servers: Iterable[McpServerConfig],
        search: Search,
        limits: ToolLimits,
        *,
        knowledge: KnowledgeSearch | None = None,
    ) -> None:
        self.limits = limits
        self._builtin = BuiltinTools(search, knowledge=knowledge)
        self._servers = {config.name: _mcp_server(config, limits) for config in servers}

    async def start(self) -> None:
        """Connect in the background: the app serves at once, each server joins the list when it answers."""
        for server in self._servers.values():
            server.start()

    async def aclose(self) -> None:
        await asyncio.gather(*(server.aclose() for server in self._servers.values()))

    def server(self, name: str) -> McpServer | None:
        return self._servers.get(name)

    def servers(self) -> list[ServerInfo]:
        builtin = ServerInfo(BUILTIN_SERVER, "builtin", "never", True, list(self._builtin.tools))
        return [builtin, *(server.info() for server in self._servers.values())]

    def tools(self) -> list[ToolInfo]:
        """Every tool that can be called now."""
        return [*self._builtin.tools, *(tool for server in self._servers.values() for tool in server.tools())]

    def enabled(self, selection: Iterable[str]) -> list[ToolInfo]:
        """The tools a chat's selection turns on, among those that can be called now."""
        chosen = list(selection)
        return [tool for tool in self.tools() if selected(tool, chosen)]

    def find(self, tool_id: str) -> ToolInfo | None:
        return next((tool for tool in self.tools() if tool.id == tool_id), None)

    async def call(self, tool_id: str, arguments: dict[str, Any], *, user_id: str) -> ToolOutcome:
        """Call a tool for `user_id`; every failure is an outcome with `is_error`, for the model to read."""
        server_name, _, name = tool_id.partition(":")
        if server_name == BUILTIN_SERVER:
            try:
                async with asyncio.timeout(self.limits.call_seconds):
                    outcome = await self._builtin.call(name, arguments, user_id=user_id)
            except TimeoutError:
                return ToolOutcome(f"The tool did not answer within {self.limits.call_seconds:g} s.", is_error=True)
            return ToolOutcome(capped(outcome.content, self.limits.output_max_chars), outcome.is_error)
        server = self._servers.get(server_name)
        if server is None:
            return ToolOutcome(f"No such tool server: {server_name[:60]!r}.", is_error=True)
        return await server.call(name, arguments)


def _mcp_server(config: McpServerConfig, limits: ToolLimits) -> McpServer:
    """The `mcp` SDK (and httpx2 under it) is imported only when a server is configured: a start without one stays
    as light as before tools existed (tests/chatui/test_lazy_imports.py)."""
    from chatui.tools.mcp import McpServer

    return McpServer(config, limits)
