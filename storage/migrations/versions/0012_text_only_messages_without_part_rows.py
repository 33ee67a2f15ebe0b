"""text-only messages without part rows: a message that is one text part is its `content` (storage/PARTS.md)

0010 copied every message's text into a part row; those rows said no more than `messages.content` and doubled the
text on disk. A message's parts are now stored only when it has more than its text (files, reasoning, tool steps).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 08:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# In the database, one statement each: no row passes through Python however many messages there are.
_DROP_LONE_TEXT = (
    "DELETE FROM message_parts WHERE kind = 'text' AND position = 0 "
    "AND message_id NOT IN (SELECT message_id FROM message_parts WHERE position > 0)"
)
_TEXT_PARTS_AGAIN = (
    "INSERT INTO message_parts (message_id, position, kind, text) SELECT id, 0, 'text', content FROM messages "
    "WHERE id NOT IN (SELECT message_id FROM message_parts)"
)


def upgrade() -> None:
    op.execute(_DROP_LONE_TEXT)


def downgrade() -> None:
    op.execute(_TEXT_PARTS_AGAIN)
