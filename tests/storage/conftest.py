"""Storage fixtures: a fresh SQLite file, or the same tests on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import Database, mark_interrupted
from tests.postgres import drop_postgres_database, fresh_postgres_database


@pytest.fixture
async def db(tmp_path: Path):
    """A fresh SQLite file (the tests that read the file directly use this one)."""
    database = Database(f"sqlite:///{tmp_path / 'database.db'}")
    database.prepare(mark_interrupted)
    yield database
    await database.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def any_db(request: pytest.FixtureRequest, tmp_path: Path):
    """The same repository tests on SQLite and on PostgreSQL (see tests/postgres.py)."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'database.db'}")
    else:
        database = Database(fresh_postgres_database())
    database.prepare(mark_interrupted)
    yield database
    await database.close()
    if request.param == "postgresql":
        drop_postgres_database(database.url.set(drivername="postgresql").render_as_string(hide_password=False))
