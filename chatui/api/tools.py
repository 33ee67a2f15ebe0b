"""`GET /api/tools`: the tool servers (chatui's built-ins, then the configured MCP servers) and their tools.

Any signed-in user may read it (the per-chat picker is built from it); it never holds a server's URL, command,
headers or environment, only names, descriptions, and whether each can be called now.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel

from chatui.api.deps import CurrentUser, ServicesDep
from chatui.tools import ServerInfo

router = APIRouter(prefix="/api", tags=["tools"])


class ToolPublic(BaseModel):
    id: str
    """`server:name`, as a chat's `tools` selection names it."""
    name: str
    description: str
    available: bool
    approval: Literal["never", "always"]
    input_schema: dict[str, Any]


class ToolServerPublic(BaseModel):
    name: str
    transport: Literal["builtin", "http", "stdio"]
    available: bool
    approval: Literal["never", "always"]
    error: str | None
    """Why it is unavailable (the kind of failure), or null."""
    tools: list[ToolPublic]


class ToolsPublic(BaseModel):
    servers: list[ToolServerPublic]


def server_public(server: ServerInfo) -> ToolServerPublic:
    return ToolServerPublic(
        name=server.name,
        transport=server.transport,
        available=server.available,
        approval=server.approval,
        error=server.error,
        tools=[
            ToolPublic(
                id=tool.id,
                name=tool.name,
                description=tool.description,
                available=server.available,
                approval=tool.approval,
                input_schema=tool.input_schema,
            )
            for tool in server.tools
        ],
    )


@router.get("/tools", response_model=ToolsPublic)
async def list_tools(_: CurrentUser, services: ServicesDep) -> ToolsPublic:
    """Every tool server and its tools; a server that is down or still connecting is listed with `available`
    false and no tools, at once (the list never waits for a server)."""
    return ToolsPublic(servers=[server_public(server) for server in services.tools.servers()])
