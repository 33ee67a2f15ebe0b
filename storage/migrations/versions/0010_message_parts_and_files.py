"""message parts and files: each message an ordered list of parts; uploads, their bytes chunked, once per user

Every existing message becomes one text part holding its `content` (which stays the message's text for every
reader). storage/PARTS.md describes the kinds of part and the file store.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 20:47:03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


# One statement, in the database: no row passes through Python however many messages there are.
_TEXT_PARTS = "INSERT INTO message_parts (message_id, position, kind, text) SELECT id, 0, 'text', content FROM messages"


def upgrade() -> None:
    op.create_table(
        "blobs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "sha256", name="uq_blobs_user_sha256"),
    )
    op.create_table(
        "blob_chunks",
        sa.Column("blob_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["blob_id"], ["blobs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("blob_id", "seq", name="pk_blob_chunks"),
    )
    op.create_table(
        "files",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("blob_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attached_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["blob_id"], ["blobs.id"], deferrable=True, initially="DEFERRED"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_files_blob_id"), ["blob_id"], unique=False)
        batch_op.create_index("ix_files_user_created", ["user_id", "created_at"], unique=False)

    op.create_table(
        "message_parts",
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("file_id", sa.String(length=36), nullable=True),
        sa.Column("call_id", sa.String(length=100), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["file_id"], ["files.id"], deferrable=True, initially="DEFERRED"),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("message_id", "position", name="pk_message_parts"),
    )
    with op.batch_alter_table("message_parts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_parts_file_id"), ["file_id"], unique=False)

    op.execute(_TEXT_PARTS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # checks deferred to commit would block dropping the tables
        op.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with op.batch_alter_table("message_parts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_parts_file_id"))

    op.drop_table("message_parts")
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.drop_index("ix_files_user_created")
        batch_op.drop_index(batch_op.f("ix_files_blob_id"))

    op.drop_table("files")
    op.drop_table("blob_chunks")
    op.drop_table("blobs")
