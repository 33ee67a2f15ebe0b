"""tools: conversations.tools (the chat's tool selection), users.default_tools (what new chats start with)

Revision ID: 0015
Revises: 0016
Create Date: 2026-12-05 14:25:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMNs (see 0009): a batch would reflect the tables, and cannot reflect the lower() index
    op.add_column("conversations", sa.Column("tools", sa.JSON(), nullable=True))
    op.add_column("users", sa.Column("default_tools", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "default_tools")
    op.drop_column("conversations", "tools")
