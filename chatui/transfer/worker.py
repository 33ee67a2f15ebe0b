"""One import, run in a process of its own: `python -m chatui.transfer.worker`, its task as JSON on stdin.

Why a process and not a thread: the server's event loop shares the GIL with every thread of the server, and an
import's work is long calls that hold it — ijson building a conversation, pydantic validating one whole (one Rust
call for all its messages), the UTF-8 copy of a large text bound into an INSERT. In a thread they stalled the
server's loop 0.7-2 s at a time on a 150 MB file (BENCHMARKS.md). In a process of its own, at a lower CPU priority,
none of it touches the server: the server only reads a line of progress now and then. The process also carries the
import's bounds: its address space is capped (`RLIMIT_AS`), and the server kills it when its time is up.

It writes to the database itself, each conversation in one transaction of its own (whole or not at all), so nothing
large ever crosses back into the server. A chatui export's files are stored first (`chatui.transfer.attached`), each
checked as an upload is; those no imported conversation took are deleted at the end. Its presets and prompts come
next (`chatui.transfer.library`), so that a conversation started from one of its presets points at it here. On
SQLite it is a second writer beside the server's one database thread: WAL and the busy timeout make each wait for
the other's (short) transaction.

Output, one JSON object a line: `{"progress": {...counts}}` (at most every `PROGRESS_SECONDS`, and at the end),
`{"error": text}` for a conversation that could not be imported, then `{"end": "done"}` or
`{"end": "failed", "reason": <Refusal>, "message": text}`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError, StatementError

from chatui.transfer.attached import FileBounds, attach, drop_unused, store_files
from chatui.transfer.library import store_library
from chatui.transfer.normalise import cut_long_messages
from chatui.transfer.reading import Bounds, Failure, Refusal, UnreadableFile, inspect, read
from storage.database import Database
from storage.transfer import AttachmentRecord, write_conversation

PROGRESS_SECONDS = 0.2
ANALYZE_AFTER = 10_000
"""Messages imported after which PostgreSQL's statistics are renewed at once."""
NICENESS = 10
"""How much lower the import's CPU priority is than the server's: on a busy machine the server's pages go first."""


@dataclass(frozen=True, slots=True)
class Task:
    """What the server asks of one import (sent on stdin: the database URL may hold a password, never in argv)."""

    path: str
    database_url: str
    user_id: str
    default_model: str
    max_message_chars: int
    unpacked_bytes: int
    inflation_ratio: float
    memory_bytes: int
    file_max_bytes: int
    files_quota_bytes: int
    image_max_pixels: int
    pdf_max_pages: int

    @property
    def file_bounds(self) -> FileBounds:
        return FileBounds(self.file_max_bytes, self.files_quota_bytes, self.image_max_pixels, self.pdf_max_pages)

    def encode(self) -> bytes:
        return json.dumps(asdict(self)).encode()


@dataclass(slots=True)
class Counts:
    bytes_read: int = 0
    conversations: int = 0
    messages: int = 0
    skipped: int = 0
    duplicates: int = 0
    cut: int = 0
    presets: int = 0
    prompts: int = 0


class Reporter:
    """The lines the server reads; progress at most every `PROGRESS_SECONDS`."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.counts = Counts()
        self._sent = 0.0

    def send(self, line: dict[str, Any]) -> None:
        self.out.write(json.dumps(line) + "\n")
        self.out.flush()

    def progress(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._sent >= PROGRESS_SECONDS:
            self._sent = now
            self.send({"progress": asdict(self.counts)})

    def error(self, text: str) -> None:
        self.send({"error": text})


def limit_memory(max_bytes: int) -> None:
    """Cap this process's address space: past it an allocation fails (MemoryError), not the machine."""
    try:
        import resource
    except ImportError:  # not on this platform: the time bound still holds
        return
    resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))


class Stopped(Exception):
    """The server asked this import to stop (SIGTERM: its time is up)."""


_stopping = threading.Event()


def _stop(signum: int, frame: object) -> None:
    """Stop after the conversation being written (so the counts are exact); the server kills what takes longer."""
    _stopping.set()


def run(task: Task, report: Reporter) -> None:
    """Import the file; every outcome is reported as lines (nothing raises but a bug or the database going away)."""
    counts = report.counts
    try:
        export = inspect(Path(task.path), Bounds(task.unpacked_bytes, task.inflation_ratio))
        db = Database(task.database_url)
        files: dict[str, AttachmentRecord] = {}
        try:
            files = store_files(export, db, task.user_id, task.file_bounds, Path(task.path).parent, report.error)
            library = store_library(export, db, task.user_id, report.error)
            counts.presets, counts.prompts = library.created_presets, library.created_prompts
            for item in read(export, task.default_model, lambda position: setattr(counts, "bytes_read", position)):
                if isinstance(item, Failure):
                    report.error(f"Conversation {item.label}: {item.reason}")
                    continue
                counts.skipped += item.skipped
                cut = cut_long_messages(item.record, task.max_message_chars)
                attach(item.record, files)
                try:
                    with db.engine.begin() as connection:
                        created = write_conversation(
                            connection,
                            task.user_id,
                            item.record,
                            item.source,
                            same_as=item.original_id,
                            presets=library.presets,
                        )
                except StatementError as exc:  # this conversation's values (not the database: that stops the job)
                    if isinstance(exc, OperationalError | InterfaceError):
                        raise
                    report.error(
                        f"Conversation {item.label}: the database refused it ({type(exc.orig or exc).__name__})"
                    )
                    continue
                if created is None:
                    counts.duplicates += 1
                else:
                    counts.conversations += 1
                    counts.messages += len(item.record.messages)
                    counts.cut += cut
                if _stopping.is_set():
                    raise Stopped
                report.progress()
            if counts.messages >= ANALYZE_AFTER and db.engine.dialect.name == "postgresql":
                with db.engine.begin() as connection:
                    connection.exec_driver_sql("ANALYZE messages, conversations")
        finally:
            with contextlib.suppress(SQLAlchemyError):  # the database gone: the sweep frees them within a day
                drop_unused(db, task.user_id, list(files.values()))
            db.engine.dispose()
    except Stopped:  # the counts say exactly what was stored
        report.progress(force=True)
        return
    except UnreadableFile as exc:
        report.progress(force=True)
        report.send({"end": "failed", "reason": exc.reason.value, "message": exc.message})
        return
    except MemoryError:
        report.progress(force=True)
        report.send(
            {
                "end": "failed",
                "reason": Refusal.TOO_MUCH_MEMORY.value,
                "message": f"The import needed more than {task.memory_bytes // 1024**2:,} MB of memory and was "
                "stopped; what was imported before it is kept.",
            }
        )
        return
    report.progress(force=True)
    report.send({"end": "done"})


def main() -> None:
    task = Task(**json.loads(sys.stdin.read()))
    logging.basicConfig(level=logging.WARNING, format="import worker: %(levelname)s %(name)s: %(message)s")
    with contextlib.suppress(OSError):  # not allowed here: the import still runs, at the server's priority
        os.nice(NICENESS)
    limit_memory(task.memory_bytes)
    signal.signal(signal.SIGTERM, _stop)
    run(task, Reporter(sys.stdout))


if __name__ == "__main__":
    main()
