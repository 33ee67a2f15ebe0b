"""the folder list's index per user: (user_id, folder_id, archived, pinned, updated_at, id)

The sidebar lists the conversations in no folder (`folder_id IS NULL`) apart from each folder's: keyed on
folder_id alone, that list would have read every user's unfiled conversations.

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-05 14:25:00
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_conversations_folder_list", table_name="conversations")
    op.create_index(
        "ix_conversations_user_folder_list",
        "conversations",
        ["user_id", "folder_id", "archived", "pinned", "updated_at", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_conversations_user_folder_list", table_name="conversations")
    op.create_index(
        "ix_conversations_folder_list", "conversations", ["folder_id", "archived", "pinned", "updated_at", "id"]
    )
