"""The sidebar's list of conversations: newest first, one bounded page at a time, filtered by title, grouped by day.

An account may hold thousands of conversations; the page builds only the first `PAGE_SIZE` rows and fetches the next
page (keyset, `ConversationRepository.list_conversations`) when its "Show more" button comes near the viewport
(`chatui.autoload` in `chatui/ui/static/chatui.js`) or is clicked. Each row has its own menu (Rename, Delete, Export); a
row's menu is built when it is opened, so a row costs three elements.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from nicegui import ui

from chatui.bootstrap import Services
from chatui.conversations.errors import ConversationError, ConversationNotFound
from chatui.ui import dialogs
from chatui.ui.undo import offer_undo
from storage import Conversation, SignedIn

PAGE_SIZE = 50
GROUPS = ("Today", "Yesterday", "Previous 7 days", "Older")


def day_group(updated_at: datetime, now: datetime) -> str:
    """Which heading a conversation last active at `updated_at` goes under, by calendar days in `now`'s zone."""
    days = (now.date() - updated_at.astimezone(now.tzinfo).date()).days
    if days <= 0:
        return "Today"
    if days == 1:
        return "Yesterday"
    if days <= 7:
        return "Previous 7 days"
    return "Older"


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


class Sidebar:
    """The filter box, the grouped rows and "Show more". `on_renamed`/`on_deleted` (with the undo token) tell the page
    about its own conversation; `refresh()` starts again from the newest (after a send moved one to the top)."""

    def __init__(
        self,
        services: Services,
        signed_in: SignedIn,
        current_id: str | None,
        on_renamed: Callable[[Conversation], None],
        on_deleted: Callable[[str], Awaitable[None]],
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.services = services
        self.user_id = signed_in.user.id
        self.current_id = current_id
        self.on_renamed = on_renamed
        self.on_deleted = on_deleted
        self.page_size = page_size
        self.cursor: str | None = None
        self.group: str | None = None
        self.loading = False
        self.filter_text = ""
        self.menus: dict[int, ui.menu] = {}
        self.top: tuple[str, str | None] | None = None

    def build(self) -> None:
        self.filter = (
            ui.input(placeholder="Search conversations", on_change=self._filter_changed)
            .props('dense outlined clearable debounce=250 aria-label="Search conversations"')
            .classes("w-full mb-1")
            .mark("conversation-filter")
        )
        with self.filter.add_slot("prepend"):
            ui.icon("search")
        self.list = ui.list().props("dense").classes("w-full").mark("conversation-list")
        self.empty = ui.label().classes("text-grey-6 text-sm q-pa-sm").mark("conversation-list-empty")
        self.more = (
            ui.button("Show more", on_click=self.load_more)
            .props("flat dense no-caps")
            .classes("w-full text-grey-7 chatui-autoload")
            .mark("more-conversations")
        )
        self.more.visible = False

    async def refresh(self) -> None:
        self.list.clear()
        self.menus.clear()
        self.cursor, self.group = None, None
        await self.load_more(first=True)

    async def moved_to_top(self, conversation: Conversation) -> None:
        """After a send: the conversation is now the newest; rebuild only if the list does not show it first."""
        if self.top != (conversation.id, conversation.title) or self.filter_text:
            await self.refresh()

    def set_current(self, conversation_id: str | None) -> None:
        self.current_id = conversation_id

    async def load_more(self, first: bool = False) -> None:
        if self.loading or (not first and self.cursor is None):
            return
        self.loading = True
        try:
            page = await self.services.conversations.list(
                self.user_id, limit=self.page_size, cursor=self.cursor, title_contains=self.filter_text or None
            )
        finally:
            self.loading = False
        now = datetime.now().astimezone()
        with self.list:
            for conversation in page.conversations:
                group = day_group(conversation.updated_at, now)
                if group != self.group:
                    self.group = group
                    ui.item_label(group).props("header").classes("text-xs q-pt-sm q-pb-xs").mark("conversation-group")
                self._row(conversation)
        if first:
            self.top = (page.conversations[0].id, page.conversations[0].title) if page.conversations else None
        self.cursor = page.next_cursor
        self.more.visible = page.next_cursor is not None
        self.more.props["data-loads"] = int(self.more.props.get("data-loads", 0)) + 1  # chatui.js: "the page is in"
        self.more.update()
        if first and not page.conversations:
            self.empty.text = "No conversation matches." if self.filter_text else "No conversations yet."
        self.empty.visible = first and not page.conversations

    def _row(self, conversation: Conversation) -> None:
        active = conversation.id == self.current_id
        with (
            ui.item(on_click=lambda c=conversation: ui.navigate.to(f"/chat/{c.id}"))
            .props(f"clickable {'active' if active else ''}")
            .classes("rounded-borders conversation-row")
            .mark("conversation-item")
        ):
            # three elements a row (the item, its title, its menu button): a page of them is built on every load
            ui.item_section(conversation.title or "New chat").classes("ellipsis block min-w-0")
            menu_button = ui.button(icon="more_horiz").props("flat round dense size=sm").classes("self-center")
            menu_button.props["aria-label"] = f"Actions for {conversation.title or 'New chat'}"
            menu_button.mark(f"row-menu row-menu-{conversation.id}")
            menu_button.on_click(lambda c=conversation, b=menu_button: self._open_menu(c, b))
            menu_button.on("click.stop", js_handler="() => {}")  # the row under it must not open the chat

    def _open_menu(self, conversation: Conversation, anchor: ui.button) -> None:
        """A row's menu, built the first time it is opened (most rows never are)."""
        menu = self.menus.get(anchor.id)
        if menu is not None:
            menu.open()
            return
        with anchor, ui.menu() as menu:
            ui.menu_item("Rename", on_click=lambda: self._rename(conversation)).mark("rename-conversation")
            ui.menu_item("Export", on_click=lambda: ui.navigate.to(export_url(conversation.id))).mark(
                "export-conversation"
            )
            ui.menu_item("Delete", on_click=lambda: self._delete(conversation.id)).mark("delete-conversation")
        self.menus[anchor.id] = menu
        menu.open()

    async def _rename(self, conversation: Conversation) -> None:
        updated = await rename_dialog(self.services, self.user_id, conversation)
        if updated is not None:
            if updated.id == self.current_id:
                self.on_renamed(updated)
            await self.refresh()

    async def _delete(self, conversation_id: str) -> None:
        token = await delete_dialog(self.services, self.user_id, conversation_id)
        if token is not None:
            if conversation_id == self.current_id:
                await self.on_deleted(token)
            else:
                await self.refresh()

    async def _filter_changed(self) -> None:
        text = (self.filter.value or "").strip()[:200]
        if text != self.filter_text:
            self.filter_text = text
            await self.refresh()
