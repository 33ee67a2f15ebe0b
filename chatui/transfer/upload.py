"""Receiving an import's upload: the `file` field of a multipart body, streamed to a file of its own.

Nothing is parsed here but the multipart framing (`chatui.files.multipart`, the parser every upload goes through);
the file's bytes go to disk in 1 MB batches off the loop. Its first bytes alone say whether it can be an export at
all (JSON or a zip), so a text file or an image is refused at once with 400; everything else about the file is found
out by the import's own process (`chatui.transfer.worker`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from enum import StrEnum
from pathlib import Path

from chatui.files.multipart import FormRefused, read_file_field
from chatui.transfer.reading import SNIFF_BYTES, looks_like_export


class UploadProblem(StrEnum):
    NOT_MULTIPART = "not_multipart"
    MALFORMED = "malformed"
    NO_FILE = "no_file"
    NOT_AN_EXPORT = "not_an_export"


class UploadRefused(Exception):
    """The upload is not a multipart form with one `file`: a reason, mapped to a status in `chatui.api.errors`."""

    def __init__(self, reason: UploadProblem, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


async def receive_file(content_type: str, body: AsyncIterator[bytes], path: Path) -> int:
    """Parse the multipart body as it arrives; the `file` part goes to `path`. Its size in bytes."""
    try:
        with path.open("wb") as out:
            form = await read_file_field(content_type, body, out, head_bytes=SNIFF_BYTES)
    except FormRefused as exc:  # no size limit here: the body's own limit (CHATUI_IMPORT_MAX_MB) stops it first
        raise UploadRefused(UploadProblem(exc.problem.value), exc.message) from None
    if not looks_like_export(form.head):
        raise UploadRefused(UploadProblem.NOT_AN_EXPORT, "The file is neither JSON nor a zip archive.")
    return form.size
