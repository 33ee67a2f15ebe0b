"""Knowledge collections, their documents and chunks (issue 25); retrieval is `storage.knowledge_search`.

Who may do what: a collection's owner reads and changes it; everyone reads a collection an administrator `shared`;
anyone else finds nothing (a collection they may not read looks exactly like a missing one). Documents are written
in steps by the ingest (`chatui.knowledge`): the row first (`pending`), then its chunks in batches, then `ready` or
`failed`. Retrieval reads `ready` documents only, so a half-written one is never cited, and deleting a document (or
its collection) deletes its chunks, and their index entries, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, delete, func, insert, or_, select, update

from storage.database import Repository, statements
from storage.knowledge_models import DocumentStatus, KnowledgeChunk, KnowledgeCollection, KnowledgeDocument
from storage.knowledge_search import Passage, retrieve
from storage.models import new_id, utcnow

_collections, _documents, _chunks = KnowledgeCollection.__table__, KnowledgeDocument.__table__, KnowledgeChunk.__table__

INTERRUPTED = "The server stopped before this document was read. Upload it again."


@dataclass(frozen=True, slots=True)
class CollectionRow:
    id: str
    user_id: str
    name: str
    shared: bool
    created_at: datetime
    documents: int = 0


@dataclass(frozen=True, slots=True)
class DocumentRow:
    id: str
    collection_id: str
    name: str
    kind: str
    size: int
    status: str
    reason: str | None
    chunk_count: int
    progress: float
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewChunk:
    """A passage as the chunker made it (`chatui.knowledge.chunking`)."""

    text: str
    heading: str | None = None
    page: int | None = None
    overlap: int = 0


@dataclass(frozen=True, slots=True)
class ChunkRow:
    id: int
    seq: int
    page: int | None
    heading: str | None
    text: str
    overlap: int


class KnowledgeRepository(Repository):
    @statements
    def create_collection(self, c: Connection, user_id: str, name: str) -> CollectionRow:
        row = CollectionRow(new_id(), user_id, name, False, utcnow())
        c.execute(insert(_collections), {"id": row.id, "user_id": user_id, "name": name, "created_at": row.created_at})
        return row

    @statements
    def collections(self, c: Connection, user_id: str) -> list[CollectionRow]:
        """The user's own collections and the shared ones, newest first, each with its number of documents."""
        counts = (
            select(_documents.c.collection_id, func.count().label("n")).group_by(_documents.c.collection_id).subquery()
        )
        rows = c.execute(
            select(*_collections.c, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.collection_id == _collections.c.id)
            .where(_readable(user_id))
            .order_by(_collections.c.created_at.desc(), _collections.c.id)
        ).all()
        return [CollectionRow(r.id, r.user_id, r.name, r.shared, r.created_at, int(r[-1])) for r in rows]

    @statements
    def collection(self, c: Connection, user_id: str, collection_id: str) -> CollectionRow | None:
        """The collection if this user may read it."""
        row = c.execute(select(*_collections.c).where(_collections.c.id == collection_id, _readable(user_id))).first()
        return CollectionRow(*row) if row else None

    @statements
    def documents(self, c: Connection, collection_ids: Sequence[str]) -> list[DocumentRow]:
        """The documents of these collections, in the order they were added."""
        rows = c.execute(
            select(*_documents.c)
            .where(_documents.c.collection_id.in_(list(collection_ids)))
            .order_by(_documents.c.created_at, _documents.c.id)
        ).all()
        return [DocumentRow(*row) for row in rows]

    @statements
    def readable(self, c: Connection, user_id: str, collection_ids: Sequence[str]) -> list[str]:
        """Those of the ids (of collections, or of single documents) this user may read, in the order given."""
        if not collection_ids:
            return []
        collections, documents = _readable_ids(c, user_id, collection_ids)
        return [i for i in dict.fromkeys(collection_ids) if i in collections or i in documents]

    @statements
    def delete_collection(self, c: Connection, user_id: str, collection_id: str) -> bool:
        """Delete one of the user's own collections with its documents and chunks; False if it is not theirs."""
        owned = _owned(c, user_id, collection_id)
        if owned:
            c.execute(delete(_chunks).where(_chunks.c.collection_id == collection_id))
            c.execute(delete(_collections).where(_collections.c.id == collection_id))
        return owned

    @statements
    def set_shared(self, c: Connection, collection_id: str, shared: bool) -> bool:
        """(Administrators.) Whether every account may read the collection; False if there is no such collection."""
        done = c.execute(update(_collections).where(_collections.c.id == collection_id).values(shared=shared))
        return done.rowcount > 0

    @statements
    def add_document(
        self,
        c: Connection,
        user_id: str,
        collection_id: str,
        *,
        name: str,
        kind: str,
        size: int,
        reason: str | None = None,
    ) -> DocumentRow | None:
        """A new document of one of the user's own collections: `pending`, or `failed` with `reason` (None if the
        collection is not theirs)."""
        if not _owned(c, user_id, collection_id):
            return None
        status = DocumentStatus.PENDING if reason is None else DocumentStatus.FAILED
        row = DocumentRow(new_id(), collection_id, name[:200], kind, size, status, reason, 0, 0.0, utcnow())
        c.execute(insert(_documents), {f: getattr(row, f) for f in DocumentRow.__dataclass_fields__})
        return row

    @statements
    def add_chunks(self, c: Connection, document_id: str, first_seq: int, chunks: Sequence[NewChunk]) -> bool:
        """Write a batch of the document's chunks (False, and nothing written, if it was deleted meanwhile)."""
        collection_id = c.execute(
            select(_documents.c.collection_id).where(_documents.c.id == document_id)
        ).scalar_one_or_none()
        if collection_id is None:
            return False
        c.execute(
            insert(_chunks),
            [
                {
                    "document_id": document_id,
                    "collection_id": collection_id,
                    "seq": first_seq + i,
                    "page": chunk.page,
                    "heading": chunk.heading,
                    "text": chunk.text,
                    "overlap": chunk.overlap,
                }
                for i, chunk in enumerate(chunks)
            ],
        )
        return True

    @statements
    def set_progress(self, c: Connection, document_id: str, progress: float) -> None:
        c.execute(update(_documents).where(_documents.c.id == document_id).values(progress=progress))

    @statements
    def finish(self, c: Connection, document_id: str, chunk_count: int) -> None:
        """The document is searchable."""
        c.execute(
            update(_documents)
            .where(_documents.c.id == document_id)
            .values(status=DocumentStatus.READY, chunk_count=chunk_count, progress=1.0, reason=None)
        )

    @statements
    def fail(self, c: Connection, document_id: str, reason: str) -> None:
        """The document could not be read: its chunks go, the reason stays."""
        c.execute(delete(_chunks).where(_chunks.c.document_id == document_id))
        c.execute(
            update(_documents)
            .where(_documents.c.id == document_id)
            .values(status=DocumentStatus.FAILED, reason=reason, chunk_count=0)
        )

    @statements
    def delete_document(self, c: Connection, user_id: str, collection_id: str, document_id: str) -> bool:
        """Delete a document of one of the user's own collections; its chunks leave retrieval with it."""
        if not _owned(c, user_id, collection_id):
            return False
        c.execute(delete(_chunks).where(_chunks.c.document_id == document_id))
        done = c.execute(
            delete(_documents).where(_documents.c.id == document_id, _documents.c.collection_id == collection_id)
        )
        return done.rowcount > 0

    @statements
    def fail_pending(self, c: Connection) -> int:
        """At start: documents whose ingest a stop cut off fail (their upload is gone), with a reason."""
        pending = list(
            c.execute(select(_documents.c.id).where(_documents.c.status == DocumentStatus.PENDING)).scalars()
        )
        if pending:
            c.execute(delete(_chunks).where(_chunks.c.document_id.in_(pending)))
            c.execute(
                update(_documents)
                .where(_documents.c.id.in_(pending))
                .values(status=DocumentStatus.FAILED, reason=INTERRUPTED)
            )
        return len(pending)

    @statements
    def document(self, c: Connection, user_id: str, document_id: str) -> tuple[DocumentRow, list[ChunkRow]] | None:
        """A document the user may read, with its chunks in order (to show it at a passage)."""
        row = c.execute(
            select(*_documents.c)
            .join(_collections, _collections.c.id == _documents.c.collection_id)
            .where(_documents.c.id == document_id, _readable(user_id))
        ).first()
        if row is None:
            return None
        chunks = c.execute(
            select(_chunks.c.id, _chunks.c.seq, _chunks.c.page, _chunks.c.heading, _chunks.c.text, _chunks.c.overlap)
            .where(_chunks.c.document_id == document_id)
            .order_by(_chunks.c.seq)
        ).all()
        return DocumentRow(*row), [ChunkRow(*chunk) for chunk in chunks]

    @statements
    def retrieve(
        self, c: Connection, user_id: str, collection_ids: Sequence[str], question: str, limit: int
    ) -> list[Passage]:
        """The best passages for `question` among those of the collections and single documents (ids of either)
        this user may read."""
        collections, documents = _readable_ids(c, user_id, collection_ids)
        return retrieve(c, sorted(collections), question, limit, document_ids=sorted(documents))

    @statements
    def scope(self, c: Connection, user_id: str, ids: Sequence[str]) -> tuple[list[str], list[str]]:
        """Of these ids, the collections and the single documents this user may read (hybrid retrieval's scope)."""
        collections, documents = _readable_ids(c, user_id, ids)
        return sorted(collections), sorted(documents)

    @statements
    def search(
        self, c: Connection, collection_ids: Sequence[str], document_ids: Sequence[str], question: str, limit: int
    ) -> list[Passage]:
        """BM25 within a scope already checked (`scope`)."""
        return retrieve(c, collection_ids, question, limit, document_ids=document_ids)


def _readable_ids(c: Connection, user_id: str, ids: Sequence[str]) -> tuple[set[str], set[str]]:
    """Which of `ids` are collections this user may read, and which are documents of such collections."""
    wanted = list(dict.fromkeys(ids))
    collections = set(
        c.execute(select(_collections.c.id).where(_collections.c.id.in_(wanted), _readable(user_id))).scalars()
    )
    documents = set(
        c.execute(
            select(_documents.c.id)
            .join(_collections, _collections.c.id == _documents.c.collection_id)
            .where(_documents.c.id.in_(wanted), _readable(user_id))
        ).scalars()
    )
    return collections, documents


def _readable(user_id: str) -> ColumnElement[bool]:
    return or_(_collections.c.user_id == user_id, _collections.c.shared.is_(True))


def _owned(c: Connection, user_id: str, collection_id: str) -> bool:
    found = c.execute(
        select(_collections.c.id).where(_collections.c.id == collection_id, _collections.c.user_id == user_id)
    ).first()
    return found is not None
