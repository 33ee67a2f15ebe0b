"""full-text search index over messages and conversation titles

SQLite: FTS5 external-content tables that read their text from `messages` / `conversations` (no second copy of
it), kept in step by triggers. A message is in the index only while its status is not `streaming`: checkpoints
(streaming → streaming) touch nothing, the end of a reply (streaming → anything) adds it, an edit of a finished
message replaces it, a delete (also the cascade from its conversation) removes it. The 'delete' command of an
external-content table must be given exactly the text that was indexed, which is why the streaming text, never
indexed, is never "deleted" either.

PostgreSQL: a stored generated `search_vector` column per table (null while streaming) with a GIN index; the
database keeps it in step by itself. An index on `messages.created_at` lets a common word be read newest first.

Existing rows are indexed here. Note for later migrations: rebuilding `messages` or `conversations` on SQLite
(Alembic's batch "move and copy") drops these triggers and may renumber rowids; such a migration must re-run
`create_sqlite_search()` and rebuild the index (`INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')`, then
remove streaming rows) — tests/storage/test_search.py fails if the triggers are gone.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 09:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

STREAMING = "'streaming'"

SQLITE_UP = [
    "CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages', content_rowid='rowid', "
    "tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    "CREATE VIRTUAL TABLE conversations_fts USING fts5(title, content='conversations', content_rowid='rowid', "
    "tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    f"""CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.status <> {STREAMING} BEGIN
        INSERT INTO messages_fts(rowid, content) VALUES (new.rowid, new.content);
    END""",
    f"""CREATE TRIGGER messages_fts_unindex AFTER UPDATE OF content, status ON messages
    WHEN old.status <> {STREAMING} BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
    END""",
    f"""CREATE TRIGGER messages_fts_reindex AFTER UPDATE OF content, status ON messages
    WHEN new.status <> {STREAMING} BEGIN
        INSERT INTO messages_fts(rowid, content) VALUES (new.rowid, new.content);
    END""",
    f"""CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.status <> {STREAMING} BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
    END""",
    """CREATE TRIGGER conversations_fts_insert AFTER INSERT ON conversations BEGIN
        INSERT INTO conversations_fts(rowid, title) VALUES (new.rowid, new.title);
    END""",
    """CREATE TRIGGER conversations_fts_update AFTER UPDATE OF title ON conversations BEGIN
        INSERT INTO conversations_fts(conversations_fts, rowid, title) VALUES ('delete', old.rowid, old.title);
        INSERT INTO conversations_fts(rowid, title) VALUES (new.rowid, new.title);
    END""",
    """CREATE TRIGGER conversations_fts_delete AFTER DELETE ON conversations BEGIN
        INSERT INTO conversations_fts(conversations_fts, rowid, title) VALUES ('delete', old.rowid, old.title);
    END""",
    f"INSERT INTO messages_fts(rowid, content) SELECT rowid, content FROM messages WHERE status <> {STREAMING}",
    "INSERT INTO conversations_fts(rowid, title) SELECT rowid, title FROM conversations",
]
SQLITE_DOWN = [
    *(
        f"DROP TRIGGER IF EXISTS {name}"
        for name in (
            "messages_fts_insert",
            "messages_fts_unindex",
            "messages_fts_reindex",
            "messages_fts_delete",
            "conversations_fts_insert",
            "conversations_fts_update",
            "conversations_fts_delete",
        )
    ),
    "DROP TABLE IF EXISTS messages_fts",
    "DROP TABLE IF EXISTS conversations_fts",
]

POSTGRES_UP = [
    f"""ALTER TABLE messages ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        CASE WHEN status <> {STREAMING} THEN to_tsvector('simple'::regconfig, left(content, 100000)) END
    ) STORED""",
    "CREATE INDEX ix_messages_search ON messages USING gin (search_vector)",
    # A word in most messages is read newest first along this index (see storage.search._PG_MESSAGES).
    "CREATE INDEX ix_messages_created ON messages (created_at)",
    """ALTER TABLE conversations ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        to_tsvector('simple'::regconfig, coalesce(title, ''))
    ) STORED""",
    "CREATE INDEX ix_conversations_search ON conversations USING gin (search_vector)",
]
POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS ix_conversations_search",
    "ALTER TABLE conversations DROP COLUMN IF EXISTS search_vector",
    "DROP INDEX IF EXISTS ix_messages_created",
    "DROP INDEX IF EXISTS ix_messages_search",
    "ALTER TABLE messages DROP COLUMN IF EXISTS search_vector",
]


def create_sqlite_search() -> None:
    """The SQLite tables, triggers and initial index (also for a later migration that rebuilds a table)."""
    for statement in SQLITE_UP:
        op.execute(statement)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        create_sqlite_search()
    else:
        for statement in POSTGRES_UP:
            op.execute(statement)


def downgrade() -> None:
    for statement in SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else POSTGRES_DOWN:
        op.execute(statement)
