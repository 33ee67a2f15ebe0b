"""Storage against a real SQLite file: ids, roles and order, cascade delete, foreign keys, WAL."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage import AccountRepository, ConversationRepository, Database, MessageStatus, UsernameTaken, mark_interrupted


async def test_sqlite_runs_with_wal_foreign_keys_and_busy_timeout(db: Database):
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


async def test_exchange_saves_user_then_assistant_with_uuid_ids(db: Database, tmp_path: Path):
    accounts, chats = AccountRepository(db), ConversationRepository(db)
    user = await accounts.create_user("alice", "hash")
    conversation = await chats.create_conversation(user.id, "ollama:llama3.2:3b")
    _, reply_id = await chats.start_exchange(user.id, conversation.id, "What is 5 plus 3?", "ollama:llama3.2:3b", "T")
    await chats.finish_message(reply_id, content="8.", status=MessageStatus.DONE, completion_tokens=2)

    with sqlite3.connect(tmp_path / "database.db") as raw:  # what is on disk, read without the app
        rows = raw.execute(
            "SELECT id, role, content, status, completion_tokens FROM messages ORDER BY created_at"
        ).fetchall()
        title = raw.execute("SELECT title FROM conversations").fetchone()[0]
    assert [(r[1], r[2], r[3]) for r in rows] == [("user", "What is 5 plus 3?", "done"), ("assistant", "8.", "done")]
    assert rows[1][4] == 2
    for row in rows:
        assert uuid.UUID(row[0]).version == 4
    assert title == "T"


async def test_first_account_is_admin_and_names_are_unique_case_insensitively(any_db: Database):
    accounts = AccountRepository(any_db)
    first = await accounts.create_user("alice", "hash")
    second = await accounts.create_user("bob", "hash")
    assert first.is_admin and not second.is_admin
    with pytest.raises(UsernameTaken):
        await accounts.create_user("ALICE", "hash")


async def test_deleting_a_conversation_deletes_its_messages(db: Database, tmp_path: Path):
    accounts, chats = AccountRepository(db), ConversationRepository(db)
    user = await accounts.create_user("alice", "hash")
    conversation = await chats.create_conversation(user.id, "ollama:m")
    await chats.start_exchange(user.id, conversation.id, "hi", "ollama:m", "hi")
    assert await chats.delete_conversation(user.id, conversation.id)
    with sqlite3.connect(tmp_path / "database.db") as raw:
        assert raw.execute("SELECT count(*) FROM messages").fetchone()[0] == 0


async def test_foreign_keys_are_enforced(db: Database):
    with db.engine.begin() as connection, pytest.raises(IntegrityError):
        connection.execute(
            text(
                "INSERT INTO messages (id, conversation_id, role, content, status, created_at) "
                "VALUES ('m', 'no-such-conversation', 'user', 'x', 'done', '2026-01-01')"
            )
        )


async def test_only_the_owner_sees_or_deletes_a_conversation(any_db: Database):
    accounts, chats = AccountRepository(any_db), ConversationRepository(any_db)
    alice = await accounts.create_user("alice", "hash")
    bob = await accounts.create_user("bob", "hash")
    conversation = await chats.create_conversation(alice.id, "ollama:m")
    assert await chats.get_conversation(bob.id, conversation.id) is None
    assert not await chats.delete_conversation(bob.id, conversation.id)
    assert await chats.update_conversation(bob.id, conversation.id, title="mine now") is None
    assert (await chats.get_conversation(alice.id, conversation.id)).title is None


async def test_checkpoint_writes_only_streaming_rows(any_db: Database):
    accounts, chats = AccountRepository(any_db), ConversationRepository(any_db)
    user = await accounts.create_user("alice", "hash")
    conversation = await chats.create_conversation(user.id, "ollama:m")
    _, reply_id = await chats.start_exchange(user.id, conversation.id, "hi", "ollama:m", "hi")
    reply = reply_id
    await chats.checkpoint({reply: "partial"})
    assert (await chats.messages(conversation.id))[1].content == "partial"
    await chats.finish_message(reply, content="final", status=MessageStatus.DONE, completion_tokens=1)
    await chats.checkpoint({reply: "late checkpoint"})  # must not overwrite a finished reply
    assert (await chats.messages(conversation.id))[1].content == "final"


async def test_restart_marks_streaming_replies_interrupted_keeping_text(any_db: Database):
    accounts, chats = AccountRepository(any_db), ConversationRepository(any_db)
    user = await accounts.create_user("alice", "hash")
    conversation = await chats.create_conversation(user.id, "ollama:m")
    _, reply_id = await chats.start_exchange(user.id, conversation.id, "hi", "ollama:m", "hi")
    await chats.checkpoint({reply_id: "half a rep"})
    assert any_db.prepare(mark_interrupted) == 1
    reply = (await chats.messages(conversation.id))[1]
    assert (reply.status, reply.content) == (MessageStatus.INTERRUPTED, "half a rep")


async def test_migrations_build_exactly_the_models_schema(any_db: Database):
    """A model change without a migration (or the reverse) fails here."""
    import warnings

    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from storage.migrate import include_name
    from storage.models import Base

    def differences(connection):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SQLite cannot reflect the lower(username) expression index
            context = MigrationContext.configure(connection, opts={"include_name": include_name})
            return compare_metadata(context, Base.metadata)

    with any_db.engine.connect() as connection:
        assert differences(connection) == []
        if not any_db.is_sqlite:
            indexes = connection.execute(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_users_username_lower'")
            )
            assert "lower" in indexes.scalar_one()


async def test_conversations_page_newest_first_without_repeats(any_db: Database):
    from testing.seed import seed_conversations

    accounts, chats = AccountRepository(any_db), ConversationRepository(any_db)
    user = await accounts.create_user("alice", "hash")
    other = await accounts.create_user("bob", "hash")
    ids = await any_db.run_statements(lambda c: seed_conversations(c, user.id, 25))
    await any_db.run_statements(lambda c: seed_conversations(c, other.id, 3))
    first = await chats.list_conversations(user.id, limit=10)
    assert [c.id for c in first.conversations] == ids[::-1][:10] and first.next_cursor
    # a conversation moving to the top meanwhile is not shown twice on the later pages
    await chats.start_exchange(user.id, ids[20], "hello", "ollama:m", "t")
    second = await chats.list_conversations(user.id, limit=10, cursor=first.next_cursor)
    third = await chats.list_conversations(user.id, limit=10, cursor=second.next_cursor)
    assert [c.id for c in second.conversations + third.conversations] == ids[::-1][10:]
    assert third.next_cursor is None
    everything = await chats.list_conversations(user.id)
    assert len(everything.conversations) == 25 and everything.conversations[0].id == ids[20]
    found = await chats.list_conversations(user.id, limit=10, title_contains="ation 3")
    assert [c.title for c in found.conversations] == ["Conversation 3"]
    assert (await chats.list_conversations(user.id, limit=10, title_contains="100%_")).conversations == []
    with pytest.raises(ValueError):
        await chats.list_conversations(user.id, limit=10, cursor="not-a-cursor")
