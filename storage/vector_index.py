"""Nearest chunks by embedding: per collection and model, a float32 matrix kept in memory, searched by brute force.

Why brute force over a matrix in memory (BENCHMARKS.md §24): at 100,000 chunks one matrix-vector product and a
partial sort take tens of milliseconds with numpy, while reading the vectors back from the database for each
question takes seconds; sqlite-vec cannot be loaded by this Python's sqlite3 (built without extension loading), and
pgvector is not something a stock PostgreSQL has, so either would have needed this as its fallback anyway.

The matrix of a collection is read once, in pages (each a short statement on the database thread), in the
background (a question waits `load_wait` for it at most, then answers from BM25 alone: 100,000 chunks take seconds
to read), started as soon as chunks of the collection are embedded or it is first asked; after that only the rows
written since (`id` after the last one held) are read before each search: a newly embedded document is searchable
at once. Rows deleted in the database (a document, a collection) are not re-read; they are dropped from the answer
when its passages are looked up (`VectorRepository.passages` returns only chunks still there), and `forget` marks
them gone so they stop taking places. The arithmetic runs in a worker thread (numpy releases the GIL), never on the
event loop or the database thread. Memory: 4 bytes x dimensions x chunks (154 MB for 100,000 chunks at 384).

Imported only when an embedding model is set (`chatui.bootstrap.build_knowledge`): numpy costs a start without
hybrid retrieval nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from storage.knowledge_vectors import StoredVector, VectorRepository

G = TypeVar("G", bound=np.generic)

PAGE = 10_000
"""Vectors read per statement while a matrix loads (~15 MB at 384 dimensions)."""
HEADROOM = 1_024
"""Rows of room left after a first load, for the chunks embedded next."""
LOAD_WAIT = 0.25
"""How long a question waits for a collection's matrix to be read the first time before it does without."""


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
    loading: asyncio.Future[None] | None = None
    """The first read of the whole matrix (in the background: `VectorIndex.refresh`)."""

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

    def fit(self) -> None:
        """Give back what doubling the capacity left unused (up to half the matrix) once the first load is done."""
        capacity = self.size + HEADROOM
        if len(self.chunk_ids) > capacity:
            self.vectors = _grown(self.vectors[: self.size], (capacity, self.vectors.shape[1]))
            self.chunk_ids = _grown(self.chunk_ids[: self.size], (capacity,))
            self.documents = _grown(self.documents[: self.size], (capacity,))

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
        # einsum, not `@`: the product is bound by memory, and `@` goes to OpenBLAS, whose threads (one per core)
        # contend with everything else on a busy server: 2,000 x 384 took 21 ms through it under load, 0.12 this way
        scores = np.einsum("ij,j->i", vectors, query)
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

    def __init__(self, repository: VectorRepository, model: str, *, load_wait: float = LOAD_WAIT) -> None:
        self.repository = repository
        self.model = model
        self.load_wait = load_wait
        """How long a question waits for a matrix's first load (`refresh`)."""
        self._matrices: dict[str, _Matrix] = {}

    async def refresh(self, collection_ids: Collection[str]) -> int:
        """Bring the matrices of these collections up to date; how many vectors those that are ready hold.

        A matrix already read takes only the rows written since (one short statement). One never read is loaded in
        the background, and this waits for it at most `load_wait` seconds: a small collection is ready within it, a
        large one (100,000 chunks: seconds) answers from BM25 alone until it is loaded, rather than hold the reply."""
        held = 0
        for collection_id in collection_ids:
            matrix = self._matrix(collection_id)
            assert matrix.loading is not None
            if not matrix.loading.done():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(matrix.loading), self.load_wait)
                if not matrix.loading.done():
                    continue
            if matrix.loading.exception() is not None:  # the database failed it: tried again next time
                matrix.loading = None
                continue
            async with matrix.lock:
                await self._read(collection_id, matrix)
            held += matrix.size
        return held

    def warm(self, collection_ids: Collection[str]) -> None:
        """Start loading these collections' matrices in the background, if they are not (their chunks were just
        embedded: the first question about them then finds the matrix ready)."""
        for collection_id in collection_ids:
            self._matrix(collection_id)

    def _matrix(self, collection_id: str) -> _Matrix:
        """The collection's matrix, its first load started if it was not."""
        matrix = self._matrices.setdefault(collection_id, _Matrix())
        if matrix.loading is None:
            matrix.loading = asyncio.ensure_future(self._load(collection_id, matrix))
        return matrix

    async def _load(self, collection_id: str, matrix: _Matrix) -> None:
        async with matrix.lock:
            await self._read(collection_id, matrix)
            await asyncio.to_thread(matrix.fit)

    async def _read(self, collection_id: str, matrix: _Matrix) -> None:
        """Append the rows written after the last one the matrix holds, a page per statement."""
        while rows := await self.repository.page(collection_id, self.model, matrix.last_id, PAGE):
            await asyncio.to_thread(matrix.append, rows)
            matrix.last_id = rows[-1].id
            if len(rows) < PAGE:
                break

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

    def drop(self, collection_id: str) -> None:
        """A deleted collection's matrix: its memory back at once (another instance gives its copy back when it
        restarts; until then it only finds nothing, every chunk of it being gone)."""
        matrix = self._matrices.pop(collection_id, None)
        if matrix is not None and matrix.loading is not None:
            matrix.loading.cancel()

    def forget(self, chunk_ids: Collection[int]) -> None:
        """Chunks found gone from the database: never offered again."""
        if chunk_ids:
            for matrix in self._matrices.values():
                matrix.forget(chunk_ids)
