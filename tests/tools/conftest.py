"""A real MCP server (the `mcp` SDK's MCPServer, its own process) on streamable HTTP, shared by a module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from testing.fakes.mcp_server import HttpMcpServer


@pytest.fixture(scope="module")
def mcp_http() -> Iterator[HttpMcpServer]:
    server = HttpMcpServer.start()
    yield server
    server.stop()
