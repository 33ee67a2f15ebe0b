"""Tables of the knowledge collections (issue 25): a user's collections, their documents, the documents' chunks.

Apart from `storage/models.py` (same `Base`, so migrations, `backup` and `migrate-db` see them): that module is the
conversations' own. The full-text index over the chunks (FTS5 on SQLite, a tsvector column on PostgreSQL) is not
in the models: see `storage.knowledge_search`, which builds and reads it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime, new_id, utcnow


class DocumentStatus(StrEnum):
    """Where a document's ingest stands: waiting or being read, searchable, or refused with a reason."""

    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


class KnowledgeCollection(Base):
    """A named set of documents one user owns; `shared` (set by an administrator) lets every account read it."""

    __tablename__ = "knowledge_collections"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    shared: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KnowledgeDocument(Base):
    """One uploaded file of a collection. Its bytes are not kept: only the chunks its text was split into (the
    document is shown again from them)."""

    __tablename__ = "knowledge_documents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    collection_id: Mapped[str] = mapped_column(ForeignKey("knowledge_collections.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    """How its text was read: `pdf`, `html`, `markdown`, `text` or `code` (`unknown` for a refused file)."""
    size: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(8), default=DocumentStatus.PENDING)
    reason: Mapped[str | None] = mapped_column(Text)
    """Why it failed: a sentence for the person."""
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    """0..1 while pending: how much of the ingest is done (for the progress bar)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KnowledgeChunk(Base):
    """A passage of a document: its page (PDF), the headings above it, and its text. `overlap` leading characters
    repeat the end of the chunk before, so a passage that straddles a cut is whole in one of them; the document is
    shown again by joining each chunk's text without them."""

    __tablename__ = "knowledge_chunks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    """Also the full-text index's rowid (SQLite's FTS5 external content table)."""
    document_id: Mapped[str] = mapped_column(ForeignKey("knowledge_documents.id", ondelete="CASCADE"))
    collection_id: Mapped[str] = mapped_column(String(36))
    """The document's collection, so retrieval filters without a join (deleted with the document, by its cascade)."""
    seq: Mapped[int] = mapped_column(Integer)
    page: Mapped[int | None] = mapped_column(Integer)
    heading: Mapped[str | None] = mapped_column(Text)
    """The heading path above the passage, `A › B › C`."""
    text: Mapped[str] = mapped_column(Text)
    overlap: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        Index("ix_knowledge_chunks_document_seq", "document_id", "seq"),
        Index("ix_knowledge_chunks_collection", "collection_id"),
    )


class KnowledgeVector(Base):
    """A chunk's embedding by one model (hybrid retrieval, `storage.knowledge_vectors`): float32s, little-endian.

    `model` is the qualified id that made it (`ollama:nomic-embed-text`): retrieval compares a question only with
    vectors of the model that embeds questions now, so two models' vectors are never mixed. `id` is the order the
    rows were written in: an in-memory index (`storage.vector_index`) reads only the rows after the last it holds.
    Deleted with its chunk (the foreign key's cascade).
    """

    __tablename__ = "knowledge_vectors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chunk_id: Mapped[int] = mapped_column(ForeignKey("knowledge_chunks.id", ondelete="CASCADE"))
    collection_id: Mapped[str] = mapped_column(String(36))
    model: Mapped[str] = mapped_column(String(200))
    vector: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (
        Index("ix_knowledge_vectors_chunk_model", "chunk_id", "model", unique=True),
        Index("ix_knowledge_vectors_collection_model", "collection_id", "model", "id"),
    )
