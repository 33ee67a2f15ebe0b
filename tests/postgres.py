"""PostgreSQL for the tests: the server CI provides at 127.0.0.1:5432 (trust auth, database `test`).

`CHATUI_TEST_POSTGRES_URL` points elsewhere. Where no PostgreSQL answers, the tests that need it are skipped —
unless `CHATUI_REQUIRE_POSTGRES=1` (set by `.ci/run`), where that is a failure.
"""

from __future__ import annotations

import os
import uuid

import asyncpg
import pytest

DEFAULT_URL = "postgresql://127.0.0.1:5432/test"


def postgres_url() -> str:
    return os.environ.get("CHATUI_TEST_POSTGRES_URL", DEFAULT_URL)


async def fresh_postgres_database() -> str:
    """Create an empty database for one test and return its SQLAlchemy URL (`drop_postgres_database` removes it)."""
    url = postgres_url()
    try:
        admin = await asyncpg.connect(url, timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        if os.environ.get("CHATUI_REQUIRE_POSTGRES") == "1":
            raise
        pytest.skip(f"no PostgreSQL at {url}: {exc}")
    name = f"chatui_test_{uuid.uuid4().hex[:12]}"
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = url.rsplit("/", 1)[0]
    return f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"


async def drop_postgres_database(sqlalchemy_url: str) -> None:
    name = sqlalchemy_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(postgres_url(), timeout=3)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
