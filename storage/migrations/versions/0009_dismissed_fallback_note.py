"""users.dismissed_fallback: the default model whose "new chats start on another model" note a person dismissed

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 20:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ADD COLUMN (SQLite has it): a batch would reflect the table, and cannot reflect the lower() index
    op.add_column("users", sa.Column("dismissed_fallback", sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "dismissed_fallback")
