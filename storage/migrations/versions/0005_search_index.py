"""full-text search index over messages and conversation titles

SQLite: FTS5 external-content tables kept in step by triggers, in `storage.search_index` (which also repairs them
after a later migration rebuilds a table).

PostgreSQL: a stored generated `search_vector` column per table (null while streaming) with a GIN index; the
database keeps it in step by itself. An index on `messages.created_at` lets a common word be read newest first.

Existing rows are indexed here.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 09:40:00
"""

from __future__ import annotations

from alembic import op

from storage import search_index

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

POSTGRES_UP = [
    f"""ALTER TABLE messages ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        CASE WHEN status <> {search_index.STREAMING} THEN to_tsvector('simple'::regconfig, left(content, 100000)) END
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


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        search_index.create_sqlite(op.get_bind())
    else:
        for statement in POSTGRES_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        search_index.drop_sqlite(op.get_bind())
    else:
        for statement in POSTGRES_DOWN:
            op.execute(statement)
