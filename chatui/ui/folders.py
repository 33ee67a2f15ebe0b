"""The sidebar's folders and the dialogs that file conversations: move to a folder, tags.

Folders open and close (`ui.expansion`); a folder's conversations are read when it is first opened, a page of
`PAGE_SIZE` (most folders stay closed, and cost their header only). A conversation is dragged onto a folder (rows
and folders carry `data-conversation` / `data-folder`; `chatui.js` turns a drop into the page event `chatui_move`),
or moved with its menu's **Move to folder…**, for keyboard and phone users.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from nicegui import ui

from chatui.bootstrap import Services
from chatui.conversations.errors import ConversationError
from chatui.ui import dialogs
from storage import Conversation, ListFilter
from storage.models import Folder

PAGE_SIZE = 50
NO_FOLDER = ""


async def choose_folder(folders: Sequence[Folder], current: str | None, title: str) -> str | None:
    """The folder picked (`NO_FOLDER` for none), or None when cancelled."""
    names = {f.id: (f"— {f.name}" if f.parent_id else f.name) for f in folders}
    options = {NO_FOLDER: "No folder", **names}
    with ui.dialog() as dialog, ui.card().classes("chatui-dialog"):
        ui.label(title).classes("text-lg font-medium").props("role=heading aria-level=2")
        picked = ui.select(options, value=current or NO_FOLDER, label="Folder").props("outlined dense")
        picked.classes("w-full").mark("folder-choice")
        with ui.row().classes("w-full justify-end gap-2"):
            ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
            ui.button("Move", on_click=lambda: dialog.submit(picked.value)).props("unelevated no-caps").mark(
                "move-to-folder"
            )
    result = await dialog
    dialog.delete()
    return result if isinstance(result, str) else None


async def ask_tags(current: Sequence[str]) -> list[str] | None:
    """The tags typed (comma-separated), or None when cancelled."""
    value = await dialogs.prompt(
        "Tags", "Tags, separated by commas", "Save", value=", ".join(current), marker="save-tags"
    )
    if value is None:
        return None
    return [t for t in (part.strip() for part in value.split(",")) if t]


class FolderTree:
    """The "Folders" heading (with New folder) and one expansion a folder; `row` builds a conversation's row (the
    sidebar's own, so a filed conversation looks and acts the same)."""

    def __init__(
        self,
        services: Services,
        user_id: str,
        row: Callable[[Conversation, list[str]], None],
        on_changed: Callable[[], Awaitable[None]],
    ) -> None:
        self.services = services
        self.user_id = user_id
        self.row = row
        self.on_changed = on_changed
        self.folders: list[Folder] = []
        self.opened: set[str] = set()

    def build(self) -> None:
        with ui.row().classes("w-full items-center no-wrap q-pt-sm"):
            ui.label("Folders").classes("text-xs chatui-muted q-pl-sm col")
            add = ui.button(icon="create_new_folder", on_click=self.create).props("flat round dense size=sm")
            add.props["aria-label"] = "New folder"
            add.mark("new-folder")
        self.box = ui.column().classes("w-full gap-0").mark("folders")

    async def refresh(self) -> None:
        self.folders = await self.services.organizer.folders(self.user_id)
        self.box.clear()
        with self.box:
            for folder in (f for f in self.folders if f.parent_id is None):
                self._folder(folder, [f for f in self.folders if f.parent_id == folder.id])

    def _folder(self, folder: Folder, inside: list[Folder]) -> None:
        with (
            ui.expansion(folder.name, icon="folder", value=folder.id in self.opened)
            .props("dense dense-toggle header-class=chatui-folder-header")
            .classes("w-full chatui-folder-drop")
            .mark(f"folder folder-{folder.id}") as expansion
        ):
            expansion.props["data-folder"] = folder.id
            for child in inside:
                self._folder(child, [])
            body = ui.column().classes("w-full gap-0 q-pl-sm")
            with ui.row().classes("w-full justify-end gap-0"):
                rename = ui.button(icon="edit", on_click=lambda f=folder: self.rename(f))
                rename.props("flat round dense size=xs").props["aria-label"] = f"Rename folder {folder.name}"
                delete = ui.button(icon="folder_delete", on_click=lambda f=folder: self.delete(f))
                delete.props("flat round dense size=xs").props["aria-label"] = f"Delete folder {folder.name}"
                delete.mark("delete-folder")

        async def toggled() -> None:
            if expansion.value:
                self.opened.add(folder.id)
                await self._fill(folder.id, body)
            else:
                self.opened.discard(folder.id)

        expansion.on_value_change(toggled)
        if folder.id in self.opened:
            ui.timer(0, lambda: self._fill(folder.id, body), once=True)

    async def _fill(self, folder_id: str, body: ui.column) -> None:
        page = await self.services.conversations.list(
            self.user_id, limit=PAGE_SIZE, only=ListFilter(folder_id=folder_id)
        )
        body.clear()
        with body:
            for conversation in page.conversations:
                self.row(conversation, page.tags.get(conversation.id, []))
            if not page.conversations:
                ui.label("Empty: drag a conversation here.").classes("chatui-muted text-xs q-pa-xs")

    async def create(self) -> None:
        name = await dialogs.prompt("New folder", "Name", "Create", marker="create-folder")
        if name and name.strip():
            await self._do(self.services.organizer.create_folder(self.user_id, name))

    async def rename(self, folder: Folder) -> None:
        name = await dialogs.prompt("Rename folder", "Name", "Save", value=folder.name, marker="save-folder")
        if name and name.strip():
            await self._do(self.services.organizer.update_folder(self.user_id, folder.id, name=name))

    async def delete(self, folder: Folder) -> None:
        if await dialogs.confirm(
            "Delete folder?",
            f"“{folder.name}” is deleted; the conversations in it are kept, in no folder.",
            "Delete",
            danger=True,
            marker="confirm-delete-folder",
        ):
            await self._do(self.services.organizer.delete_folder(self.user_id, folder.id))

    async def _do(self, change: Awaitable[object]) -> None:
        try:
            await change
        except ConversationError as exc:
            ui.notify(exc.message, type="warning")
        await self.on_changed()
