"""The files of each user: upload (received, identified, stored whole or refused whole), download (a chunk at a
time, to the owner only), and freeing what nothing uses any more.

Freeing happens at three moments: right after a conversation is deleted for good (`free_unused`), once the Undo of
a deletion has run out (`free_after`), and in a sweep every `SWEEP_SECONDS` (`start`), which also frees uploads
never sent (`storage.files.UNSENT_FOR`) and whatever a stopped server left. Each is idempotent, so with several
instances on one database every one of them sweeps and none needs to be chosen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chatui.files.errors import FileProblem, FileRefused
from chatui.files.receive import receive_upload
from chatui.files.sniff import Bounds, identify
from storage.files import UNDO_GRACE, UNSENT_FOR, FileGone, FileRepository, Freed, NewFile, QuotaExceeded, StoredFile
from storage.models import utcnow

log = logging.getLogger(__name__)

MB = 1024 * 1024
SWEEP_SECONDS = 600.0
"""How often every instance sweeps: a few indexed queries; an unsent upload lives at most 24 h and this long."""


@dataclass(frozen=True, slots=True)
class FileLimits:
    """The upload limits (from `Settings`: CHATUI_UPLOAD_MAX_MB and the others, README's table)."""

    max_bytes: int
    per_message: int
    quota_bytes: int
    max_pixels: int
    max_pages: int


class FileService:
    def __init__(
        self, files: FileRepository, limits: FileLimits, spool: Path, *, sweep_seconds: float = SWEEP_SECONDS
    ) -> None:
        self.files = files
        self.limits = limits
        self.spool = spool
        """Where uploads are written while they arrive and are checked (deleted right after)."""
        self.sweep_seconds = sweep_seconds
        self._tasks: set[asyncio.Task[None]] = set()

    async def upload(self, user_id: str, content_type: str, body: AsyncIterator[bytes]) -> StoredFile:
        """Receive the multipart body's `file`, find out what it is, store it. `FileRefused` says why not; a
        refused file leaves nothing behind, on disk or in the database."""
        received = await receive_upload(content_type, body, self.spool, max_bytes=self.limits.max_bytes)
        try:
            bounds = Bounds(self.limits.max_pixels, self.limits.max_pages)
            kind = await asyncio.to_thread(identify, received.path, received.head, received.name, bounds)
            new = NewFile(
                name=received.name,
                media_type=kind.media_type,
                size=received.size,
                sha256=received.sha256,
                width=kind.width,
                height=kind.height,
                pages=kind.pages,
            )
            with received.path.open("rb") as source:
                return await self.files.store(user_id, new, source, quota_bytes=self.limits.quota_bytes)
        except QuotaExceeded as exc:
            raise FileRefused(
                FileProblem.QUOTA,
                f"Your files would take more than your {_megabytes(exc.quota)} of storage "
                f"({_megabytes(exc.used)} used). Delete conversations with attachments to make room.",
            ) from None
        finally:
            await asyncio.to_thread(received.path.unlink, missing_ok=True)

    async def get(self, user_id: str, file_id: str) -> StoredFile | None:
        """The file if it is this user's (someone else's looks exactly like a missing one)."""
        return await self.files.get(user_id, file_id)

    async def content(self, file: StoredFile) -> AsyncIterator[bytes]:
        """The file's bytes, a chunk (one query) at a time."""
        seq = 0
        while (chunk := await self.files.read_chunk(file.blob_id, seq)) is not None:
            yield chunk
            seq += 1

    async def attachable(self, user_id: str, file_ids: Sequence[str]) -> list[StoredFile]:
        """The files a message is to carry, in order: at most `per_message`, each the user's own (`FileGone`
        names one that is not)."""
        if len(file_ids) > self.limits.per_message:
            raise FileRefused(
                FileProblem.TOO_MANY_FILES,
                f"A message can carry at most {self.limits.per_message} files; this one has {len(file_ids)}.",
            )
        unique = list(dict.fromkeys(file_ids))
        return await self.files.owned(user_id, unique)

    # -- freeing --------------------------------------------------------------------------------------------------

    async def free_unused(self, user_id: str) -> Freed:
        """Free the user's files no message uses (kept while a deletion of theirs can be undone) and their uploads
        never sent within `UNSENT_FOR`, then the bytes no file uses: the quota follows at once."""
        return await self.files.free(user_id, unsent_before=utcnow() - UNSENT_FOR)

    def free_after(self, user_id: str, seconds: float) -> None:
        """`free_unused` once a deletion's Undo is over (`seconds` from now, plus the grace the check allows)."""
        self._spawn(self._free_later(user_id, seconds + UNDO_GRACE.total_seconds() + 0.5), f"free-files-{user_id}")

    async def sweep(self) -> Freed:
        """Free what every user no longer uses (see `free_unused`), a transaction per user."""
        cutoff = utcnow() - UNSENT_FOR
        freed = Freed()
        for user_id in await self.files.begin_sweep(unsent_before=cutoff):
            freed += await self.files.free(user_id, unsent_before=cutoff)
        return freed

    def start(self) -> None:
        """Sweep now and every `sweep_seconds` until `aclose`."""
        self._spawn(self._sweeping(), "file-sweep")

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _free_later(self, user_id: str, seconds: float) -> None:
        await asyncio.sleep(seconds)
        with _logged("freeing the files of a deleted conversation"):
            await self.free_unused(user_id)

    async def _sweeping(self) -> None:
        while True:
            with _logged("the sweep of unused files"):
                freed = await self.sweep()
                if freed.files or freed.blobs:
                    log.info("freed %d files, %d bytes", freed.files, freed.bytes)
            await asyncio.sleep(self.sweep_seconds)

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


@contextlib.contextmanager
def _logged(what: str) -> Iterator[None]:
    """A failure (the database briefly away) is logged; the next sweep tries again."""
    try:
        yield
    except Exception:
        log.exception("%s failed; the next sweep tries again", what)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * MB):.1f} GB" if size >= 1024 * MB else f"{size / MB:.1f} MB"


__all__ = ["FileGone", "FileLimits", "FileService"]
