"""Nearest chunks by embedding: per collection and model, a float32 matrix kept in memory, searched by brute force.

Why brute force over a matrix in memory (BENCHMARKS.md §24): at 100,000 chunks one matrix-vector product and a
partial sort take tens of milliseconds with numpy, while reading the vectors back from the database for each
question takes seconds; sqlite-vec cannot be loaded by this Python's sqlite3 (built without extension loading), and
pgvector is not something a stock PostgreSQL has, so either would have needed this as its fallback anyway.

The matrix of a collection is read once, in pages (each a short statement on the database thread), and then only
the rows written since (`id` after the last one held) before each search: a newly embedded document is searchable
at once. Rows deleted in the database (a document, a collection) are not re-read; they are dropped from the answer
when its passages are looked up (`VectorRepository.passages` returns only chunks still there), and `forget` marks
them gone so they stop taking places. The arithmetic runs in a worker thread (numpy releases the GIL), never on the
event loop or the database thread. Memory: 4 bytes x dimensions x chunks (154 MB for 100,000 chunks at 384).

Imported only when an embedding model is set (`chatui.bootstrap.build_knowledge`): numpy costs a start without
hybrid retrieval nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from storage.knowledge_vectors import StoredVector, VectorRepository

G = TypeVar("G", bound=np.generic)

PAGE = 10_000
"""Vectors read per statement while a matrix loads (~15 MB at 384 dimensions)."""


@dataclass
class _Matrix:
    """One collection's vectors of one model; rows `[:size]` of the arrays are filled (they grow by doubling)."""

    last_id: int = 0
    size: int = 0
    vectors: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    chunk_ids: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    documents: npt.NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    codes: dict[str, int] = field(default_factory=dict)
    """document id -> its number in `documents`"""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def append(self, rows: Sequence[StoredVector]) -> None:
        """Add rows read from the database (in a worker thread: it copies megabytes)."""
        dims = self.vectors.shape[1] if self.size else len(rows[0].vector) // 4
        rows = [row for row in rows if len(row.vector) == dims * 4]  # a model that changed its size: not comparable
        needed = self.size + len(rows)
        if needed > len(self.chunk_ids) or self.vectors.shape[1] != dims:
            capacity = max(needed, 2 * len(self.chunk_ids), 256)
            self.vectors = _grown(self.vectors[: self.size], (capacity, dims))
            self.chunk_ids = _grown(self.chunk_ids[: self.size], (capacity,))
            self.documents = _grown(self.documents[: self.size], (capacity,))
        block = np.frombuffer(b"".join(row.vector for row in rows), dtype="<f4").reshape(len(rows), dims)
        norms = np.linalg.norm(block, axis=1, keepdims=True)
        self.vectors[self.size : needed] = block / np.where(norms > 0, norms, 1.0)  # cosine = dot product
        self.chunk_ids[self.size : needed] = [row.chunk_id for row in rows]
        self.documents[self.size : needed] = [self.codes.setdefault(row.document_id, len(self.codes)) for row in rows]
        self.size = needed

    def nearest(
        self, query: npt.NDArray[np.float32], documents: Collection[str] | None, limit: int
    ) -> list[tuple[int, float]]:
        """The `limit` rows most like `query` (cosine: the vectors and the query are unit length), of the given
        documents only when `documents` is not None."""
        # `size` first: an `append` in another thread writes rows past it and swaps in larger arrays before it moves
        # `size`, so the first `size` rows of whichever arrays are read here are whole
        size = self.size
        vectors, chunk_ids, owners = self.vectors[:size], self.chunk_ids[:size], self.documents[:size]
        if not size or vectors.shape[1] != len(query):
            return []
        scores = vectors @ query
        if documents is not None:
            wanted = np.array([self.codes[d] for d in documents if d in self.codes], dtype=np.int32)
            scores = np.where(np.isin(owners, wanted), scores, -np.inf)
        scores = np.where(chunk_ids > 0, scores, -np.inf)  # forgotten rows: chunk id 0
        count = min(limit, size)
        top = np.argpartition(-scores, count - 1)[:count]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(chunk_ids[i]), float(scores[i])) for i in top if np.isfinite(scores[i])]

    def forget(self, chunk_ids: Collection[int]) -> None:
        self.chunk_ids[: self.size][np.isin(self.chunk_ids[: self.size], list(chunk_ids))] = 0


def _grown(old: npt.NDArray[G], shape: tuple[int, ...]) -> npt.NDArray[G]:
    """`old` copied into a new zeroed array of `shape` (its rows kept when the row length is the same)."""
    new = np.zeros(shape, dtype=old.dtype)
    if old.size and (len(shape) == 1 or old.shape[1] == shape[1]):
        new[: len(old)] = old
    return new


class VectorIndex:
    """The matrices of the collections searched so far, for the one model that embeds now."""

    def __init__(self, repository: VectorRepository, model: str) -> None:
        self.repository = repository
        self.model = model
        self._matrices: dict[str, _Matrix] = {}

    async def refresh(self, collection_ids: Collection[str]) -> int:
        """Read what was written since into the matrices of these collections; how many vectors they hold."""
        held = 0
        for collection_id in collection_ids:
            matrix = self._matrices.setdefault(collection_id, _Matrix())
            async with matrix.lock:
                while rows := await self.repository.page(collection_id, self.model, matrix.last_id, PAGE):
                    await asyncio.to_thread(matrix.append, rows)
                    matrix.last_id = rows[-1].id
                    if len(rows) < PAGE:
                        break
            held += matrix.size
        return held

    async def nearest(
        self,
        query: Sequence[float],
        collection_ids: Collection[str],
        documents: Mapping[str, str],
        limit: int,
    ) -> list[int]:
        """The chunk ids nearest `query`, best first, among the whole collections given and the single documents
        given (document id -> its collection id); `refresh` them first."""
        vector = np.asarray(query, dtype=np.float32)
        norm = float(np.linalg.norm(vector))
        if norm:
            vector = vector / norm  # the stored ones were made unit length as they were read
        singles: dict[str, set[str]] = {}
        for document_id, collection_id in documents.items():
            if collection_id not in collection_ids:
                singles.setdefault(collection_id, set()).add(document_id)
        searches = [(cid, None) for cid in collection_ids] + list(singles.items())

        def search() -> list[int]:
            found: list[tuple[int, float]] = []
            for collection_id, only in searches:
                matrix = self._matrices.get(collection_id)
                if matrix is not None:
                    found.extend(matrix.nearest(vector, only, limit))
            found.sort(key=lambda hit: -hit[1])
            return [chunk_id for chunk_id, _ in found[:limit]]

        return await asyncio.to_thread(search)

    def forget(self, chunk_ids: Collection[int]) -> None:
        """Chunks found gone from the database: never offered again."""
        if chunk_ids:
            for matrix in self._matrices.values():
                matrix.forget(chunk_ids)
