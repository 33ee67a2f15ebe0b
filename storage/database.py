"""The database: SQLite (WAL, foreign keys, busy timeout) by default, PostgreSQL through psycopg.

Why a worker thread rather than an async driver: a repository call is one whole transaction, run as one plain
function on the database's own thread, so the event loop hands work over once and is woken once per call. An async
driver (aiosqlite) hops between the loop and its thread for every cursor step — measured here at 24 hops and ~4 ms
for the three queries of one new message, and the hops queue behind each other when 200 users send at once. SQLite
gets exactly one thread: its writes are serial anyway, so one writer never waits on another ("database is locked"
cannot happen) and no connection holds a stale snapshot. PostgreSQL gets a small pool of threads and connections.

The calls on every reply's path (`grouped`: the socket's ownership check, the history read, the write of the new
messages, the reply's final write) share transactions when they arrive together: 200 people sending in the same
second otherwise queue 800 transactions on the one thread, each with its own begin, commit and wake-up of the loop
(a commit of the first write alone costs 0.4 ms, 0.09 ms inside a shared one), and the last reply starts hundreds of
milliseconds after the first. A group is what has queued while the thread was busy; it is one transaction, one
commit and one wake-up. If any call in it raises, the group is rolled back and each call is run again alone, so a
call's failure (or its partial writes) never touches another's.
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, cast

from sqlalchemy import Connection, CursorResult, Engine, Result, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from storage import migrate

T = TypeVar("T")
P = ParamSpec("P")

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=15000",
    "PRAGMA synchronous=NORMAL",
)
POSTGRES_THREADS = 8


SERVER_EXTRA = "pip install 'chatui[server]'"


class MissingDriver(RuntimeError):
    """The database URL names a backend whose driver is not installed (PostgreSQL comes with the `server` extra)."""


def require_driver(url: str | URL) -> None:
    """Raise `MissingDriver`, with the command that installs it, when the URL's driver cannot be imported.

    psycopg is imported here, not at the top: the default install (SQLite) does not have it.
    """
    if make_url(url).get_backend_name() == "postgresql":
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise MissingDriver(
                f"DATABASE_URL names PostgreSQL, but its driver (psycopg) is not installed: {SERVER_EXTRA}"
            ) from None


def sync_url(url: str | URL) -> URL:
    """The URL with the synchronous driver chatui uses (`sqlite`, `postgresql+psycopg`)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite")
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    return parsed


