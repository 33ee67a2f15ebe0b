"""Presets on the chat page: the menu beside **New chat** that lists them, and a new chat that starts from one.

Choosing a preset opens a new chat at `/?preset=<id>`; that page takes the preset's model and settings as if the
person had picked them (the model picker, the Chat settings dialog and its chip, and the Tools button show them, and
can still change them), shows the preset's name on a chip above the message box, and the first message creates the
conversation with them and records the preset (`ConversationService.start(preset_id=...)`). A preset the person
cannot see (deleted, withdrawn, someone else's) leaves a plain new chat and says so.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from nicegui import ui

from chatui.conversations.presets import PresetNotFound, preset_settings
from chatui.ui.chat.settings import ChatSettings
from storage.presets import Preset

if TYPE_CHECKING:
    from chatui.ui.chat.view import ChatView


def new_chat_buttons(presets: list[Preset]) -> None:
    """**New chat**, and beside it a menu of the presets a new chat can start from (and where to manage them)."""
    with ui.row().classes("w-full no-wrap gap-1 mb-2 items-center"):
        new_chat = ui.button("New chat", icon="add", on_click=lambda: ui.navigate.to("/"))
        new_chat.props("unelevated no-caps").classes("col").mark("new-chat")
        with ui.button(icon="expand_more").props("unelevated dense").classes("chatui-preset-menu") as more:
            more.props["aria-label"] = "Start from a preset"
            more.mark("preset-menu-button")
            with ui.menu().props("auto-close").mark("preset-menu"), ui.list().props("dense"):
                ui.item_label("Start a chat with").props("header").classes("text-xs chatui-muted")
                for preset in presets:
                    with ui.item(on_click=lambda p=preset: ui.navigate.to(f"/?preset={quote(p.id)}")).mark(
                        "preset-item"
                    ):
                        with ui.item_section().props("avatar"):
                            ui.icon("public" if preset.shared else "smart_toy", size="xs")
                        ui.item_section(preset.name)
                if not presets:
                    ui.item("No presets yet").props("disable")
                ui.separator()
                ui.item("Manage presets…", on_click=lambda: ui.navigate.to("/settings#presets")).mark("manage-presets")


class PresetStart:
    """The preset a new chat starts from (`?preset=`), if any: applied to the page, then given to its first message."""

    def __init__(self, view: ChatView, preset_id: str | None) -> None:
        self._view = weakref.ref(view)  # the view holds this: no cycle to keep a closed page alive
        self.wanted = preset_id[:64] if preset_id and view.conversation is None else None
        self.preset: Preset | None = None

    async def apply(self) -> None:
        """Take the preset's model and settings as the new chat's choices, and show its name above the box."""
        view = self._view()
        if view is None or self.wanted is None:
            return
        try:
            self.preset = preset = await view.services.presets.get(view.user.id, self.wanted)
        except PresetNotFound:
            ui.notify("That preset does not exist (any more): this is a plain new chat.", type="warning")
            return
        if preset.model:
            view.model = view.picker.model = preset.model
        view.settings.pending = ChatSettings(
            system_prompt=preset.system_prompt or view.settings.default_prompt, temperature=preset.temperature
        )
        view.settings.refresh()
        if preset.tools is not None:  # the Tools button shows the preset's choice, as if the person had made it
            picker = view.tool_picker
            picker.selection, picker.pending = list(preset.tools), True
            picker._show()
        with view.box.footer, ui.row().classes("chatui-column chatui-chip-row no-wrap") as holder:
            chip = ui.chip(preset.name, icon="public" if preset.shared else "smart_toy").props("dense outline")
            chip.classes("chatui-preset-chip").mark("preset-chip")
            chip.props["title"] = "This chat starts from this preset"
        holder.move(view.box.footer, target_index=0)

    @property
    def preset_id(self) -> str | None:
        return self.preset.id if self.preset is not None else None

    def settings(self, chosen: dict[str, Any]) -> dict[str, Any]:
        """What the first message's conversation is created with: the preset's tools under the person's choices."""
        if self.preset is None:
            return chosen
        tools = {"tools": self.preset.tools} if "tools" in preset_settings(self.preset) else {}
        return {**tools, **chosen}
