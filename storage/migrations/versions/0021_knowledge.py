"""knowledge collections: collections, documents, chunks with a full-text index; conversations' attached knowledge

SQLite: an FTS5 external-content table over the chunks, kept in step by triggers (`storage.knowledge_search`).
PostgreSQL: a stored generated tsvector column with a GIN index.

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-06 01:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models
from storage import knowledge_search

revision = "0021"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "knowledge_collections",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("shared", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_knowledge_collections_user_id", "knowledge_collections", ["user_id"])
    op.create_table(
        "knowledge_documents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("collection_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["collection_id"], ["knowledge_collections.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_knowledge_documents_collection_id", "knowledge_documents", ["collection_id"])
    op.create_table(
        "knowledge_chunks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("document_id", sa.String(length=36), nullable=False),
        sa.Column("collection_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("heading", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("overlap", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["knowledge_documents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_knowledge_chunks_document_seq", "knowledge_chunks", ["document_id", "seq"])
    op.create_index("ix_knowledge_chunks_collection", "knowledge_chunks", ["collection_id"])
    # plain ADD COLUMN (see 0009): a batch would reflect the table, and cannot reflect the lower() index
    op.add_column("conversations", sa.Column("knowledge", sa.JSON(), nullable=True))
    statements = knowledge_search.SQLITE_UP if op.get_bind().dialect.name == "sqlite" else knowledge_search.POSTGRES_UP
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    down = knowledge_search.SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else knowledge_search.POSTGRES_DOWN
    for statement in down:
        op.execute(statement)
    op.drop_column("conversations", "knowledge")
    op.drop_index("ix_knowledge_chunks_collection", table_name="knowledge_chunks")
    op.drop_index("ix_knowledge_chunks_document_seq", table_name="knowledge_chunks")
    op.drop_table("knowledge_chunks")
    op.drop_index("ix_knowledge_documents_collection_id", table_name="knowledge_documents")
    op.drop_table("knowledge_documents")
    op.drop_index("ix_knowledge_collections_user_id", table_name="knowledge_collections")
    op.drop_table("knowledge_collections")
