"""the Think control: conversations.reasoning_effort ("low" | "medium" | "high", or NULL: left to the model)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ADD COLUMN (see 0009): a batch would reflect the table, and cannot reflect the lower() index
    op.add_column("conversations", sa.Column("reasoning_effort", sa.String(8), nullable=True))


def downgrade() -> None:
    op.drop_column("conversations", "reasoning_effort")
