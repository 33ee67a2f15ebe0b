"""knowledge vectors: each chunk's embedding per model, for hybrid retrieval (float32 BLOB / bytea)

Plain columns on both databases (no sqlite-vec, no pgvector): BENCHMARKS.md §24 says why.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 04:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "knowledge_vectors",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("chunk_id", sa.Integer(), nullable=False),
        sa.Column("collection_id", sa.String(length=36), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["chunk_id"], ["knowledge_chunks.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_knowledge_vectors_chunk_model", "knowledge_vectors", ["chunk_id", "model"], unique=True)
    op.create_index("ix_knowledge_vectors_collection_model", "knowledge_vectors", ["collection_id", "model", "id"])


def downgrade() -> None:
    op.drop_index("ix_knowledge_vectors_collection_model", table_name="knowledge_vectors")
    op.drop_index("ix_knowledge_vectors_chunk_model", table_name="knowledge_vectors")
    op.drop_table("knowledge_vectors")
