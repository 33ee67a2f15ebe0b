"""messages as a tree: parent_id, the active leaf, system prompt and temperature, completion_tokens

Every existing conversation becomes a single path: each message's parent is the one written before it, and the
conversation's active leaf is its last message.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 09:40:00
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The previous message of each message in its conversation, and the last message of each conversation. Window
# functions and UPDATE ... FROM work alike on PostgreSQL and SQLite (3.33+), in one pass each.
_LINK_PARENTS = """
UPDATE messages SET parent_id = ordered.previous
FROM (
    SELECT id, LAG(id) OVER (PARTITION BY conversation_id ORDER BY created_at, id) AS previous FROM messages
) AS ordered
WHERE messages.id = ordered.id AND ordered.previous IS NOT NULL
"""
_SET_ACTIVE_LEAVES = """
UPDATE conversations SET active_message_id = ranked.id
FROM (
    SELECT id, conversation_id,
           ROW_NUMBER() OVER (PARTITION BY conversation_id ORDER BY created_at DESC, id DESC) AS position
    FROM messages
) AS ranked
WHERE conversations.id = ranked.conversation_id AND ranked.position = 1
"""


def upgrade() -> None:
    # Plain ADD COLUMN (SQLite has it): a batch copy of `users` would lose its lower(username) index.
    op.add_column("users", sa.Column("default_system_prompt", sa.Text(), nullable=True))
    op.add_column("conversations", sa.Column("active_message_id", sa.String(length=36), nullable=True))
    op.add_column("conversations", sa.Column("system_prompt", sa.Text(), nullable=True))
    op.add_column("conversations", sa.Column("temperature", sa.Float(), nullable=True))

    with _quiet_reflection(), op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_id", sa.String(length=36), nullable=True))
        batch_op.alter_column("tokens", new_column_name="completion_tokens", existing_type=sa.Integer())
        batch_op.create_foreign_key(
            "fk_messages_parent_id_messages", "messages", ["parent_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.create_index("ix_messages_parent_created", ["parent_id", "created_at"], unique=False)

    op.execute(_LINK_PARENTS)
    op.execute(_SET_ACTIVE_LEAVES)


def downgrade() -> None:
    with _quiet_reflection(), op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_parent_created")
        batch_op.drop_constraint("fk_messages_parent_id_messages", type_="foreignkey")
        batch_op.alter_column("completion_tokens", new_column_name="tokens", existing_type=sa.Integer())
        batch_op.drop_column("parent_id")

    # Plain DROP COLUMN (SQLite 3.35+), for the same reason.
    op.drop_column("conversations", "temperature")
    op.drop_column("conversations", "system_prompt")
    op.drop_column("conversations", "active_message_id")
    op.drop_column("users", "default_system_prompt")


@contextmanager
def _quiet_reflection() -> Iterator[None]:
    """SQLite's batch copy of `messages` reflects the tables it refers to, and SQLAlchemy warns that it cannot
    reflect `users`' lower(username) index. `users` is only read there, never copied, so the index is not at risk."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        yield
