"""The per-chat tool picker (issue 24): a Tools button beside the message box opens a dialog that lists every tool
server (chatui's built-ins, then the configured MCP servers) and its tools, each with a checkbox.

Ticking a server turns on all its tools (`server:*`, so tools it adds later are on too); ticking a tool turns on that
one (`server:tool`). An open conversation stores the selection at each change, through the same service and rules
as `PATCH /api/conversations/{id}` `"tools"`; a new chat starts from the user's default (`/api/settings`
`default_tools`) and gives a changed selection to the conversation its first message creates. A server that is down
is listed greyed, with why (the registry's words, which hold no secret); what the chat chose of it is kept, so the
chat uses it again when it is back. The list is the registry's state now: opening the dialog never waits for a server.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Protocol

from nicegui import ui

from chatui.tools import ServerInfo
from chatui.tools.types import BUILTIN_SERVER

if TYPE_CHECKING:
    from chatui.ui.chat.view import ChatView

DESCRIPTION_CHARS = 160


class Chooser(Protocol):
    """What a server's checkboxes change: a selection, stored by `save` (False when it was refused)."""

    selection: list[str]

    async def save(self, selection: list[str]) -> bool: ...


def short(description: str) -> str:
    """A tool's description (the server's words, any length) cut at a word near `DESCRIPTION_CHARS`."""
    if len(description) <= DESCRIPTION_CHARS:
        return description
    return description[:DESCRIPTION_CHARS].rsplit(" ", 1)[0].rstrip(" ,.;:") + "…"


def server_label(server: ServerInfo) -> str:
    return "Built-in tools" if server.name == BUILTIN_SERVER else server.name


class ToolPicker:
    """The Tools button (with how many are on: a badge) and its dialog."""

    def __init__(self, view: ChatView) -> None:
        self._view = weakref.ref(view)  # the view holds this control: no cycle to keep a closed page alive
        conversation = view.conversation
        self.selection: list[str] = list(conversation.tools or []) if conversation is not None else []
        self.dialog: tuple[ui.dialog, ui.card] | None = None
        self.pending = False
        """A new chat's selection was changed (it goes with the first message)."""
        box = view.box
        with box.row:
            self.button = ui.button(icon="handyman", on_click=self.open).props("flat round dense")
            self.button.classes("chatui-tools-button").mark("tools-button")
            with self.button:
                # the button's label says the count: the badge is only seen (Quasar makes a badge a live status,
                # which would speak each change and stand beside the page's real status messages)
                self.badge = ui.badge().props("floating rounded role=none aria-hidden=true")
                self.badge.classes("chatui-tools-count")
        place = box.row.default_slot.children.index(box.textarea)
        self.button.move(box.row, target_index=place)  # just before the message box (Think, when shown, goes after)
        self._show()

    @property
    def view(self) -> ChatView:
        view = self._view()
        if view is None:
            raise RuntimeError("the page of this control is gone")
        return view

    async def load(self) -> None:
        """A new chat starts with the user's default tools."""
        view = self.view
        if view.conversation is None:
            self.selection = await view.conversations.default_tools(view.user.id)
            self._show()

    def _show(self) -> None:
        """The button says how many tools the model can call now (a server that is down counts none)."""
        count = len(self.view.services.tools.enabled(self.selection))
        said = f"{count} on" if count else "off"
        self.button.props(f'aria-label="Tools: {said}" title="Tools: {said}"')
        self.badge.text = str(count)
        self.badge.visible = count > 0

    def for_new_conversation(self) -> dict[str, Any]:
        """What the first message's conversation is created with: the tools, if the person changed them."""
        return {"tools": self.selection} if self.pending else {}

    async def save(self, selection: list[str]) -> bool:
        """Store the selection (an open chat) or keep it for the first message (a new one); False if refused."""
        view = self.view
        if view.conversation is None:
            self.selection, self.pending = selection, True
        elif await view.change_settings(tools=selection):
            assert view.conversation is not None
            self.selection = list(view.conversation.tools or [])
        else:
            return False
        self._show()
        return True

    def open(self) -> None:
        """The dialog, made at the first click and filled afresh at each (servers come and go)."""
        if self.dialog is None:
            with self.view.box.footer, ui.dialog().props('aria-label="Tools for this chat"') as dialog:
                self.dialog = dialog, ui.card().classes("chatui-dialog chatui-tools-dialog").mark("tools-dialog")
        dialog, card = self.dialog
        card.clear()
        self._show()  # servers connect in the background: the count when the page was built may be out of date
        servers = self.view.services.tools.servers()
        with card:
            ui.label("Tools for this chat").classes("text-lg font-medium").props("role=heading aria-level=2")
            ui.label("The model may call the tools ticked here. One that asks first waits for your Allow.").classes(
                "text-sm"
            )
            for server in servers:
                ServerChoice(self, server)
            with ui.row().classes("w-full justify-end"):
                ui.button("Done", on_click=dialog.close).props("unelevated no-caps").mark("tools-done")
        dialog.open()


class ServerChoice:
    """One server's checkboxes: its own (all its tools), then one per tool (the chat's picker, the default in
    Settings: `chatui.ui.tool_settings`)."""

    def __init__(self, picker: Chooser, server: ServerInfo) -> None:
        self.picker, self.server = picker, server
        self._syncing = False
        whole = f"{server.name}:*"
        chosen = picker.selection
        with ui.column().classes("chatui-tools-server gap-0 w-full").mark(f"tools-server-{server.name}"):
            self.all = ui.checkbox(f"{server_label(server)}: all tools", value=whole in chosen)
            self.all.mark(f"tools-{server.name}").on_value_change(self._all_changed)
            if server.approval == "always":
                ui.label("Asks first: each call waits for your Allow.").classes("chatui-muted text-xs ml-10")
            self.tools: dict[str, ui.checkbox] = {}
            listed = [(tool.id, tool.name, tool.description) for tool in server.tools]
            if not server.available:  # what the chat chose of it stays chosen, greyed, until it is back
                self.all.disable()
                reason = server.error or "still connecting"
                ui.label(f"Unavailable: {reason}.").classes("chatui-muted text-xs ml-10").mark("tools-unavailable")
                prefix = f"{server.name}:"
                listed = [(e, e[len(prefix) :], "") for e in chosen if e.startswith(prefix) and e != whole]
            for tool_id, name, description in listed:
                box = ui.checkbox(name, value=tool_id in chosen or whole in chosen).classes("ml-6")
                box.mark(f"tool-{tool_id}").on_value_change(self._changed)
                if description:
                    ui.label(short(description)).classes("chatui-muted text-xs ml-16")
                if not server.available or whole in chosen:
                    box.disable()
                self.tools[tool_id] = box

    async def _all_changed(self) -> None:
        """All the server's tools on (each box ticked and fixed) or off (each cleared)."""
        self._syncing = True
        try:
            for box in self.tools.values():
                box.value = self.all.value
                box.set_enabled(self.server.available and not self.all.value)
        finally:
            self._syncing = False
        await self._changed()

    async def _changed(self) -> None:
        """A box was ticked or cleared: the whole selection is stored again, this server's part from its boxes."""
        if self._syncing:
            return
        prefix = f"{self.server.name}:"
        mine = [f"{prefix}*"] if self.all.value else [tool_id for tool_id, box in self.tools.items() if box.value]
        others = [entry for entry in self.picker.selection if not entry.startswith(prefix)]
        await self.picker.save(others + mine)
