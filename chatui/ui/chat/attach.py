"""The files of the message being written: the paperclip beside the message box and, above it, a chip per file with
its name, size, a remove button and the upload's progress — or the server's reason for refusing it.

The browser uploads (`static/attach.js`: the paperclip's picker, a drop anywhere on the page, an image pasted) straight
to `POST /api/files`, as any API client would; this tray only hears what became of each file ("attach" events on its
element) and keeps the ids of the ones stored, which the page sends with the message (the same engine call as the
`/ws` frame's `attachments`). Send is off while a file is still on its way, so a message never leaves without one the
person saw being added.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nicegui import events, ui

from chatui.conversations.errors import translated
from chatui.files.service import FileService
from chatui.ui.attachments import ICONS, IMAGE_MEDIA_TYPES, size_text
from chatui.ui.composer import Composer
from storage.files import StoredFile

UPLOADING, DONE, FAILED = "uploading", "done", "failed"
IMAGE_NAMES = (".png", ".jpg", ".jpeg", ".gif", ".webp")
"""Names an image goes by while its upload runs (once stored, its checked type says)."""


@dataclass
class Upload:
    """One file of the tray, as the browser last told of it."""

    key: str
    name: str
    size: int
    state: str = UPLOADING
    progress: float = 0.0
    detail: str = ""
    file_id: str | None = None
    media_type: str = ""
    chip: ui.element | None = field(default=None, repr=False)
    bar: ui.linear_progress | None = field(default=None, repr=False)


class AttachTray:
    """A tray of files: the paperclip goes first in `row`, the chips above the text in `footer`.

    The message box has one (`for_composer`); the editor of a sent message has its own, started from the message's
    files (`preload`), inside an element marked `data-attach-scope`, so that the paperclip, a drop or a paste there
    feed that tray and not the message box's (`static/attach.js`).
    """

    def __init__(
        self, row: ui.element, footer: ui.element, send_button: ui.button, max_files: int, *, scoped: bool = False
    ) -> None:
        self.max_files = max_files
        self.send_button = send_button
        self.uploads: dict[str, Upload] = {}
        self._removed: set[str] = set()  # keys of files removed here: a late word about one draws nothing again
        with row:
            self.button = (
                ui.button(icon="attach_file")
                .props(
                    "flat round dense aria-label='Attach files' title='Attach files (or drop or paste them)' "
                    "data-attach-pick"
                )
                .mark("edit-attach-button" if scoped else "attach-button")
            )
        self.button.move(row, target_index=0)
        with footer:
            self.element = ui.row().classes("chatui-column chatui-attach-tray gap-2").props("data-attach-tray")
        with self.element:
            ui.element("input").props(
                "type=file multiple tabindex=-1 aria-hidden=true data-testid=attach-input"
            ).classes("chatui-attach-input")
        self.element.move(footer, target_index=0)
        self.element.on("attach", self._heard, args=["detail"])
        self.element.mark("edit-attach-tray" if scoped else "attach-tray")
        self._show()

    @classmethod
    def for_composer(cls, box: Composer, max_files: int) -> AttachTray:
        """The message box's tray."""
        return cls(box.row, box.footer, box.send, max_files)

    def preload(self, files: Sequence[StoredFile]) -> None:
        """Chips for files already stored (a sent message's, in its editor): removable like the ones added."""
        for stored in files:
            upload = Upload(f"s-{stored.id}", stored.name, stored.size, DONE, 1.0, "", stored.id, stored.media_type)
            self.uploads[upload.key] = upload
            self._draw(upload)
        self._show()
        self.on_change()

    # -- what the page asks -------------------------------------------------------------------------------------------

    @property
    def uploading(self) -> bool:
        return any(upload.state == UPLOADING for upload in self.uploads.values())

    @property
    def file_ids(self) -> list[str]:
        """The stored files, in the order they were added."""
        return [u.file_id for u in self.uploads.values() if u.state == DONE and u.file_id is not None]

    async def stored(self, files: FileService, user_id: str) -> list[StoredFile]:
        """The stored files to send, checked again: each still the user's (`FileNotFound`), no more than allowed."""
        if not self.file_ids:
            return []
        with translated():
            return await files.attachable(user_id, self.file_ids)

    def on_change(self) -> None:
        """Send waits, off, while a file is still on its way."""
        self.send_button.set_enabled(not self.uploading)

    def clear(self) -> None:
        """The message went: the tray starts empty (refused files leave with it)."""
        for key in list(self.uploads):
            self.remove(key)

    def remove(self, key: str) -> None:
        upload = self.uploads.pop(key, None)
        if upload is None:
            return
        self._removed.add(key)
        if upload.state == UPLOADING:
            ui.run_javascript(f"window.chatuiAttach && window.chatuiAttach.abort({key!r})")
        if upload.chip is not None:
            upload.chip.delete()
        self._show()
        self.on_change()

    # -- what the browser says ----------------------------------------------------------------------------------------

    def _heard(self, event: events.GenericEventArguments) -> None:
        detail = event.args.get("detail") if isinstance(event.args, dict) else None
        if not isinstance(detail, dict) or not isinstance(detail.get("key"), str):
            return
        key = detail["key"][:64]
        if key in self._removed:
            return  # a file removed here whose upload went on meanwhile
        upload = self.uploads.get(key)
        if upload is None:  # the first word heard about this file, whichever it is: the words can come out of order
            upload = self._added(key, detail)
            if upload is None:
                return
        self._update(upload, detail)

    def _added(self, key: str, detail: dict[str, Any]) -> Upload | None:
        upload = Upload(key, str(detail.get("name") or "file")[:255], _int(detail.get("size")))
        self.uploads[key] = upload
        if sum(u.state != FAILED for u in self.uploads.values()) > self.max_files:
            ui.run_javascript(f"window.chatuiAttach && window.chatuiAttach.abort({key!r})")
            upload.state = FAILED
            upload.detail = f"A message can carry {self.max_files} files at most."
        self._draw(upload)
        self._show()
        self.on_change()
        return upload

    def _update(self, upload: Upload, detail: dict[str, Any]) -> None:
        state = detail.get("state")
        if upload.state != UPLOADING:
            return
        if state == UPLOADING:
            progress = detail.get("progress")
            if isinstance(progress, int | float) and upload.bar is not None:
                upload.progress = min(1.0, max(0.0, float(progress)))
                upload.bar.set_value(upload.progress)
            return
        if state == DONE and isinstance(detail.get("file"), dict):
            stored = detail["file"]
            upload.state, upload.file_id = DONE, str(stored.get("id", ""))[:64] or None
            upload.media_type = str(stored.get("media_type", ""))
            upload.size = _int(stored.get("size")) or upload.size
        elif state == FAILED:
            upload.state, upload.detail = FAILED, str(detail.get("detail") or "The upload failed.")[:500]
        else:
            return
        self._draw(upload)
        self.on_change()

    # -- drawing ------------------------------------------------------------------------------------------------------

    def _draw(self, upload: Upload) -> None:
        """The file's chip, drawn afresh when its upload starts and when it ends."""
        if upload.chip is None:
            with self.element:
                upload.chip = ui.element("div").mark("attach-chip")
        chip = upload.chip
        chip.clear()
        chip.classes(replace=f"chatui-upload-chip chatui-upload-{upload.state}")
        image = upload.media_type in IMAGE_MEDIA_TYPES or upload.name.lower().endswith(IMAGE_NAMES)
        with chip:
            ui.icon(_icon(upload, image)).classes("chatui-upload-icon").props("aria-hidden=true")
            with ui.column().classes("gap-0 min-w-0 grow"):
                ui.label(upload.name).classes("chatui-file-name").mark("attach-name")
                if upload.state == FAILED:
                    ui.label(upload.detail).classes("chatui-upload-reason").props("role=alert").mark("attach-refusal")
                else:
                    ui.label(size_text(upload.size)).classes("chatui-file-size")
                if upload.state == UPLOADING:
                    upload.bar = ui.linear_progress(value=upload.progress, show_value=False, size="3px").props(
                        f"aria-label='Uploading {_quoted(upload.name)}'"
                    )
                else:
                    upload.bar = None
            ui.button(icon="close", on_click=lambda key=upload.key: self.remove(key)).props(
                f"flat round dense size=sm aria-label='Remove {_quoted(upload.name)}'"
            ).mark("attach-remove")

    def _show(self) -> None:
        """An empty tray takes no room above the message box."""
        if self.uploads:
            self.element.classes(remove="chatui-attach-empty")
        else:
            self.element.classes(add="chatui-attach-empty")


def _icon(upload: Upload, image: bool) -> str:
    if upload.state == FAILED:
        return "error_outline"
    return "image" if image else ICONS.get(upload.media_type, "description")


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and value >= 0 else 0


def _quoted(name: str) -> str:
    """A file name inside a single-quoted Quasar prop."""
    return name.replace("\\", "").replace("'", "’")
