"""Migration 0007 on a database created at 0006 with conversations in it: each becomes one path, last = active."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, text

from storage.database import sync_url
from storage.migrate import alembic_config
from tests.postgres import drop_postgres_database, fresh_postgres_database

START = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'old.db'}" if request.param == "sqlite" else fresh_postgres_database()
    engine = create_engine(sync_url(url))
    yield engine
    engine.dispose()
    if request.param == "postgresql":
        drop_postgres_database(url)


def _at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def _fill_old(engine: Engine) -> None:
    """Two users' conversations as versions 0001-0006 stored them (flat lists, `tokens`), and one empty conversation."""
    naive = engine.dialect.name == "sqlite"  # UTCDateTime stores naive UTC on SQLite

    def when(seconds: float) -> datetime:
        moment = _at(seconds)
        assert isinstance(moment, datetime)
        return moment.replace(tzinfo=None) if naive else moment

    with engine.begin() as c:
        for user in ("u1", "u2"):
            c.execute(
                text(
                    "INSERT INTO users (id, username, password_hash, is_admin, is_disabled, created_at) "
                    "VALUES (:id, :id, 'x', false, false, :t)"
                ),
                {"id": user, "t": when(0)},
            )
        for cid, user in (("c1", "u1"), ("c2", "u2"), ("empty", "u2")):
            c.execute(
                text(
                    "INSERT INTO conversations (id, user_id, title, model, created_at, updated_at) "
                    "VALUES (:id, :user, 'T', 'ollama:m', :t, :t)"
                ),
                {"id": cid, "user": user, "t": when(0)},
            )
        rows = [
            ("c1-1", "c1", "user", None, 1.0),
            ("c1-2", "c1", "assistant", 7, 1.000001),
            ("c1-3", "c1", "user", None, 5.0),
            ("c1-4", "c1", "assistant", 3, 5.000001),
            ("c2-1", "c2", "user", None, 2.0),
            ("c2-2", "c2", "assistant", 11, 2.000001),
        ]
        for mid, cid, role, tokens, seconds in rows:
            c.execute(
                text(
                    "INSERT INTO messages (id, conversation_id, role, content, status, model, tokens, created_at) "
                    "VALUES (:id, :cid, :role, :content, 'done', NULL, :tokens, :t)"
                ),
                {"id": mid, "cid": cid, "role": role, "content": mid, "tokens": tokens, "t": when(seconds)},
            )


def test_0007_turns_each_conversation_into_one_path_with_its_last_message_active(engine: Engine):
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0006")
    _fill_old(engine)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0007")
    with engine.connect() as c:
        parents = dict(c.execute(text("SELECT id, parent_id FROM messages")).all())
        active = dict(c.execute(text("SELECT id, active_message_id FROM conversations")).all())
        counts = dict(c.execute(text("SELECT id, completion_tokens FROM messages")).all())
        prompts = c.execute(text("SELECT system_prompt, temperature FROM conversations")).all()
        defaults = c.execute(text("SELECT default_system_prompt FROM users")).all()
    assert parents == {
        "c1-1": None,
        "c1-2": "c1-1",
        "c1-3": "c1-2",
        "c1-4": "c1-3",
        "c2-1": None,
        "c2-2": "c2-1",
    }
    assert active == {"c1": "c1-4", "c2": "c2-2", "empty": None}
    assert counts["c1-2"] == 7 and counts["c2-2"] == 11 and counts["c1-1"] is None  # `tokens` renamed, kept
    assert set(prompts) == {(None, None)} and set(defaults) == {(None,)}


def test_0007_can_be_undone(engine: Engine):
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0006")
    _fill_old(engine)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0007")
        command.downgrade(alembic_config(connection), "0006")
    with engine.connect() as c:
        assert dict(c.execute(text("SELECT id, tokens FROM messages WHERE role = 'assistant'")).all()) == {
            "c1-2": 7,
            "c1-4": 3,
            "c2-2": 11,
        }
