"""A zip of documents added at once (issue 25: "a folder or zip of them"): each file in it becomes a document.

Read in a thread (`expand`), never trusted: at most `MAX_MEMBERS` files, each at most the per-file limit and the
whole at most `MAX_TOTAL` once unpacked, counted from the bytes actually read (a zip's sizes are claims); folders,
hidden files and macOS's `__MACOSX` copies are skipped. A zip that cannot be read becomes one failed document with
the reason, like any unreadable file.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from chatui.files.receive import clean_name, spool_file

MAX_MEMBERS = 500
MAX_TOTAL = 500 * 1024 * 1024
ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True, slots=True)
class Unpacked:
    """A file of the zip, spooled to `path`, or (`path` None) why the zip or this file was refused."""

    name: str
    path: Path | None
    size: int
    refused: str | None = None


def is_zip(name: str, head: bytes) -> bool:
    return head.startswith(ZIP_MAGIC) and name.lower().endswith(".zip")


def expand(archive: Path, name: str, folder: Path, max_bytes: int) -> list[Unpacked]:
    """The zip's files, each spooled to a file of its own in `folder` (the caller deletes them)."""
    out: list[Unpacked] = []
    total = 0
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = [m for m in zipped.infolist() if not m.is_dir() and not _hidden(m.filename)]
            if len(members) > MAX_MEMBERS:
                return [Unpacked(name, None, 0, f"The zip holds {len(members)} files; at most {MAX_MEMBERS}.")]
            for member in members:
                shown = "/".join(clean_name(p) for p in member.filename.split("/") if p)[-200:]
                if member.file_size > max_bytes:
                    out.append(Unpacked(shown, None, member.file_size, "The file is too large."))
                    continue
                path = spool_file(folder)
                size = _copy(zipped, member, path, max_bytes + 1)
                total += size
                if size > max_bytes or total > MAX_TOTAL:
                    path.unlink(missing_ok=True)
                    out.append(Unpacked(shown, None, size, "The file is too large."))
                    continue
                out.append(Unpacked(shown, path, size))
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError, ValueError):
        for done in out:
            if done.path is not None:
                done.path.unlink(missing_ok=True)
        return [Unpacked(name, None, 0, "The zip is damaged and cannot be read.")]
    return out


def _copy(zipped: zipfile.ZipFile, member: zipfile.ZipInfo, path: Path, limit: int) -> int:
    """Unpack at most `limit` bytes of the member to `path`; how many were written."""
    written = 0
    with zipped.open(member) as source, path.open("wb") as target:
        while written < limit and (block := source.read(min(1024 * 1024, limit - written))):
            target.write(block)
            written += len(block)
    return written


def _hidden(filename: str) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in filename.split("/"))
