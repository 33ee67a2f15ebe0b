"""Settings → Tools for new chats (issue 24): the tools each new conversation starts with, as `default_tools` in
`PATCH /api/settings` sets them, ticked on the same per-server checkboxes as a chat's Tools picker
(`chatui.ui.chat.tools.ServerChoice`). Saved at each change; conversations already made keep their own choice.
"""

from __future__ import annotations

from nicegui import ui

from chatui.bootstrap import Services
from chatui.conversations.errors import ConversationError
from chatui.ui.chat.tools import ServerChoice


class ToolDefaultsSection:
    def __init__(self, services: Services, user_id: str) -> None:
        self.services = services
        self.user_id = user_id
        self.selection: list[str] = []

    async def build(self) -> None:
        self.selection = await self.services.conversations.default_tools(self.user_id)
        with ui.card().classes("chatui-card w-full gap-2").mark("tool-defaults"):
            ui.label("Tools for new chats").classes("text-base font-medium").props("role=heading aria-level=2")
            ui.label(
                "The tools a model may call in each new conversation. A chat's Tools button changes them for that "
                "chat; conversations you already have keep theirs."
            ).classes("text-sm")
            for server in self.services.tools.servers():
                ServerChoice(self, server)

    async def save(self, selection: list[str]) -> bool:
        try:
            self.selection = await self.services.conversations.set_default_tools(self.user_id, selection)
        except ConversationError as exc:
            ui.notify(exc.message, type="warning")
            return False
        return True
