"""`CHATUI_MCP_SERVERS`: the MCP servers an administrator configured, read and checked once at start-up."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, ValidationError, model_validator

from chatui.tools.types import BUILTIN_SERVER, NAME


class ServerConfigError(ValueError):
    """`CHATUI_MCP_SERVERS` is not a list of servers; the message says what is wrong (and holds no secret)."""


class McpServerConfig(BaseModel):
    """One server: streamable HTTP (`url`, `headers`) or stdio (`command`, `args`, `env`).

    Headers and environment values are `SecretStr`: they reach the transport and nothing else (their repr, the
    API and the logs show `**********`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(pattern=NAME.pattern)]
    url: Annotated[str, Field(pattern=r"^https?://")] | None = None
    headers: dict[str, SecretStr] = Field(default_factory=dict)
    command: Annotated[str, Field(min_length=1)] | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, SecretStr] = Field(default_factory=dict)
    approval: Literal["never", "always"] = "never"

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerConfig:
        if (self.url is None) == (self.command is None):
            raise ValueError("give either `url` (streamable HTTP) or `command` (stdio)")
        if self.url is None and self.headers:
            raise ValueError("`headers` are for a `url` server")
        if self.command is None and (self.args or self.env):
            raise ValueError("`args` and `env` are for a `command` server")
        if self.name == BUILTIN_SERVER:
            raise ValueError(f"`{BUILTIN_SERVER}` is the name of chatui's own tools")
        return self

    @property
    def transport(self) -> Literal["http", "stdio"]:
        return "http" if self.url is not None else "stdio"


_SERVERS = TypeAdapter(list[McpServerConfig])


def parse_servers(raw: str) -> list[McpServerConfig]:
    """The servers of `CHATUI_MCP_SERVERS` (blank: none). Errors name the entry and field, never a value."""
    if not raw.strip():
        return []
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ServerConfigError(f"CHATUI_MCP_SERVERS is not JSON (line {exc.lineno}, column {exc.colno})") from None
    try:
        servers = _SERVERS.validate_python(data)
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_input=False))
        raise ServerConfigError(f"CHATUI_MCP_SERVERS: {where}") from None
    names = [server.name for server in servers]
    if len(set(names)) != len(names):
        raise ServerConfigError("CHATUI_MCP_SERVERS: two servers have the same name")
    return servers
