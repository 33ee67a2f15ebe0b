"""Receiving an attachment: the `file` field of a multipart body, streamed to a private temporary file.

The body is parsed as it arrives and written and hashed off the loop (`chatui.files.multipart`), so neither a 20 MB
file nor five of them at once hold the loop up, and no upload is ever in memory whole. Reading stops as soon as the
file passes the size limit: a 2 GB body costs the server 20 MB of disk, not 2 GB.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from chatui.files.errors import FileProblem, FileRefused
from chatui.files.multipart import FormRefused, read_file_field

HEAD_BYTES = 8192
"""The first bytes kept in memory: enough to tell an image, a PDF or text apart before reading the file again."""


@dataclass(frozen=True, slots=True)
class Received:
    path: Path
    name: str
    size: int
    sha256: str
    head: bytes


async def receive_upload(content_type: str, body: AsyncIterator[bytes], folder: Path, *, max_bytes: int) -> Received:
    """Stream the `file` part of the body to a new file in `folder`; the caller deletes `Received.path`.

    Refuses (`FileRefused`) a body that is not multipart, has no `file` field, or whose file passes `max_bytes`;
    nothing is left on disk then.
    """
    path = await asyncio.to_thread(spool_file, folder)
    try:
        with path.open("wb") as out:
            form = await read_file_field(
                content_type, body, out, head_bytes=HEAD_BYTES, max_bytes=max_bytes, hashed=True
            )
    except FormRefused as exc:
        await asyncio.to_thread(path.unlink, missing_ok=True)
        raise FileRefused(FileProblem(exc.problem.value), exc.message) from None
    except BaseException:
        await asyncio.to_thread(path.unlink, missing_ok=True)
        raise
    assert form.sha256 is not None
    return Received(path, clean_name(form.filename or ""), form.size, form.sha256, form.head)


def spool_file(folder: Path) -> Path:
    """A new empty file only this account can read, in `folder` (made 0700 if missing)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(dir=folder, prefix="upload-")
    os.close(descriptor)
    return Path(name)


def clean_name(raw: str) -> str:
    """A file name fit to show and to offer as a download: no folders, no control characters, at most 200
    characters (the extension kept), never empty."""
    name = re.split(r"[/\\]", unicodedata.normalize("NFC", raw))[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    if len(name) > 200:
        stem, dot, extension = name.rpartition(".")
        name = (stem[: 200 - len(extension) - 1] + dot + extension) if dot and len(extension) <= 16 else name[:200]
    return name or "file"
