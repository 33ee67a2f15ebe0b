"""The dialogs a conversation's menus open (the sidebar's row menu and the chat header's): rename, delete with Undo."""

from __future__ import annotations

from nicegui import ui

from chatui.bootstrap import Services
from chatui.conversations.errors import ConversationError, ConversationNotFound
from chatui.ui import dialogs
from chatui.ui.undo import offer_undo
from storage import Conversation


def export_url(conversation_id: str) -> str:
    return f"/api/conversations/{conversation_id}/export?format=markdown"


def page_level() -> ui.element:
    """Where a dialog opened from a menu goes: the page's layout, since a closed menu unmounts what it holds."""
    return ui.context.client.layout


async def rename_dialog(services: Services, user_id: str, conversation: Conversation) -> Conversation | None:
    """Ask for a new title and store it; the updated conversation, or None if cancelled or gone."""
    with page_level():
        title = await dialogs.prompt(
            "Rename conversation", "Title", "Save", value=conversation.title or "", marker="save-title"
        )
    if title is None or not title.strip():
        return None
    try:
        return await services.conversations.rename(user_id, conversation.id, title)
    except ConversationError as exc:
        ui.notify(exc.message, type="warning")
        return None


async def delete_dialog(services: Services, user_id: str, conversation_id: str) -> str | None:
    """Ask, then delete the conversation (a reply streaming in it is stopped first) with an Undo offer; the undo
    token if it was deleted."""
    with page_level():
        confirmed = await dialogs.confirm(
            "Delete conversation?",
            "This deletes the conversation and all its messages.",
            "Delete",
            danger=True,
            marker="confirm-delete",
        )
    if not confirmed:
        return None
    try:
        token = await services.conversations.delete(user_id, conversation_id, undo=True)
    except ConversationNotFound:
        return None
    assert token is not None
    await offer_undo(services, user_id, token)  # a few seconds to take it back (chatui.ui.undo)
    return token
