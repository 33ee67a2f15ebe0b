"""Drop the empty "New chat" rows: conversations with no title and no message (never used, nothing to lose)

A conversation exists from its first message; earlier versions could leave an untitled, empty one behind (a first
message that was refused). A conversation given a title (e.g. created over the API) is kept even when empty.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 10:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        sa.text(
            "DELETE FROM conversations WHERE title IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM messages WHERE messages.conversation_id = conversations.id)"
        )
    )


def downgrade() -> None:
    """Nothing to restore: the rows held nothing."""
