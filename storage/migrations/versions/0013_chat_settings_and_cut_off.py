"""chat settings: conversations.max_tokens, top_p, seed; messages.cut_off (a reply that ended at the token limit)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMNs (see 0009): a batch would reflect the tables, and cannot reflect the lower() index
    op.add_column("conversations", sa.Column("max_tokens", sa.Integer(), nullable=True))
    op.add_column("conversations", sa.Column("top_p", sa.Float(), nullable=True))
    op.add_column("conversations", sa.Column("seed", sa.BigInteger(), nullable=True))
    # every reply stored before this ended for a reason nobody recorded: not known to be cut off
    op.add_column("messages", sa.Column("cut_off", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    op.drop_column("messages", "cut_off")
    op.drop_column("conversations", "seed")
    op.drop_column("conversations", "top_p")
    op.drop_column("conversations", "max_tokens")
