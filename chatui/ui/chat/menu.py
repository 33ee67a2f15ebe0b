"""The open conversation's menu in the chat page's header: Rename, Chat settings, Export (Markdown, JSON), Delete."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nicegui import ui

from chatui.conversations.errors import ConversationError
from chatui.ui import dialogs
from chatui.ui.sidebar import delete_dialog, rename_dialog

if TYPE_CHECKING:
    from chatui.ui.chat.view import ChatView


class ConversationMenu:
    """Shown once the page has a conversation (a new chat has none until its first message)."""

    def __init__(self, view: ChatView) -> None:
        self.view = view
        with (
            ui.button(icon="more_vert")
            .props("flat round dense aria-label='Conversation menu'")
            .mark("conversation-menu") as self.button,
            ui.menu(),
        ):
            ui.menu_item("Rename", on_click=self._rename).mark("rename")
            ui.menu_item("Chat settings", on_click=self._chat_settings).mark("chat-settings")
            ui.menu_item("Export as Markdown", on_click=lambda: self._export("markdown")).mark("export-markdown")
            ui.menu_item("Export as JSON", on_click=lambda: self._export("json")).mark("export-json")
            ui.menu_item("Delete", on_click=self._delete).mark("delete")
        self.button.visible = view.conversation is not None

    def _export(self, kind: str) -> None:
        """The browser downloads the export from the API, which checks the session cookie itself."""
        if self.view.conversation is not None:
            ui.download.from_url(f"/api/conversations/{self.view.conversation.id}/export?format={kind}")

    async def _chat_settings(self) -> None:
        """The conversation's system prompt and temperature (the next reply uses them)."""
        view = self.view
        if view.conversation is None:
            return
        conversation = await view.conversations.get(view.user.id, view.conversation.id)
        temperature = "" if conversation.temperature is None else f"{conversation.temperature:g}"

        async def save(values: dict[str, str]) -> str | None:
            text = values["temperature"].strip().replace(",", ".")
            try:
                number = float(text) if text else None
            except ValueError:
                return "The temperature must be a number from 0 to 2, or empty for the model's default."
            try:
                view.conversation = await view.conversations.update_settings(
                    view.user.id, conversation.id, system_prompt=values["system_prompt"], temperature=number
                )
            except ConversationError as exc:
                return exc.message
            return None

        await dialogs.form(
            "Chat settings",
            [
                dialogs.Field("system_prompt", "System prompt", conversation.system_prompt or ""),
                dialogs.Field("temperature", "Temperature", temperature),
            ],
            "Save",
            text="The system prompt and temperature of this conversation's next replies (empty: the model's own).",
            check=save,
            marker="save-settings",
        )

    async def _rename(self) -> None:
        view = self.view
        if view.conversation is not None:
            updated = await rename_dialog(view.services, view.user.id, view.conversation)
            if updated is not None:
                view.renamed(updated)
                await view.sidebar.refresh()

    async def _delete(self) -> None:
        view = self.view
        if view.conversation is not None:
            token = await delete_dialog(view.services, view.user.id, view.conversation.id)
            if token is not None:
                await view.deleted(token)
