"""The administration page's tool servers: each configured MCP server, whether it can be called now, and why not.

Read from the registry's state (nothing here waits for a server); it never shows a server's URL, command, headers
or environment (`CHATUI_MCP_SERVERS` holds them, and stays on the server).
"""

from __future__ import annotations

from nicegui import ui

from chatui.tools import ToolRegistry

REFRESH_SECONDS = 2.0
"""How often the card reads the registry again: a server connects or fails in the background."""


def tool_servers_card(tools: ToolRegistry) -> None:
    with ui.card().classes("chatui-card w-full gap-1").mark("tool-servers"):
        ui.label("Tool servers").classes("text-base font-medium").props("role=heading aria-level=2")
        listing = ui.refreshable(_servers)
        listing(tools)
        if len(tools.servers()) > 1:  # only with MCP servers configured: chatui's own never change
            ui.timer(REFRESH_SECONDS, listing.refresh)


def _servers(tools: ToolRegistry) -> None:
    with ui.column().classes("gap-1 w-full"):
        servers = tools.servers()[1:]  # chatui's own tools are always there
        if not servers:
            none = ui.label("No MCP servers are configured (CHATUI_MCP_SERVERS; see the README).")
            none.style("color: var(--chatui-muted)")
        for server in servers:
            with ui.row().classes("items-center gap-2 w-full no-wrap").mark(f"tool-server-{server.name}"):
                ui.icon("check_circle" if server.available else "error").classes(
                    "text-positive" if server.available else "text-negative"
                ).props('aria-hidden="true"')
                ui.label(server.name).classes("font-medium")
                kind = "HTTP" if server.transport == "http" else "stdio"
                if server.available:
                    state = f"{kind} · available · {len(server.tools)} tools"
                else:
                    state = f"{kind} · unavailable: {server.error or 'connecting'}"
                if server.approval == "always":
                    state += " · each call needs approval"
                ui.label(state).classes("text-sm").style("color: var(--chatui-muted)")
