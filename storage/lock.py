"""The lock a running app holds on its SQLite database, so that `restore` and `migrate-db` can tell it is running.

A file beside the database (`database.db.lock`) locked with `flock`: the kernel releases it when the process ends,
however it ends (a SIGKILL included), so a crash never leaves a stale lock behind. A second app on the same file is
refused too: at start-up it would mark the first one's streaming replies `interrupted`.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sqlalchemy.engine import URL, make_url

_held: dict[Path, int] = {}
"""Locks this process holds, by path: the NiceGUI test fixture builds the app again in the same process."""


class DatabaseInUse(RuntimeError):
    """Another process holds the database's lock (a chatui server is running on it)."""


def lock_path(url: str | URL) -> Path | None:
    """The lock file of a SQLite database file; None for PostgreSQL or an in-memory database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    database = Path(parsed.database).resolve()
    return database.with_name(database.name + ".lock")


def hold(url: str | URL, purpose: str = "chatui server") -> None:
    """Take the database's lock for the rest of this process's life; `DatabaseInUse` if another process has it."""
    path = lock_path(url)
    if path is None or path in _held:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(descriptor, 200, 0).decode(errors="replace").strip()
        os.close(descriptor)
        raise DatabaseInUse(
            f"{path.with_suffix('')} is in use by another process ({holder or 'unknown'}); stop it first"
        ) from None
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, f"{purpose}, pid {os.getpid()}".encode(), 0)
    _held[path] = descriptor


def release(url: str | URL) -> None:
    """Give the lock back (commands that held it for one operation)."""
    path = lock_path(url)
    descriptor = _held.pop(path, None) if path is not None else None
    if descriptor is not None:
        os.ftruncate(descriptor, 0)
        os.close(descriptor)  # closing the last descriptor releases the flock
