"""Why an upload or a file was refused: a reason (mapped to its HTTP status in `chatui.api.errors`) and a sentence
a person can act on (shown as it is by the page)."""

from __future__ import annotations

from enum import StrEnum


class FileProblem(StrEnum):
    NOT_MULTIPART = "not_multipart"
    MALFORMED = "malformed"
    NO_FILE = "no_file"
    TOO_LARGE = "too_large"
    """Larger than CHATUI_UPLOAD_MAX_MB (413)."""
    QUOTA = "quota"
    """The user's files would take more than their quota (413)."""
    UNSUPPORTED = "unsupported"
    """Not an image, PDF or text file chatui can read (415)."""
    TOO_MANY_PIXELS = "too_many_pixels"
    """An image larger than the pixel bound: a decompression bomb, or just too big to work on (422)."""
    TOO_MANY_PAGES = "too_many_pages"
    UNREADABLE = "unreadable"
    """Says it is a PNG/JPEG/PDF/... but cannot be read as one (422)."""
    TOO_MANY_FILES = "too_many_files"
    """More files on one message than CHATUI_ATTACHMENTS_PER_MESSAGE (422)."""


class FileRefused(Exception):
    def __init__(self, reason: FileProblem, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
