"""Tools a model may call: MCP servers an administrator configures, and chatui's own built-ins.

A domain package (no NiceGUI, no FastAPI): `ToolRegistry` lists every server and its tools, says which a chat's
selection turns on, and makes the calls, each bounded in time and in output. The engine's tool loop calls it.
"""

from chatui.tools.registry import ToolRegistry
from chatui.tools.servers import McpServerConfig, ServerConfigError, parse_servers
from chatui.tools.types import ServerInfo, ToolInfo, ToolLimits, ToolOutcome, parse_selection

__all__ = [
    "McpServerConfig",
    "ServerConfigError",
    "ServerInfo",
    "ToolInfo",
    "ToolLimits",
    "ToolOutcome",
    "ToolRegistry",
    "parse_selection",
    "parse_servers",
]
