"""The sidebar's list of conversations: pinned first, then newest first, one bounded page at a time, filtered by
title or tag, grouped by day; the folders above it (`chatui.ui.folders`), the Archived view, and Select mode.

An account may hold thousands of conversations; the page builds only the first `PAGE_SIZE` rows and fetches the next
page (keyset, `ConversationRepository.list_conversations`) when its "Show more" button comes near the viewport
(`chatui.autoload` in `chatui/ui/static/chatui.js`) or is clicked. Each row has its own menu (Rename, Pin, Move to
folder, Tags, Archive, Share, Export, Delete); a row's menu is built when it is opened, so a row costs three elements.
The list shows the conversations in no folder (a folder's are under it), all of them while a title or tag filters.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime

from nicegui import events, ui

from chatui.bootstrap import Services
from chatui.conversations.errors import ConversationError, ConversationNotFound
from chatui.ui import dialogs
from chatui.ui.conversation_dialogs import delete_dialog, export_url, page_level, rename_dialog
from chatui.ui.folders import NO_FOLDER, FolderTree, ask_tags, choose_folder
from chatui.ui.share_links import share_dialog
from chatui.ui.weak import weakly
from chatui.ui.wording import counted
from storage import Conversation, ListFilter, SignedIn

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
        self.tag: str | None = None
        self.archived_view = False
        self.selecting = False
        self.selected: dict[str, ui.item] = {}
        self.rows: dict[str, ui.item] = {}
        self.folders = FolderTree(services, self.user_id, weakly(self._row), weakly(self.refresh))  # no cycle

    def build(self) -> None:
        self.filter = (
            ui.input(placeholder="Search conversations", on_change=self._filter_changed)
            .props('dense outlined clearable debounce=250 aria-label="Search conversations"')
            .classes("w-full mb-1")
            .mark("conversation-filter")
        )
        with self.filter.add_slot("prepend"):
            ui.icon("search")
        self.tags_row = ui.row().classes("w-full gap-1 q-py-xs").mark("tag-chips")
        with ui.row().classes("w-full gap-1 no-wrap"):
            self.archive_button = (
                ui.button("Archived", icon="inventory_2", on_click=self._toggle_archived)
                .props("flat dense no-caps size=sm")
                .mark("archived-view")
            )
            self.select_button = (
                ui.button("Select", icon="checklist", on_click=self._toggle_select)
                .props("flat dense no-caps size=sm")
                .mark("select-mode")
            )
        self.bulk = ui.row().classes("w-full gap-1 items-center chatui-bulk").mark("bulk-actions")
        self.bulk.visible = False
        with self.bulk:
            self.bulk_count = ui.label("0 selected").classes("text-xs col")
            for label, icon, action in (
                ("Archive", "inventory_2", self._bulk_archive),
                ("Move", "drive_file_move", self._bulk_move),
                ("Export", "download", self._bulk_export),
                ("Delete", "delete", self._bulk_delete),
            ):
                button = ui.button(icon=icon, on_click=action).props("flat round dense size=sm")
                button.props["aria-label"] = f"{label} selected"
                button.mark(f"bulk-{label.lower()}")
        self.folders_box = ui.column().classes("w-full gap-0")
        with self.folders_box:
            self.folders.build()
        self.heading = (
            ui.label("Chats").classes("text-xs chatui-muted q-pl-sm q-pt-sm chatui-folder-drop").mark("list-heading")
        )
        self.heading.props["data-folder"] = NO_FOLDER
        ui.on("chatui_move", self._dropped)
        self.list = ui.list().props("dense").classes("w-full").mark("conversation-list")
        self.empty = ui.label().classes("chatui-muted text-sm q-pa-sm").mark("conversation-list-empty")
        self.more = (
            ui.button("Show more", on_click=self.load_more)
            .props("flat dense no-caps")
            .classes("w-full chatui-muted chatui-autoload")
            .mark("more-conversations")
        )
        self.more.visible = False

    async def refresh(self) -> None:
        """Start again from the top: the list first, then the folders and the tag chips."""
        self.list.clear()
        self.menus.clear()
        self.cursor, self.group = None, None
        self.selected.clear()
        self.rows.clear()
        self._show_bulk()
        self.folders_box.visible = not (self.archived_view or self.tag or self.filter_text)
        self.heading.text = "Archived" if self.archived_view else f"Tag: {self.tag}" if self.tag else "Chats"
        if self.archived_view:
            self.archive_button.props("color=primary").classes(remove="chatui-muted")
        else:  # the theme's muted grey: Quasar's greys do not reach 4.5:1 on the drawer in both themes
            self.archive_button.props(remove="color").classes(add="chatui-muted")
        await self.load_more(first=True)
        if self.folders_box.visible:
            await self.folders.refresh()
        await self._tags()

    def _filter(self) -> ListFilter:
        if self.archived_view:
            return ListFilter(archived=True)
        if self.filter_text:
            return ListFilter()
        if self.tag:
            return ListFilter(tag=self.tag)
        return ListFilter(folder_id=NO_FOLDER)

    async def _tags(self) -> None:
        tags = await self.services.organizer.user_tags(self.user_id)
        self.tags_row.clear()
        self.tags_row.visible = bool(tags)
        with self.tags_row:
            for tag, count in tags[:12]:
                chip = ui.chip(tag, on_click=lambda t=tag: self._pick_tag(t), selectable=True, selected=tag == self.tag)
                chip.props("dense outline size=sm").props["aria-label"] = f"Tag {tag}, {counted(count, 'conversation')}"
                chip.mark(f"tag-chip tag-{tag}")

    async def _pick_tag(self, tag: str) -> None:
        self.tag = None if self.tag == tag else tag
        await self.refresh()

    async def _toggle_archived(self) -> None:
        self.archived_view = not self.archived_view
        await self.refresh()

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
                self.user_id,
                limit=self.page_size,
                cursor=self.cursor,
                title_contains=self.filter_text or None,
                only=self._filter(),
            )
        finally:
            self.loading = False
        now = datetime.now().astimezone()
        with self.list:
            for conversation in page.conversations:
                group = "Pinned" if conversation.pinned else day_group(conversation.updated_at, now)
                if group != self.group:
                    self.group = group
                    ui.item_label(group).props("header").classes("text-xs q-pt-sm q-pb-xs").mark("conversation-group")
                self._row(conversation, page.tags.get(conversation.id, []))
        if first:
            self.top = (page.conversations[0].id, page.conversations[0].title) if page.conversations else None
        self.cursor = page.next_cursor
        self.more.visible = page.next_cursor is not None
        self.more.props["data-loads"] = int(self.more.props.get("data-loads", 0)) + 1  # chatui.js: "the page is in"
        self.more.update()
        if first and not page.conversations:
            self.empty.text = (
                "No conversation matches."
                if self.filter_text or self.tag
                else "Nothing archived."
                if self.archived_view
                else "No conversations yet."
            )
        self.empty.visible = first and not page.conversations

    def _row(self, conversation: Conversation, tags: list[str] | None = None) -> None:
        active = conversation.id == self.current_id
        with (
            ui.item(on_click=lambda c=conversation: self._clicked(c))
            .props(f"clickable {'active' if active else ''}")
            .classes("rounded-borders conversation-row")
            .mark(f"conversation-item row-{conversation.id}") as item
        ):
            self.rows[conversation.id] = item
            item.props["draggable"] = "true"  # onto a folder (chatui.js)
            item.props["data-conversation"] = conversation.id
            item.props["data-tags"] = ",".join(tags or [])
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
            ui.menu_item(
                "Unpin" if conversation.pinned else "Pin",
                on_click=lambda: self._organize([conversation.id], pinned=not conversation.pinned),
            ).mark("pin-conversation")
            folder_id = conversation.folder_id
            move = ui.menu_item("Move to folder…", on_click=lambda: self._move([conversation.id], folder_id))
            move.mark("move-conversation")
            ui.menu_item("Tags…", on_click=lambda: self._edit_tags(conversation)).mark("tag-conversation")
            ui.menu_item(
                "Unarchive" if conversation.archived else "Archive",
                on_click=lambda: self._organize([conversation.id], archived=not conversation.archived),
            ).mark("archive-conversation")
            share = ui.menu_item("Share", on_click=lambda: share_dialog(self.services, self.user_id, conversation.id))
            share.mark("share-conversation")
            ui.menu_item("Export", on_click=lambda: ui.navigate.to(export_url(conversation.id))).mark(
                "export-conversation"
            )
            ui.menu_item("Delete", on_click=lambda: self._delete(conversation.id)).mark("delete-conversation")
        self.menus[anchor.id] = menu
        menu.open()

    def _clicked(self, conversation: Conversation) -> None:
        if not self.selecting:
            ui.navigate.to(f"/chat/{conversation.id}")
            return
        item = self.rows.get(conversation.id)
        if item is None:
            return
        chosen = self.selected.pop(conversation.id, None) is None
        if chosen:
            self.selected[conversation.id] = item
        item.classes(add="chatui-selected" if chosen else "", remove="" if chosen else "chatui-selected")
        item.props["aria-selected"] = "true" if chosen else "false"
        item.update()
        self._show_bulk()

    def _show_bulk(self) -> None:
        self.bulk.visible = self.selecting
        self.bulk_count.text = f"{len(self.selected)} selected"
        self.select_button.text = "Done" if self.selecting else "Select"

    async def _toggle_select(self) -> None:
        self.selecting = not self.selecting
        await self.refresh()

    async def _organize(self, ids: list[str], **changes: object) -> None:
        try:
            await self.services.organizer.organize(self.user_id, ids, **changes)  # type: ignore[arg-type]
        except ConversationError as exc:
            ui.notify(exc.message, type="warning")
        await self.refresh()

    async def _move(self, ids: list[str], current: str | None) -> None:
        folders = await self.services.organizer.folders(self.user_id)
        with page_level():
            chosen = await choose_folder(folders, current, "Move to folder")
        if chosen is not None:
            await self._organize(ids, folder_id=chosen or None)

    async def _edit_tags(self, conversation: Conversation) -> None:
        current = (await self.services.organizer.tags_of([conversation.id])).get(conversation.id, [])
        with page_level():
            tags = await ask_tags(current)
        if tags is not None:
            await self._organize([conversation.id], tags=tags)

    async def _dropped(self, event: events.GenericEventArguments) -> None:
        """A row dropped on a folder (or on "Chats": out of its folder)."""
        args = event.args if isinstance(event.args, dict) else {}
        conversation_id, folder_id = str(args.get("conversation", ""))[:64], str(args.get("folder", ""))[:64]
        if conversation_id:
            await self._organize([conversation_id], folder_id=folder_id or None)

    async def _bulk_archive(self) -> None:
        if self.selected:
            await self._organize(list(self.selected), archived=not self.archived_view)

    async def _bulk_move(self) -> None:
        if self.selected:
            await self._move(list(self.selected), None)

    def _bulk_export(self) -> None:
        if self.selected:
            ui.navigate.to("/api/export?" + "&".join(f"id={i}" for i in self.selected))

    async def _bulk_delete(self) -> None:
        if not self.selected:
            return
        with page_level():
            confirmed = await dialogs.confirm(
                "Delete conversations?",
                (
                    f"This deletes {counted(len(self.selected), 'conversation')} and all "
                    f"{'its' if len(self.selected) == 1 else 'their'} messages."
                ),
                "Delete",
                danger=True,
                marker="confirm-bulk-delete",
            )
        if not confirmed:
            return
        for conversation_id in list(self.selected):
            with contextlib.suppress(ConversationNotFound):
                await self.services.conversations.delete(self.user_id, conversation_id)
        if self.current_id in self.selected:
            ui.navigate.to("/")
        await self.refresh()

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
