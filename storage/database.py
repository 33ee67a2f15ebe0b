"""The async engine: SQLite (WAL, foreign keys, busy timeout) by default, PostgreSQL through asyncpg.

Why async: every query is awaited on the event loop without occupying a worker thread per waiting caller, and
the same code serves aiosqlite and asyncpg. aiosqlite runs each connection's calls in its own thread, so a slow
disk never stalls the loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from storage import migrate

T = TypeVar("T")

T = TypeVar("T")

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=15000",
    "PRAGMA synchronous=NORMAL",
)


class Database:
    """Owns the engine and the session factory; `create_schema()` once at start-up, `close()` at shutdown."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = make_url(url)
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            database = self.url.database or ""
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["pool_size"] = 8
            kwargs["max_overflow"] = 8
        else:
            kwargs["pool_size"] = 10
            kwargs["max_overflow"] = 20
            kwargs["pool_pre_ping"] = True
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _set_sqlite_pragmas)
        self.sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    def prepare(self, then: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Migrate the schema to the newest, then run `then` in the same transaction — blocking, before serving.

        NiceGUI runs start-up handlers as background tasks, so a request could otherwise reach an empty database.
        The work runs on its own event loop in a helper thread with a throwaway engine, which works whether or not
        the caller is inside a running loop (the test fixture is).
        """

        async def work() -> T:
            engine = create_async_engine(self.url, poolclass=NullPool)
            if self.is_sqlite:
                event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
            try:
                async with engine.begin() as connection:
                    await connection.run_sync(migrate.upgrade)
                    return await then(connection)
            finally:
                await engine.dispose()

        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, work()).result()

    async def close(self) -> None:
        await self.engine.dispose()


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()
