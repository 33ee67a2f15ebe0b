"""presets (named chat settings, publishable to everyone), the prompt library, and the preset a conversation began from

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-06 01:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0020"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "presets",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("system_prompt", sa.Text(), nullable=True),
        sa.Column("temperature", sa.Float(), nullable=True),
        sa.Column("tools", sa.JSON(), nullable=True),
        sa.Column("shared", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_presets_user_id", "presets", ["user_id"])
    op.create_index("ix_presets_shared", "presets", ["shared"])
    op.create_table(
        "prompts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_prompts_user_name", "prompts", ["user_id", "name"], unique=True)
    # a plain ADD COLUMN (see 0009); no foreign key (as for folder_id): a deleted preset leaves its chats alone
    op.add_column("conversations", sa.Column("preset_id", sa.String(length=36), nullable=True))


def downgrade() -> None:
    op.drop_column("conversations", "preset_id")
    op.drop_index("ix_prompts_user_name", table_name="prompts")
    op.drop_table("prompts")
    op.drop_index("ix_presets_shared", table_name="presets")
    op.drop_index("ix_presets_user_id", table_name="presets")
    op.drop_table("presets")
