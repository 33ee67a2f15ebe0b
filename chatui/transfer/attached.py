"""The files of a chatui/1 export, stored for the importing user before the conversations that carry them.

Run in the import's own process (`chatui.transfer.worker`). Each file of the export's `files` is checked as an
upload is (`chatui.files.sniff`: by its bytes, never the type the export declares; the same size, pixel, page and
quota limits), decoded from base64 a slice at a time into a private spool file, and stored in a transaction of its
own. A refused file is reported by name and the import goes on: the messages that carried it keep their text.

Memory: ijson hands over one file's base64 as one string (at most 4/3 of `CHATUI_UPLOAD_MAX_MB` for any file this
app exported); a larger one is refused by its length before a byte is decoded. A hostile string far past that is
stopped by the import process's memory bound, like any other oversized value of the file.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chatui.files.errors import FileProblem, FileRefused
from chatui.files.receive import HEAD_BYTES, clean_name, spool_file
from chatui.files.sniff import Bounds, identify
from chatui.transfer.reading import ExportFile, read_files
from storage.database import Database
from storage.files import NewFile, QuotaExceeded, drop_unattached, store_file
from storage.transfer import AttachmentRecord, ConversationRecord

DECODE_CHARS = 4 * 256 * 1024
"""Base64 characters decoded at a time (a multiple of 4: each slice decodes on its own)."""


@dataclass(frozen=True, slots=True)
class FileBounds:
    """An upload's limits (`chatui.files.service.FileLimits`), which imported files obey too."""

    max_bytes: int
    quota_bytes: int
    max_pixels: int
    max_pages: int


class _ExportedFile(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str = Field(min_length=1, max_length=200)
    name: str = Field("file", max_length=1000)
    data: str


def store_files(
    export: ExportFile,
    db: Database,
    user_id: str,
    bounds: FileBounds,
    spool: Path,
    report: Callable[[str], None],
) -> dict[str, AttachmentRecord]:
    """Store each file of the export; the stored file of each export id (refused ones are reported and left out)."""
    stored: dict[str, AttachmentRecord] = {}
    for position, item in enumerate(read_files(export), start=1):
        try:
            exported = _ExportedFile.model_validate(item)
        except ValidationError as exc:
            report(f"File #{position}: {exc.errors()[0]['msg']}")
            continue
        if exported.id in stored:
            continue
        name = clean_name(exported.name)
        try:
            stored[exported.id] = _store(exported, name, db, user_id, bounds, spool)
        except FileRefused as exc:
            report(f"File {name!r}: {exc.message}")
        except QuotaExceeded:
            report(f"File {name!r}: your files would take more than your storage quota.")
    return stored


def attach(record: ConversationRecord, stored: dict[str, AttachmentRecord]) -> None:
    """The record's messages carry the stored files in place of the export's ids (a file not stored is left out)."""
    for message in record.messages:
        message.attachments = [stored[a.id] for a in message.attachments if a.id in stored]


def drop_unused(db: Database, user_id: str, stored: Sequence[AttachmentRecord]) -> None:
    """Delete the stored files no imported conversation took (they were all duplicates, or failed)."""
    with db.engine.begin() as connection:
        drop_unattached(connection, user_id, [file.id for file in stored])


def _store(
    exported: _ExportedFile, name: str, db: Database, user_id: str, bounds: FileBounds, spool: Path
) -> AttachmentRecord:
    if len(exported.data) * 3 // 4 > bounds.max_bytes + 2:
        limit = f"{bounds.max_bytes / (1024 * 1024):g} MB"
        raise FileRefused(FileProblem.TOO_LARGE, f"The file is larger than {limit}, the most a file may be.")
    path = spool_file(spool)
    try:
        digest, size, head = hashlib.sha256(), 0, b""
        with path.open("wb") as out:
            for start in range(0, len(exported.data), DECODE_CHARS):
                piece = _decoded(exported.data[start : start + DECODE_CHARS])
                digest.update(piece)
                out.write(piece)
                size += len(piece)
                head = head or piece[:HEAD_BYTES]
        kind = identify(path, head, name, Bounds(bounds.max_pixels, bounds.max_pages))
        new = NewFile(name, kind.media_type, size, digest.hexdigest(), kind.width, kind.height, kind.pages)
        with path.open("rb") as source, db.engine.begin() as connection:
            file = store_file(connection, user_id, new, source, quota_bytes=bounds.quota_bytes)
        return AttachmentRecord(file.id, file.name, file.media_type, file.size)
    finally:
        path.unlink(missing_ok=True)


def _decoded(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:  # binascii.Error, or characters outside ASCII
        raise FileRefused(FileProblem.UNREADABLE, "Its data is not base64.") from None
