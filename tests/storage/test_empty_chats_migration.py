"""Migration 0004: untitled conversations without a message (the old empty "New chat" rows) are dropped; nothing
that holds a message or a title is touched."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

from storage.migrate import alembic_config


def test_only_empty_untitled_conversations_are_dropped(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0002")
        connection.execute(
            text(
                "INSERT INTO users (id, username, password_hash, is_admin, is_disabled, created_at)"
                " VALUES ('u', 'ann', 'x', 1, 0, '2026-11-01 00:00:00')"
            )
        )
        for conversation, title in (("empty", None), ("titled", "Plans"), ("used", None)):
            connection.execute(
                text(
                    "INSERT INTO conversations (id, user_id, title, model, created_at, updated_at)"
                    " VALUES (:id, 'u', :title, 'ollama:m', '2026-11-01 00:00:00', '2026-11-01 00:00:00')"
                ),
                {"id": conversation, "title": title},
            )
        connection.execute(
            text(
                "INSERT INTO messages (id, conversation_id, role, content, status, created_at)"
                " VALUES ('m', 'used', 'user', 'hello', 'done', '2026-11-01 00:00:00')"
            )
        )
        command.upgrade(alembic_config(connection), "0004")
        left = connection.execute(text("SELECT id FROM conversations ORDER BY id")).scalars().all()
    engine.dispose()
    assert left == ["titled", "used"]
