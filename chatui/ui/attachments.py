"""The files of a message in its bubble: images as small thumbnails that open the full image in a new tab, other files
as chips that download, and a file's note (what the model was not sent of it) under its chip.

All of it is one HTML element (escaped here, so no sanitizer runs): a page of a long conversation builds dozens of
bubbles, and each NiceGUI element costs a few hundred microseconds. The thumbnails load lazily, straight from
`GET /api/files/{id}` (the owner's session cookie), and carry the image's size so the page does not jump as they come.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

from nicegui import ui

from chatui.files.sniff import IMAGE_TYPES
from storage.files import StoredFile

IMAGE_MEDIA_TYPES = frozenset(IMAGE_TYPES.values())
THUMB_PX = 160
"""The thumbnail's longer side, in CSS pixels (the browser scales the stored image down)."""
ICONS = {"application/pdf": "picture_as_pdf"}
FILES_URL = "/api/files"


def size_text(size: int) -> str:
    """A file's size as people read it: 512 B, 14 KB, 3.2 MB."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def files_html(files: Sequence[StoredFile], notes: Mapping[str, str] | None = None, base: str = FILES_URL) -> str:
    """The markup of a message's files (thumbnails first, in their order, then the other files), each served from
    `base` (the owner's `/api/files`, or a share link's own route)."""
    notes = notes or {}
    thumbs = [_thumb(f, base) for f in files if f.media_type in IMAGE_MEDIA_TYPES]
    chips = [_chip(f, notes.get(f.id), base) for f in files if f.media_type not in IMAGE_MEDIA_TYPES]
    notes_of_images = [_note(notes[f.id]) for f in files if f.media_type in IMAGE_MEDIA_TYPES and f.id in notes]
    return (
        '<div class="chatui-files" data-testid="message-files">'
        + (f'<div class="chatui-thumbs">{"".join(thumbs)}</div>' if thumbs else "")
        + "".join(chips)
        + "".join(notes_of_images)
        + "</div>"
    )


def message_files(
    files: Sequence[StoredFile], notes: Mapping[str, str] | None = None, base: str = FILES_URL
) -> ui.html:
    """A message's files, in the current container (the caller puts it in the bubble)."""
    return ui.html(files_html(files, notes, base), sanitize=False).classes("chatui-files-block").mark("message-files")


def _thumb(f: StoredFile, base: str) -> str:
    url = f"{base}/{html.escape(f.id, quote=True)}"
    name = html.escape(f.name, quote=True)
    width, height = _fitted(f.width, f.height)
    size = f' width="{width}" height="{height}"' if width and height else ""
    return (
        f'<a class="chatui-thumb" href="{url}" target="_blank" rel="noopener" title="{name}"'
        f' aria-label="Open image {name} ({size_text(f.size)})">'
        f'<img src="{url}" alt="{name}" loading="lazy" decoding="async"{size}></a>'
    )


def _chip(f: StoredFile, note: str | None, base: str) -> str:
    url = f"{base}/{html.escape(f.id, quote=True)}"
    name = html.escape(f.name, quote=True)
    icon = ICONS.get(f.media_type, "description")
    return (
        f'<a class="chatui-file-chip" href="{url}" download="{name}" title="Download {name}">'
        f'<i class="material-icons" aria-hidden="true">{icon}</i>'
        f'<span class="chatui-file-name">{name}</span>'
        f'<span class="chatui-file-size">{size_text(f.size)}</span></a>' + (_note(note) if note else "")
    )


def _note(note: str) -> str:
    return f'<div class="chatui-file-note">{html.escape(note)}</div>'


def _fitted(width: int | None, height: int | None) -> tuple[int | None, int | None]:
    """The thumbnail's box for an image of this size: its longer side `THUMB_PX` at most, proportions kept."""
    if not width or not height:
        return (None, None)
    scale = min(1.0, THUMB_PX / max(width, height))
    return (max(1, round(width * scale)), max(1, round(height * scale)))
