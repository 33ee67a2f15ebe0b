"""deleted conversations: kept for a few seconds in the database, so an undo works from any instance

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deleted_conversations",
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("expires_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token"),
    )
    op.create_index("ix_deleted_conversations_user_id", "deleted_conversations", ["user_id"])
    op.create_index("ix_deleted_conversations_expires_at", "deleted_conversations", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_deleted_conversations_expires_at", table_name="deleted_conversations")
    op.drop_index("ix_deleted_conversations_user_id", table_name="deleted_conversations")
    op.drop_table("deleted_conversations")
