"""The knowledge chunks' embeddings (hybrid retrieval, issue 25): which chunks still lack one, writing them, reading
them back for the in-memory index (`storage.vector_index`), and the passages the index's nearest chunks are.

Vectors are plain float32 BLOBs (bytea on PostgreSQL), one row per chunk and model, beside the chunks: the same on
both databases, no extension to install (BENCHMARKS.md §24 measured why neither sqlite-vec nor pgvector is used).
The embedding itself happens above (`chatui.knowledge.embedding`); this module never calls a provider.

Everything here is short statements on the database thread: a page of chunks to embed, a batch of vectors written,
a page of vectors read. The cosine arithmetic runs elsewhere, in a worker thread.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, String, bindparam, delete, func, select, text
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.database import Repository, statements
from storage.knowledge_models import DocumentStatus, KnowledgeChunk, KnowledgeDocument, KnowledgeVector
from storage.knowledge_search import Passage

_chunks, _documents, _vectors = KnowledgeChunk.__table__, KnowledgeDocument.__table__, KnowledgeVector.__table__

EMBED_CHARS = 4_000
"""The most of a chunk sent to be embedded (chunks are ~1,000 characters; a heading path adds a little)."""


@dataclass(frozen=True, slots=True)
class ToEmbed:
    """A chunk of a ready document without a vector of the model: what to send to the embedding model."""

    chunk_id: int
    collection_id: str
    text: str


@dataclass(frozen=True, slots=True)
class StoredVector:
    """One row as the index reads it: the row's id (its order), the chunk, its document, the float32 bytes."""

    id: int
    chunk_id: int
    document_id: str
    vector: bytes


class VectorRepository(Repository):
    @statements
    def to_embed(self, c: Connection, model: str, after: int, limit: int) -> list[ToEmbed]:
        """The next `limit` chunks (by id, after `after`) of ready documents that have no vector of `model`.

        Walked with a cursor (`after`), not by asking afresh each time: the anti-join is a lookup per chunk in the
        unique index, so a page costs the chunks it passes, not all of them."""
        has_vector = select(_vectors.c.id).where(_vectors.c.chunk_id == _chunks.c.id, _vectors.c.model == model)
        rows = c.execute(
            select(_chunks.c.id, _chunks.c.collection_id, _chunks.c.heading, _chunks.c.text)
            .join(_documents, _documents.c.id == _chunks.c.document_id)
            .where(_chunks.c.id > after, _documents.c.status == DocumentStatus.READY, ~has_vector.exists())
            .order_by(_chunks.c.id)
            .limit(limit)
        ).all()
        return [ToEmbed(r.id, r.collection_id, _embedded_text(r.heading, r.text)) for r in rows]

    @statements
    def store(self, c: Connection, model: str, vectors: Sequence[tuple[ToEmbed, bytes]]) -> int:
        """Write the vectors of a batch; a chunk deleted meanwhile, or embedded already by another instance, is
        skipped. Returns how many were written."""
        if not vectors:
            return 0
        alive = set(
            c.execute(select(_chunks.c.id).where(_chunks.c.id.in_([chunk.chunk_id for chunk, _ in vectors]))).scalars()
        )
        rows = [
            {"chunk_id": chunk.chunk_id, "collection_id": chunk.collection_id, "model": model, "vector": data}
            for chunk, data in vectors
            if chunk.chunk_id in alive
        ]
        if not rows:
            return 0
        insert = sqlite_insert if c.dialect.name == "sqlite" else postgres_insert
        c.execute(insert(_vectors).on_conflict_do_nothing(index_elements=["chunk_id", "model"]), rows)
        return len(rows)

    @statements
    def drop_other_models(self, c: Connection, model: str, limit: int) -> int:
        """Delete up to `limit` vectors of models other than `model` (the one embedding now); how many went. In
        pages, so a change of model never holds the database for one long statement."""
        ids = select(_vectors.c.id).where(_vectors.c.model != model).limit(limit).scalar_subquery()
        return c.execute(delete(_vectors).where(_vectors.c.id.in_(ids))).rowcount or 0

    @statements
    def page(self, c: Connection, collection_id: str, model: str, after: int, limit: int) -> list[StoredVector]:
        """The collection's vectors of `model` written after row `after`, in the order they were written."""
        rows = c.execute(
            select(_vectors.c.id, _vectors.c.chunk_id, _chunks.c.document_id, _vectors.c.vector)
            .join(_chunks, _chunks.c.id == _vectors.c.chunk_id)
            .where(_vectors.c.collection_id == collection_id, _vectors.c.model == model, _vectors.c.id > after)
            .order_by(_vectors.c.id)
            .limit(limit)
        ).all()
        return [StoredVector(r.id, r.chunk_id, r.document_id, bytes(r.vector)) for r in rows]

    @statements
    def collections_of(self, c: Connection, document_ids: Sequence[str]) -> dict[str, str]:
        """document id -> its collection's id (for documents attached on their own)."""
        if not document_ids:
            return {}
        rows = c.execute(
            select(_documents.c.id, _documents.c.collection_id).where(_documents.c.id.in_(list(document_ids)))
        ).all()
        return {r.id: r.collection_id for r in rows}

    @statements
    def embedded(self, c: Connection, collection_id: str, model: str) -> dict[str, int]:
        """Per document of the collection, how many of its chunks have a vector of `model` (progress)."""
        rows = c.execute(
            select(_chunks.c.document_id, func.count())
            .select_from(_vectors.join(_chunks, _chunks.c.id == _vectors.c.chunk_id))
            .where(_vectors.c.collection_id == collection_id, _vectors.c.model == model)
            .group_by(_chunks.c.document_id)
        ).all()
        return {document_id: int(count) for document_id, count in rows}

    @statements
    def passages(
        self, c: Connection, chunk_ids: Sequence[int], collection_ids: Sequence[str], document_ids: Sequence[str]
    ) -> dict[int, Passage]:
        """The passages of these chunks that are still there, of a ready document, within the collections and
        single documents given: a chunk the index still holds but whose document was deleted is not among them."""
        if not chunk_ids:
            return {}
        params = {"ids": list(chunk_ids), "cids": list(collection_ids), "dids": list(document_ids)}
        return {
            row.id: Passage(row.id, row.document_id, row.name, row.collection_id, row.page, row.heading, row.text, 0.0)
            for row in c.execute(_PASSAGES, params)
        }


_PASSAGES = text(
    """
    SELECT k.id, k.document_id, d.name, k.collection_id, k.page, k.heading, k.text
    FROM knowledge_chunks AS k JOIN knowledge_documents AS d ON d.id = k.document_id
    WHERE k.id IN :ids AND (k.collection_id IN :cids OR k.document_id IN :dids) AND d.status = 'ready'
    """
).bindparams(
    bindparam("ids", expanding=True),
    bindparam("cids", expanding=True, type_=String()),
    bindparam("dids", expanding=True, type_=String()),
)


def encode(vector: Sequence[float]) -> bytes:
    """A vector as stored: float32s, little-endian (what `storage.vector_index` reads back with numpy)."""
    return struct.pack(f"<{len(vector)}f", *vector)


def _embedded_text(heading: str | None, body: str) -> str:
    """What a chunk is embedded as: its heading path, then its text (the headings say what a passage is about)."""
    return (f"{heading}\n\n{body}" if heading else body)[:EMBED_CHARS]
