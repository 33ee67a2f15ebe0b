"""Online backup and restore of the SQLite database (PostgreSQL has pg_dump and pg_restore for that).

A backup is taken with SQLite's backup API in one step: it reads one snapshot of the database, so the copy is
consistent even while the app writes (WAL mode lets the app go on writing meanwhile), and replies streaming at that
moment are in it with their last checkpointed text, still `streaming` — a restore's next start marks them
`interrupted`, as after a crash. The copy is a single self-contained file (journal mode DELETE), checked with
`PRAGMA integrity_check` before it is reported done.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path


class BackupError(RuntimeError):
    """The backup or restore could not be done; nothing was changed (the message says why)."""


def integrity(path: Path) -> str:
    """`ok`, or what SQLite's integrity check found."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        return "; ".join(row[0] for row in db.execute("PRAGMA integrity_check"))


def row_counts(path: Path) -> dict[str, int]:
    """Rows per table (SQLite's own tables aside), for the report of a backup or a restore."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        query = "SELECT name FROM sqlite_schema WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%'"
        tables = [name for (name,) in db.execute(query) if not name.startswith("sqlite_")]
        return {name: db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in sorted(tables)}


def backup(database: Path, destination: Path) -> dict[str, int]:
    """Copy the live database to `destination` (which must not exist yet); returns the rows per table copied."""
    if not database.is_file():
        raise BackupError(f"there is no database at {database}")
    if destination.exists():
        raise BackupError(f"{destination} exists already; choose a new file name")
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    try:
        _copy(database, partial)
        found = integrity(partial)
        if found != "ok":
            raise BackupError(f"the copy failed SQLite's integrity check: {found}")
        counts = row_counts(partial)
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    return counts


def restore(source: Path, database: Path) -> tuple[dict[str, int], Path | None]:
    """Put a backup in place of the database; the database it replaces is kept beside it (returned, if any).

    The caller holds the database's lock (`storage.lock`): no app may have it open.
    """
    if not source.is_file():
        raise BackupError(f"there is no backup at {source}")
    try:
        found = integrity(source)
        with contextlib.closing(sqlite3.connect(source)) as db:
            tables = {name for (name,) in db.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{source} is not a SQLite database: {exc}") from None
    if found != "ok":
        raise BackupError(f"{source} fails SQLite's integrity check: {found}")
    if not {"alembic_version", "users", "messages"} <= tables:
        raise BackupError(f"{source} is not a chatui database (no users, messages or alembic_version table)")
    database.parent.mkdir(parents=True, exist_ok=True)
    incoming = database.with_name(database.name + ".restoring")
    incoming.unlink(missing_ok=True)
    _copy(source, incoming)
    kept = None
    if database.exists():
        # Fold the write-ahead log into the file first, so the copy kept aside is complete on its own.
        with contextlib.closing(sqlite3.connect(database)) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        kept = database.with_name(f"{database.name}.before-restore-{stamp}")
        os.replace(database, kept)
    for suffix in ("-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    os.replace(incoming, database)
    return row_counts(database), kept


def _copy(source: Path, destination: Path) -> None:
    """SQLite's backup API in one step (one consistent snapshot), into a journal-mode-DELETE file only its owner
    may read (it holds password and session hashes)."""
    destination.touch(mode=0o600)
    destination.chmod(0o600)
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(destination)) as dst,
    ):
        src.execute("PRAGMA busy_timeout = 15000")
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = DELETE")
