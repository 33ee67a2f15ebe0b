"""PostgreSQL for the tests: the server CI provides at 127.0.0.1:5432 (trust auth, database `test`).

`CHATUI_TEST_POSTGRES_URL` points elsewhere. Where no PostgreSQL answers, the tests that need it are skipped —
unless `CHATUI_REQUIRE_POSTGRES=1` (set by `.ci/run`), where that is a failure.
"""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest

DEFAULT_URL = "postgresql://127.0.0.1:5432/test"


def postgres_url() -> str:
    return os.environ.get("CHATUI_TEST_POSTGRES_URL", DEFAULT_URL)


def _admin() -> psycopg.Connection:
    return psycopg.connect(postgres_url(), autocommit=True, connect_timeout=3)


def fresh_postgres_database() -> str:
    """Create an empty database for one test and return its URL (`drop_postgres_database` removes it)."""
    try:
        admin = _admin()
    except psycopg.OperationalError as exc:
        if os.environ.get("CHATUI_REQUIRE_POSTGRES") == "1":
            raise
        pytest.skip(f"no PostgreSQL at {postgres_url()}: {exc}")
    name = f"chatui_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"{postgres_url().rsplit('/', 1)[0]}/{name}"


def drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
