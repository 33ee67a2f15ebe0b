"""The open conversation's menu in the chat page's header: Rename, Chat settings, Share, Export (Markdown, JSON),
Delete."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from nicegui import ui

from chatui.ui.conversation_dialogs import delete_dialog, rename_dialog
from chatui.ui.share_links import share_dialog

if TYPE_CHECKING:
    from chatui.ui.chat.view import ChatView


class ConversationMenu:
    """Shown once the page has a conversation (a new chat has none until its first message)."""

    def __init__(self, view: ChatView) -> None:
        # A weak reference: the view holds this menu, and a cycle would keep a closed page for the full collection.
        self._view = weakref.ref(view)
        with (
            ui.button(icon="more_vert")
            .props("flat round dense aria-label='Conversation menu'")
            .mark("conversation-menu") as self.button,
            ui.menu(),
        ):
            ui.menu_item("Rename", on_click=self._rename).mark("rename")
            ui.menu_item("Chat settings", on_click=self._chat_settings).mark("chat-settings")
            ui.menu_item("Share", on_click=self._share).mark("share")
            ui.menu_item("Export as Markdown", on_click=lambda: self._export("markdown")).mark("export-markdown")
            ui.menu_item("Export as JSON", on_click=lambda: self._export("json")).mark("export-json")
            ui.menu_item("Delete", on_click=self._delete).mark("delete")
        self.button.visible = view.conversation is not None

    @property
    def view(self) -> ChatView:
        view = self._view()
        if view is None:  # only a closed page's menu, whose clicks no longer arrive
            raise RuntimeError("the page of this menu is gone")
        return view

    def _export(self, kind: str) -> None:
        """The browser downloads the export from the API, which checks the session cookie itself."""
        if self.view.conversation is not None:
            ui.download.from_url(f"/api/conversations/{self.view.conversation.id}/export?format={kind}")

    async def _chat_settings(self) -> None:
        """The conversation's chat settings (`chatui.ui.chat.settings`; also the button beside the message box)."""
        await self.view.settings.open()

    async def _share(self) -> None:
        """A read-only link to the conversation as it is now (`chatui.ui.share_links`)."""
        view = self.view
        if view.conversation is not None:
            await share_dialog(view.services, view.user.id, view.conversation.id)

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
