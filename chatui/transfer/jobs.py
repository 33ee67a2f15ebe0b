"""Imports as background jobs: the upload is streamed to disk, then read one conversation at a time.

The job belongs to the server, not to the page or request that started it: closing the page does not stop it, and
its progress can be asked for until an hour after it ends (`GET /api/import/{job_id}`, only by its owner). Jobs
live in this process's memory: a restart ends a running import (what it wrote stays; running it again skips those
conversations, see `conversation_sources`). Each user runs one import at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from python_multipart.multipart import MultipartParser, parse_options_header
from sqlalchemy.exc import InterfaceError, OperationalError, StatementError

from chatui.transfer.reading import ExportFile, Failure, UnreadableFile, read
from storage.transfer import TransferRepository

log = logging.getLogger(__name__)

MAX_IMPORT_BYTES = 512 * 1024 * 1024
MAX_ERRORS = 100
KEEP_SECONDS = 3600
LEFTOVER_SECONDS = 86_400
WRITE_BATCH = 1024 * 1024
ANALYZE_AFTER = 10_000
"""Messages imported after which PostgreSQL's statistics are renewed at once."""


class UploadProblem(StrEnum):
    NOT_MULTIPART = "not_multipart"
    MALFORMED = "malformed"
    NO_FILE = "no_file"


class UploadRefused(Exception):
    """The upload is not a multipart form with one `file`: a reason, mapped to a status in `chatui.api.errors`."""

    def __init__(self, reason: UploadProblem, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass
class ImportJob:
    id: str
    user_id: str
    total_bytes: int
    status: str = "running"
    bytes_read: int = 0
    conversations: int = 0
    messages: int = 0
    skipped: int = 0
    duplicates: int = 0
    errors: list[str] = field(default_factory=list)
    ended_at: float | None = None

    def public(self) -> dict[str, Any]:
        """The answer of `GET /api/import/{job_id}`."""
        return {
            "job_id": self.id,
            "status": self.status,
            "bytes_read": self.bytes_read,
            "total_bytes": self.total_bytes,
            "conversations": self.conversations,
            "messages": self.messages,
            "skipped": self.skipped,
            "duplicates": self.duplicates,
            "errors": list(self.errors),
        }

    def error(self, text: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(text)
        elif len(self.errors) == MAX_ERRORS:
            self.errors.append("… more errors not listed.")


class ImportJobs:
    """The running and recently ended imports of this process."""

    def __init__(self, transfer: TransferRepository, folder: Path, default_model: str) -> None:
        self.transfer = transfer
        self.folder = folder
        self.default_model = default_model
        self._jobs: dict[str, ImportJob] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def clear_leftovers(self) -> None:
        """At start: uploads a stopped server left behind are of no use to anyone. Only those a day old: another
        instance sharing the data folder may be reading a fresh one."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # uploads are conversations: private
        for leftover in self.folder.glob("*.upload"):
            with contextlib.suppress(OSError):
                if time.time() - leftover.stat().st_mtime > LEFTOVER_SECONDS:
                    leftover.unlink()

    def get(self, user_id: str, job_id: str) -> ImportJob | None:
        """The job if it is this user's (another user's job looks exactly like a missing one)."""
        self._forget_old()
        job = self._jobs.get(job_id)
        return job if job is not None and job.user_id == user_id else None

    def running_for(self, user_id: str) -> ImportJob | None:
        return next((j for j in self._jobs.values() if j.user_id == user_id and j.status == "running"), None)

    def start(self, user_id: str, export: ExportFile) -> ImportJob:
        job = ImportJob(id=str(uuid.uuid4()), user_id=user_id, total_bytes=export.path.stat().st_size)
        self._jobs[job.id] = job
        task = asyncio.create_task(self._run(job, export), name=f"import {job.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    async def shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def receive(self, content_type: str, body: AsyncIterator[bytes]) -> Path:
        """Stream the `file` field of a multipart upload to a file of its own (`UploadRefused` if it cannot)."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # uploads are conversations: private
        path = self.folder / f"{uuid.uuid4()}.upload"
        try:
            await _receive_file(content_type, body, path)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path

    async def _run(self, job: ImportJob, export: ExportFile) -> None:
        def progress(position: int) -> None:
            job.bytes_read = position

        conversations = read(export, self.default_model, progress)
        try:
            while (item := await asyncio.to_thread(next, conversations, None)) is not None:  # parsed off the loop
                if isinstance(item, Failure):
                    job.error(f"Conversation {item.label}: {item.reason}")
                    continue
                job.skipped += item.skipped
                try:
                    created = await self.transfer.import_conversation(
                        job.user_id, item.record, item.source, same_as=item.original_id
                    )
                except StatementError as exc:  # this conversation's values (not the database: that stops the job)
                    if isinstance(exc, OperationalError | InterfaceError):
                        raise
                    job.error(f"Conversation {item.label}: the database refused it ({type(exc.orig or exc).__name__})")
                    continue
                if created is None:
                    job.duplicates += 1
                else:
                    job.conversations += 1
                    job.messages += len(item.record.messages)
            if job.messages >= ANALYZE_AFTER:
                await self.transfer.refresh_statistics()
            job.status = "done"
        except UnreadableFile as exc:
            job.error(exc.message)
            job.status = "failed"
        except asyncio.CancelledError:
            job.error("The server stopped before the import was complete.")
            job.status = "failed"
            raise
        except Exception:
            log.exception("import %s failed", job.id)
            job.error("The import stopped on an unexpected error; what was imported before it is kept.")
            job.status = "failed"
        finally:
            conversations.close()
            export.path.unlink(missing_ok=True)
            job.ended_at = time.monotonic()

    def _forget_old(self) -> None:
        now = time.monotonic()
        for job_id, job in list(self._jobs.items()):
            if job.ended_at is not None and now - job.ended_at > KEEP_SECONDS:
                del self._jobs[job_id]


async def _receive_file(content_type: str, body: AsyncIterator[bytes], path: Path) -> None:
    """Parse the multipart body as it arrives; the `file` part goes to `path`, written in 1 MB batches off the loop."""
    media_type, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary:
        raise UploadRefused(
            UploadProblem.NOT_MULTIPART, "Send the file as multipart/form-data, in a field named 'file'."
        )
    part = _Part()
    with path.open("wb") as out:
        pending: list[bytes] = []
        pending_size = 0

        def on_part_data(data: bytes, start: int, end: int) -> None:
            nonlocal pending_size
            if part.is_file:
                pending.append(data[start:end])
                pending_size += end - start

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

        def flush() -> None:
            nonlocal pending_size
            out.write(b"".join(pending))
            pending.clear()
            pending_size = 0

        try:
            async for chunk in body:
                parser.write(chunk)
                if pending_size >= WRITE_BATCH:
                    await asyncio.to_thread(flush)
            parser.finalize()
        except ValueError as exc:  # python-multipart's parse errors derive from it
            raise UploadRefused(UploadProblem.MALFORMED, f"The upload is not a valid multipart form: {exc}") from None
        await asyncio.to_thread(flush)
    if not part.found:
        raise UploadRefused(UploadProblem.NO_FILE, "The upload has no field named 'file'.")


class _Part:
    """The headers of the multipart part being read, and whether it is the (first) `file` field."""

    def __init__(self) -> None:
        self.found = False
        self.is_file = False
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

    def end(self) -> None:
        if self.is_file:
            self.found = True
        self.is_file = False
