"""organize conversations: pinned, archived, folders (one level of nesting), tags

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-05 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "folders",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("parent_id", sa.String(length=36), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["parent_id"], ["folders.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_folders_user_id", "folders", ["user_id"])
    # plain ADD COLUMNs (see 0009): a batch would reflect the table, and cannot reflect the lower() index
    op.add_column("conversations", sa.Column("pinned", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("conversations", sa.Column("archived", sa.Boolean(), server_default=sa.false(), nullable=False))
    # no foreign key (as for active_message_id): SQLite adds none to a table, and deleting a folder moves its
    # conversations out in its own transaction (storage.organize)
    op.add_column("conversations", sa.Column("folder_id", sa.String(length=36), nullable=True))
    op.create_index(
        "ix_conversations_user_list", "conversations", ["user_id", "archived", "pinned", "updated_at", "id"]
    )
    op.create_index(
        "ix_conversations_folder_list", "conversations", ["folder_id", "archived", "pinned", "updated_at", "id"]
    )
    op.create_table(
        "conversation_tags",
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("conversation_id", "tag", name="pk_conversation_tags"),
    )
    op.create_index("ix_conversation_tags_user_tag", "conversation_tags", ["user_id", "tag"])


def downgrade() -> None:
    op.drop_index("ix_conversation_tags_user_tag", table_name="conversation_tags")
    op.drop_table("conversation_tags")
    op.drop_index("ix_conversations_folder_list", table_name="conversations")
    op.drop_index("ix_conversations_user_list", table_name="conversations")
    op.drop_column("conversations", "folder_id")
    op.drop_column("conversations", "archived")
    op.drop_column("conversations", "pinned")
    op.drop_index("ix_folders_user_id", table_name="folders")
    op.drop_table("folders")
