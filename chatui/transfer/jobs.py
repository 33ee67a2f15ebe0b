"""Imports as background jobs: a slot reserved, the upload streamed to disk, then the import run in its own process.

The request does only this: reserve the user's one import slot (before a byte of the body is read), stream the
upload to a file, start the job and answer 202. Everything that reads the file — the format check, inflating a zip,
parsing, writing — runs in a process of its own (`chatui.transfer.worker`, which says why), bounded in time
(`Settings.import_max_seconds`: the server kills it) and in memory (`Settings.import_max_memory_mb`: its address
space is capped). The server reads its progress lines, and the job's state is what `GET /api/import/{job_id}`
answers, only to its owner, until an hour after it ends.

The slot and the job's state live on an `ImportBoard` (`chatui.transfer.board`): this process's memory, or Redis
when several instances share the database (`chatui.transfer.shared`), so that one user runs one import at a time
over all of them and any instance can answer how it goes. A restart ends a running import (what it wrote stays;
running it again skips those conversations, see `conversation_sources`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chatui
from chatui.transfer.attached import FileBounds
from chatui.transfer.board import KEEP_SECONDS, ImportBoard, ImportJob
from chatui.transfer.reading import Refusal
from chatui.transfer.upload import receive_file
from chatui.transfer.worker import Task

log = logging.getLogger(__name__)

LEFTOVER_SECONDS = 86_400
STOP_SECONDS = 5.0
"""How long a stopped import's process may take to end before it is killed."""
_ROOT = Path(chatui.__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class ImportLimits:
    """Every bound of an import (their defaults and names: `chatui.config.Settings`)."""

    max_bytes: int
    unpacked_bytes: int
    inflation_ratio: float
    seconds: float
    memory_bytes: int
    max_message_chars: int
    files: FileBounds
    """What an imported file may be: an upload's limits."""


class ImportBusy(Exception):
    """This user's import slot is taken (an upload or an import of theirs is under way, on any instance)."""

    message = "An import of yours is already being uploaded or running; wait for it to end."


@dataclass(frozen=True, slots=True)
class Upload:
    path: Path
    size: int


@dataclass
class Reservation:
    """A user's import slot, held from before the upload is read until the import ends (or the upload fails)."""

    user_id: str
    job_id: str
    keeper: asyncio.Task[None] | None = None


class ImportJobs:
    """The imports this process runs, and (through the board) those of other instances."""

    def __init__(
        self, limits: ImportLimits, database_url: str, folder: Path, default_model: str, board: ImportBoard
    ) -> None:
        self.limits = limits
        self.database_url = database_url
        self.folder = folder
        self.default_model = default_model
        self.board = board
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

    async def get(self, user_id: str, job_id: str) -> ImportJob | None:
        """The job if it is this user's (another user's job looks exactly like a missing one)."""
        self._forget_old()
        job = self._jobs.get(job_id) or await self.board.load(job_id)
        if job is None or job.user_id != user_id:
            return None
        if job.status == "running" and job.id not in self._jobs and await self.board.holder(user_id) != job.id:
            job.fail(None, "The server running this import stopped before it was complete.")  # its slot expired
        return job

    async def running_for(self, user_id: str) -> ImportJob | None:
        holder = await self.board.holder(user_id)
        job = await self.get(user_id, holder) if holder is not None else None
        return job if job is not None and job.status == "running" else None

    async def reserve(self, user_id: str) -> Reservation:
        """The user's slot, before the upload is read; `ImportBusy` if it is taken (here or on another instance)."""
        reservation = Reservation(user_id, str(uuid.uuid4()))
        if not await self.board.reserve(user_id, reservation.job_id):
            raise ImportBusy(ImportBusy.message)
        if self.board.renew_seconds is not None:
            reservation.keeper = asyncio.create_task(self._keep(reservation, self.board.renew_seconds))
        return reservation

    async def release(self, reservation: Reservation) -> None:
        if reservation.keeper is not None:
            reservation.keeper.cancel()
        await self.board.release(reservation.user_id, reservation.job_id)

    async def receive(self, content_type: str, body: AsyncIterator[bytes]) -> Upload:
        """Stream the `file` field of a multipart upload to a file of its own (`UploadRefused` if it cannot)."""
        path = self.folder / f"{uuid.uuid4()}.upload"
        try:
            await asyncio.to_thread(self.folder.mkdir, mode=0o700, parents=True, exist_ok=True)  # private
            return Upload(path, await receive_file(content_type, body, path))
        except BaseException:
            await asyncio.shield(asyncio.to_thread(path.unlink, missing_ok=True))
            raise

    async def start(self, reservation: Reservation, upload: Upload) -> ImportJob:
        """Run the import of the uploaded file in the background; the job holds the reservation until it ends."""
        path = upload.path
        job = ImportJob(id=reservation.job_id, user_id=reservation.user_id, total_bytes=upload.size)
        self._jobs[job.id] = job
        await self.board.save(job)
        task = asyncio.create_task(self._run(job, reservation, path), name=f"import {job.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    async def shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _keep(self, reservation: Reservation, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            with contextlib.suppress(Exception):  # a blip: the next renewal, well inside the lease, tries again
                await self.board.keep(reservation.user_id, reservation.job_id)

    async def _run(self, job: ImportJob, reservation: Reservation, path: Path) -> None:
        task = Task(
            path=str(path),
            database_url=self.database_url,
            user_id=job.user_id,
            default_model=self.default_model,
            max_message_chars=self.limits.max_message_chars,
            unpacked_bytes=self.limits.unpacked_bytes,
            inflation_ratio=self.limits.inflation_ratio,
            memory_bytes=self.limits.memory_bytes,
            file_max_bytes=self.limits.files.max_bytes,
            files_quota_bytes=self.limits.files.quota_bytes,
            image_max_pixels=self.limits.files.max_pixels,
            pdf_max_pages=self.limits.files.max_pages,
        )
        process: asyncio.subprocess.Process | None = None
        end: dict[str, Any] = _failed(None, "The import stopped on an unexpected error; what was imported is kept.")
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "chatui.transfer.worker",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env=_worker_environment(),
            )
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write(task.encode())
            process.stdin.close()
            last: dict[str, Any] | None
            try:
                last = await asyncio.wait_for(self._follow(job, process.stdout), self.limits.seconds)
            except TimeoutError:
                process.terminate()  # it rolls back the conversation it was writing and says what it stored
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._follow(job, process.stdout), STOP_SECONDS)
                last = _failed(
                    Refusal.TOO_SLOW,
                    f"The import took longer than {self.limits.seconds:,.0f} seconds and was stopped; what was "
                    "imported before it is kept.",
                )
            code = await _end(process)
            if last is None:  # no last line: the process died
                log.warning("import %s: its process ended with %s before it finished", job.id, code)
                last = self._died(code)
            end = last
        except asyncio.CancelledError:
            end = _failed(None, "The server stopped before the import was complete.")
            raise
        except Exception:
            log.exception("import %s failed", job.id)
        finally:
            if process is not None and process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
            await asyncio.shield(asyncio.to_thread(path.unlink, missing_ok=True))
            await asyncio.shield(self._finish(job, reservation, end))

    def _died(self, code: int | None) -> dict[str, Any]:
        """The end of an import whose process died. Killed by a signal, it most likely hit its memory bound: past
        it an allocation fails, and yajl (ijson's parser) does not check for that, so it crashes rather than raise."""
        if code is not None and code < 0:
            return _failed(
                Refusal.TOO_MUCH_MEMORY,
                f"The import's process was stopped by the system (signal {-code}), most likely on reaching its "
                f"memory bound of {self.limits.memory_bytes // 1024**2:,} MB; what was imported before it is kept.",
            )
        return _failed(None, "The import's process ended before the import was complete; what was imported is kept.")

    async def _finish(self, job: ImportJob, reservation: Reservation, end: dict[str, Any]) -> None:
        """The job's end and the slot's release, seen together: once it reads as ended, a new import may start."""
        if reservation.keeper is not None:
            reservation.keeper.cancel()
        ended = ImportJob.loads(job.dumps())
        ended.apply(end)
        ended.ended_at = time.time()
        try:
            await self.board.finish(ended)
        except Exception:  # Redis gone: the slot and the job's state expire with their lease
            log.exception("import %s: its end could not be published", job.id)
        job.apply(end)
        job.ended_at = ended.ended_at

    async def _follow(self, job: ImportJob, lines: asyncio.StreamReader) -> dict[str, Any] | None:
        """Apply the process's lines to the job until its last one, which is returned (None: it never came)."""
        renew = self.board.renew_seconds or 1.0
        published = time.monotonic()
        while line := await lines.readline():
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "end" in message:
                return dict(message)
            job.apply(message)
            if time.monotonic() - published >= renew / 2:
                published = time.monotonic()
                await self.board.save(job)
        return None

    def _forget_old(self) -> None:
        now = time.time()
        for job_id, job in list(self._jobs.items()):
            if job.ended_at is not None and now - job.ended_at > KEEP_SECONDS:
                del self._jobs[job_id]


async def _end(process: asyncio.subprocess.Process) -> int | None:
    """Wait for the import's process to end, killing it if it does not within `STOP_SECONDS`."""
    try:
        return await asyncio.wait_for(process.wait(), STOP_SECONDS)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        return await process.wait()


def _failed(reason: Refusal | None, message: str) -> dict[str, Any]:
    return {"end": "failed", "reason": reason.value if reason is not None else None, "message": message}


def _worker_environment() -> dict[str, str]:
    """The server's environment, with this checkout first on the path (chatui need not be installed)."""
    path = [str(_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
