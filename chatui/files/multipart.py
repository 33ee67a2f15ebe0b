"""The `file` field of a multipart/form-data body, streamed to an open file as the body arrives.

One parser for every upload: attachments (`chatui.files.receive`) and import files (`chatui.transfer.upload`). The
multipart framing is parsed on the loop (python-multipart: cheap per chunk); the file's bytes are written (and
hashed, when asked) in 1 MB batches off the loop, so neither a large file nor several at once hold the loop up, and
no upload is ever in memory whole. With `max_bytes`, reading stops as soon as the file passes it.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum
from typing import BinaryIO

from python_multipart.multipart import MultipartParser, parse_options_header

WRITE_BATCH = 1024 * 1024


class FormProblem(StrEnum):
    NOT_MULTIPART = "not_multipart"
    MALFORMED = "malformed"
    NO_FILE = "no_file"
    TOO_LARGE = "too_large"


class FormRefused(Exception):
    """The body is not a multipart form with a `file` field (or that file passed `max_bytes`); callers turn it into
    their own refusal, keeping `problem`'s value as its reason."""

    def __init__(self, problem: FormProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message


@dataclass(frozen=True, slots=True)
class FormFile:
    filename: str | None
    """The `filename` the form gave (as sent: the caller cleans it), None without one."""
    size: int
    head: bytes
    """The file's first bytes (up to `head_bytes`)."""
    sha256: str | None
    """With `hashed=True`: the SHA-256 of the bytes written."""


async def read_file_field(
    content_type: str,
    body: AsyncIterator[bytes],
    out: BinaryIO,
    *,
    head_bytes: int,
    max_bytes: int | None = None,
    hashed: bool = False,
) -> FormFile:
    """Write the first `file` field of the body to `out`; `FormRefused` says why it could not."""
    media_type, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary:
        raise FormRefused(FormProblem.NOT_MULTIPART, "Send the file as multipart/form-data, in a field named 'file'.")
    part = _FilePart()
    digest = hashlib.sha256() if hashed else None
    pending: list[bytes] = []
    pending_size = size = 0
    head = bytearray()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        nonlocal pending_size, size
        if not part.is_file:
            return
        piece = data[start:end]
        size += len(piece)
        if max_bytes is not None and size > max_bytes:
            raise _TooLarge
        pending.append(piece)
        pending_size += len(piece)
        if len(head) < head_bytes:
            head.extend(piece[: head_bytes - len(head)])

    def flush() -> None:
        nonlocal pending_size
        batch = b"".join(pending)
        pending.clear()
        pending_size = 0
        if digest is not None:
            digest.update(batch)
        out.write(batch)

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": part.begin,
            "on_header_field": part.header_field,
            "on_header_value": part.header_value,
            "on_header_end": part.header_end,
            "on_headers_finished": part.headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": part.end,
        },
    )
    try:
        async for chunk in body:
            parser.write(chunk)
            if pending_size >= WRITE_BATCH:
                await asyncio.to_thread(flush)
        parser.finalize()
    except _TooLarge:
        limit = f"{(max_bytes or 0) / (1024 * 1024):g} MB"
        raise FormRefused(FormProblem.TOO_LARGE, f"The file is larger than {limit}, the most a file may be.") from None
    except ValueError as exc:  # python-multipart's parse errors derive from it
        raise FormRefused(FormProblem.MALFORMED, f"The upload is not a valid multipart form: {exc}") from None
    await asyncio.to_thread(flush)
    if not part.found:
        raise FormRefused(FormProblem.NO_FILE, "The upload has no field named 'file'.")
    return FormFile(part.filename, size, bytes(head), digest.hexdigest() if digest is not None else None)


class _TooLarge(Exception):
    """Raised inside the parser's callback to stop reading at once."""


class _FilePart:
    """The headers of the multipart part being read, and whether it is the (first) `file` field."""

    def __init__(self) -> None:
        self.found = False
        self.is_file = False
        self.filename: str | None = None
        self._field = b""
        self._value = b""
        self._disposition = b""

    def begin(self) -> None:
        self.is_file = False
        self._disposition = b""

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def header_end(self) -> None:
        if self._field.lower() == b"content-disposition":
            self._disposition = self._value
        self._field = self._value = b""

    def headers_finished(self) -> None:
        _, params = parse_options_header(self._disposition)
        self.is_file = params.get(b"name") == b"file" and not self.found
        if self.is_file:
            filename = params.get(b"filename")
            self.filename = filename.decode("utf-8", "replace") if filename is not None else None

    def end(self) -> None:
        if self.is_file:
            self.found = True
        self.is_file = False