class Database:
    """Owns the engine and the database thread(s); `prepare()` once before serving, `close()` at shutdown."""

    def __init__(self, url: str | URL, *, echo: bool = False) -> None:
        require_driver(url)
        self.url = sync_url(url)
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            database = self.url.database or ""
            if database and database != ":memory:":
                make_private(Path(database))
            # Used from the preparing thread first, then only from the one database thread.
            kwargs["connect_args"] = {"check_same_thread": False}
            kwargs["pool_size"] = 1
            kwargs["max_overflow"] = 1
            threads = 1
        else:
            kwargs["pool_size"] = POSTGRES_THREADS
            kwargs["max_overflow"] = 2
            kwargs["pool_pre_ping"] = True
            threads = POSTGRES_THREADS
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _set_sqlite_pragmas)
        self.sessions: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)
        self._threads = ThreadPoolExecutor(threads, thread_name_prefix="chatui-db")
        self._group: list[_Call[Any]] = []
        self._group_lock = threading.Lock()
        self._group_queued = False

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    def prepare(self, then: Callable[[Connection], T]) -> T:
        """Migrate the schema to the newest, then run `then` in the same transaction — before the server serves.

        NiceGUI runs start-up handlers as background tasks, so this runs (blocking) while the app is being built,
        and no request can reach a database without its tables or with a crash's replies still `streaming`.
        """
        with self.engine.begin() as connection:
            migrate.upgrade(connection)
            return then(connection)

    async def run(self, work: Callable[[Session], T]) -> T:
        """`work(session)` on the database thread, in one transaction (committed unless it raises)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, self._transaction, work)

    def _transaction(self, work: Callable[[Session], T]) -> T:
        with self.sessions() as session, session.begin():
            return work(session)

    async def run_statements(self, work: Callable[[Connection], T]) -> T:
        """`work(connection)` on the database thread, in one transaction, without the ORM's session."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, self._statements, work)

    def _statements(self, work: Callable[[Connection], T]) -> T:
        with self.engine.begin() as connection:
            return work(connection)

    async def run_grouped(self, work: Callable[[Connection], T]) -> T:
        """Like `run_statements`, sharing one transaction with the calls that queue while the thread is busy."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        call = _Call(work, future)
        with self._group_lock:
            self._group.append(call)
            start, self._group_queued = not self._group_queued, True
        if start:
            self._threads.submit(self._run_group, loop)
        return await call.future

    def _run_group(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._group_lock:
            group, self._group, self._group_queued = self._group, [], False
        outcomes: list[tuple[bool, Any]] = []
        try:
            with self.engine.begin() as connection:
                for call in group:
                    outcomes.append((True, call.work(connection)))
        except Exception:  # one call failed (or the commit did): each runs again alone, in its own transaction
            outcomes = [self._alone(call.work) for call in group]
        loop.call_soon_threadsafe(_deliver, group, outcomes)

    def _alone(self, work: Callable[[Connection], Any]) -> tuple[bool, Any]:
        try:
            with self.engine.begin() as connection:
                return True, work(connection)
        except Exception as exc:
            return False, exc

    async def close(self) -> None:
        """Let queued transactions finish, then close every connection."""
        await asyncio.to_thread(self._threads.shutdown, wait=True)
        self.engine.dispose()


class Repository:
    """Base of the repositories: each public method is one transaction on the database thread (see `transaction`)."""

    def __init__(self, db: Database) -> None:
        self.db = db


R = TypeVar("R", bound=Repository)


def transaction(
    method: Callable[Concatenate[R, Session, P], T],
) -> Callable[Concatenate[R, P], Coroutine[Any, Any, T]]:
    """Turn `def m(self, session, ...)` into `async def m(self, ...)` run as one transaction on the database thread."""

    @functools.wraps(method)
    async def run(self: R, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self.db.run(lambda session: method(self, session, *args, **kwargs))

    return run


def statements(
    method: Callable[Concatenate[R, Connection, P], T],
) -> Callable[Concatenate[R, P], Coroutine[Any, Any, T]]:
    """Like `transaction`, with a bare connection for prepared Core statements: no ORM session to set up and tear
    down. For the calls on every message's path (about 0.1 ms each instead of 0.2-0.4 ms of Python on this thread).
    """

    @functools.wraps(method)
    async def run(self: R, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self.db.run_statements(lambda connection: method(self, connection, *args, **kwargs))

    return run


def grouped(
    method: Callable[Concatenate[R, Connection, P], T],
) -> Callable[Concatenate[R, P], Coroutine[Any, Any, T]]:
    """Like `statements`, in a transaction shared with the calls that arrive at the same time (see the module).

    For short calls on every reply's path only: a group waits for its slowest member.
    """

    @functools.wraps(method)
    async def run(self: R, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self.db.run_grouped(lambda connection: method(self, connection, *args, **kwargs))

    return run


def rows_changed(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE run through `Session.execute` changed. The session types every result as a
    plain `Result`; for these statements it is a `CursorResult`, the one that counts rows."""
    return cast("CursorResult[Any]", result).rowcount


class _Call(Generic[T]):
    __slots__ = ("future", "work")

    def __init__(self, work: Callable[[Connection], T], future: asyncio.Future[T]) -> None:
        self.work = work
        self.future = future


def _deliver(group: list[_Call[Any]], outcomes: list[tuple[bool, Any]]) -> None:
    """On the loop: every caller of a group gets its result (or its exception) in one wake-up."""
    for call, (ok, value) in zip(group, outcomes, strict=True):
        if call.future.done():  # its caller was cancelled meanwhile
            continue
        if ok:
            call.future.set_result(value)
        else:
            call.future.set_exception(value)


def make_private(database: Path) -> None:
    """Create the SQLite file readable by this account only (0600), in a folder it creates 0700.

    SQLite creates its `-wal` and `-shm` files with the database file's own permissions, so creating the database
    0600 before SQLite opens it covers all three; files left by an earlier run are tightened too.
    """
    database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(database, os.O_CREAT | os.O_WRONLY, 0o600))
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = database.with_name(database.name + suffix)
        if path.exists():
            path.chmod(0o600)


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()
