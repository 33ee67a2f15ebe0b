"""conversation list keyset index: (user_id, updated_at, id)

The sidebar and `GET /api/conversations?limit=` page through a user's conversations newest first, keyed on
(updated_at, id); the index of that shape serves each page without sorting the account's whole list.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_user_updated")
        batch_op.create_index("ix_conversations_user_updated_id", ["user_id", "updated_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_user_updated_id")
        batch_op.create_index("ix_conversations_user_updated", ["user_id", "updated_at"], unique=False)
