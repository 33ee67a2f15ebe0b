"""Knowledge collections for the edges: create, list, read, delete, share; add documents; retrieve passages.

Adding documents answers at once: each file (each file of a zip, `chatui.knowledge.archives`) becomes a `pending`
document (or a `failed` one with its reason: too large, not a kind that can be read) and is read in the background,
one document at a time (`_ingest`): the text
extracted off the event loop (a thread; a PDF in a process of its own), cut into chunks in a thread, written in
batches (each its own short transaction, so the database thread is never held for long and the progress moves),
then `ready`. Any failure fails that document alone, with a reason; the others go on. Documents still pending when
the server stops fail at the next start (their upload is gone): with one instance only, since with several another
instance may still be reading them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from chatui.files.pdftext import read_pdf_text
from chatui.knowledge.archives import expand, is_zip
from chatui.knowledge.chunking import chunks as make_chunks
from chatui.knowledge.extract import UNSUPPORTED, Block, Unreadable, decode, kind_of, pdf_blocks, text_blocks
from storage.knowledge import ChunkRow, CollectionRow, DocumentRow, KnowledgeRepository, NewChunk
from storage.knowledge_search import Passage

if TYPE_CHECKING:  # hybrid retrieval's modules load numpy: only built when an embedding model is set
    from chatui.knowledge.embedding import Embedder
    from chatui.knowledge.hybrid import HybridRetrieval

log = logging.getLogger(__name__)

BATCH = 500
"""Chunks written per transaction."""
MAX_CHARS = 20_000_000
"""The most text read from one document."""


@dataclass(frozen=True, slots=True)
class KnowledgeLimits:
    max_bytes: int
    """Per file: the attachments' limit (CHATUI_UPLOAD_MAX_MB)."""
    pdf_seconds: float
    pdf_max_pages: int
    files_per_upload: int = 50


@dataclass(frozen=True, slots=True)
class Upload:
    """One file of an upload, spooled to `path` (which the service deletes once it has read it)."""

    name: str
    path: Path
    size: int
    refused: str | None = None
    """Why it was refused before it was read (a file of a zip too large, a damaged zip)."""


@dataclass(frozen=True, slots=True)
class EmbeddingProgress:
    """A collection's hybrid retrieval: the model, its chunks embedded out of those of ready documents, per document,
    and why embedding stopped short (the provider's words), if it did."""

    model: str
    embedded: int
    chunks: int
    per_document: dict[str, int]
    error: str | None


class CollectionGone(Exception):
    """No such collection for this user (or one they may read but not change)."""


class KnowledgeService:
    def __init__(
        self,
        repository: KnowledgeRepository,
        limits: KnowledgeLimits,
        spool: Path,
        *,
        single_instance: bool,
        embedder: Embedder | None = None,
        hybrid: HybridRetrieval | None = None,
    ) -> None:
        self.repository = repository
        self.limits = limits
        self.spool = spool
        """Where uploads wait to be read (each file deleted once read)."""
        self.single_instance = single_instance
        self.embedder = embedder
        """Embeds ready documents' chunks in the background (None: no CHATUI_EMBEDDING_MODEL, BM25 alone)."""
        self.hybrid = hybrid
        self._queue: asyncio.Queue[tuple[DocumentRow, Upload]] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    async def start(self) -> None:
        if self.embedder is not None:
            self.embedder.start()
        if self.single_instance:
            failed = await self.repository.fail_pending()
            if failed:
                log.warning("%d knowledge documents were being read when the server stopped; marked failed", failed)

    async def aclose(self) -> None:
        if self.embedder is not None:
            await self.embedder.aclose()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        if self._queue is not None:
            while not self._queue.empty():
                _, upload = self._queue.get_nowait()
                upload.path.unlink(missing_ok=True)

    # -- collections ----------------------------------------------------------------------------------------------

    async def create(self, user_id: str, name: str) -> CollectionRow:
        return await self.repository.create_collection(user_id, name.strip()[:200] or "Untitled")

    async def collections(self, user_id: str) -> list[CollectionRow]:
        return await self.repository.collections(user_id)

    async def collection(self, user_id: str, collection_id: str) -> tuple[CollectionRow, list[DocumentRow]] | None:
        """A collection this user may read, with its documents."""
        found = await self.repository.collection(user_id, collection_id)
        if found is None:
            return None
        return found, await self.repository.documents([collection_id])

    async def delete(self, user_id: str, collection_id: str) -> bool:
        deleted = await self.repository.delete_collection(user_id, collection_id)
        if deleted and self.hybrid is not None:
            self.hybrid.index.drop(collection_id)
        return deleted

    async def delete_document(self, user_id: str, collection_id: str, document_id: str) -> bool:
        return await self.repository.delete_document(user_id, collection_id, document_id)

    async def set_shared(self, collection_id: str, shared: bool) -> bool:
        """(Administrators only: the edge checks.) Whether every account may read the collection."""
        return await self.repository.set_shared(collection_id, shared)

    async def readable(self, user_id: str, collection_ids: Sequence[str]) -> list[str]:
        return await self.repository.readable(user_id, collection_ids)

    async def document(self, user_id: str, document_id: str) -> tuple[DocumentRow, list[ChunkRow]] | None:
        return await self.repository.document(user_id, document_id)

    async def retrieve(
        self, user_id: str, collection_ids: Sequence[str], question: str, limit: int = 8
    ) -> list[Passage]:
        """The best passages for `question` in those of the collections the user may read, best first."""
        if not collection_ids:
            return []
        if self.hybrid is None:
            return await self.repository.retrieve(user_id, collection_ids, question, limit)
        cids, dids = await self.repository.scope(user_id, collection_ids)
        if not cids and not dids:
            return []

        def bm25(count: int) -> Awaitable[list[Passage]]:
            return self.repository.search(cids, dids, question, count)

        return await self.hybrid.retrieve(bm25, cids, dids, question, limit)

    async def embedding(self, collection_id: str, documents: Sequence[DocumentRow]) -> EmbeddingProgress | None:
        """How far the embedding of a collection's ready documents is (None without an embedding model)."""
        if self.embedder is None:
            return None
        embedded = await self.embedder.repository.embedded(collection_id, self.embedder.model)
        per_document = {d.id: embedded.get(d.id, 0) for d in documents}
        chunks = sum(d.chunk_count for d in documents if d.status == "ready")
        done = sum(per_document[d.id] for d in documents if d.status == "ready")
        return EmbeddingProgress(self.embedder.model, done, chunks, per_document, self.embedder.error)

    async def documents(self, user_id: str) -> list[DocumentRow]:
        """The ready documents of every collection the user may read (what `#` offers beside the collections)."""
        ids = [collection.id for collection in await self.repository.collections(user_id)]
        return [d for d in await self.repository.documents(ids) if d.status == "ready"] if ids else []

    async def search_everywhere(self, user_id: str, question: str, limit: int) -> list[Passage]:
        """The best passages among every collection the user may read (the `search_knowledge` tool)."""
        ids = [collection.id for collection in await self.repository.collections(user_id)]
        return await self.retrieve(user_id, ids, question, limit)

    # -- documents ------------------------------------------------------------------------------------------------

    async def add(self, user_id: str, collection_id: str, uploads: Sequence[Upload]) -> list[DocumentRow]:
        """A document per file, `pending` (queued to be read) or `failed` at once; `CollectionGone` if the collection
        is not the user's own. Every upload's file is deleted once it is read or refused."""
        added: list[DocumentRow] = []
        uploads = await self._unzipped(uploads)
        try:
            for upload in uploads:
                head = await asyncio.to_thread(_head, upload.path) if upload.refused is None else b""
                reason = upload.refused or _too_large_or_empty(upload.size, self.limits.max_bytes)
                kind = kind_of(upload.name, head) if reason is None else "unknown"
                row = await self.repository.add_document(
                    user_id, collection_id, name=upload.name, kind=kind, size=upload.size, reason=reason
                )
                if row is None:
                    raise CollectionGone(collection_id)
                added.append(row)
                if reason is None:
                    self._enqueue(row, upload)
                else:
                    await asyncio.to_thread(upload.path.unlink, missing_ok=True)
        except BaseException:
            for upload in uploads[len(added) :]:
                await asyncio.to_thread(upload.path.unlink, missing_ok=True)
            raise
        return added

    async def _unzipped(self, uploads: Sequence[Upload]) -> list[Upload]:
        """The uploads with each zip replaced by the files in it (the zip itself deleted)."""
        out: list[Upload] = []
        for upload in uploads:
            head = await asyncio.to_thread(_head, upload.path)
            if not is_zip(upload.name, head):
                out.append(upload)
                continue
            members = await asyncio.to_thread(expand, upload.path, upload.name, self.spool, self.limits.max_bytes)
            await asyncio.to_thread(upload.path.unlink, missing_ok=True)
            for member in members:
                path = member.path or upload.path  # a refused one has no file: nothing to read or delete
                out.append(Upload(member.name, path, member.size, member.refused))
        return out

    async def wait_idle(self) -> None:
        """Until every queued document has been read (for tests and the benchmark)."""
        await self._idle.wait()

    def _enqueue(self, row: DocumentRow, upload: Upload) -> None:
        if self._queue is None:
            self._queue = asyncio.Queue()
        self._queue.put_nowait((row, upload))
        self._idle.clear()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work(), name="knowledge-ingest")

    async def _work(self) -> None:
        assert self._queue is not None
        while not self._queue.empty():
            row, upload = self._queue.get_nowait()
            try:
                await self._ingest(row, upload)
            except Unreadable as exc:
                await self.repository.fail(row.id, str(exc))
            except Exception:
                log.exception("reading knowledge document %s failed", row.id)
                await self.repository.fail(row.id, "The document could not be read.")
            finally:
                await asyncio.to_thread(upload.path.unlink, missing_ok=True)
        self._idle.set()

    async def _ingest(self, row: DocumentRow, upload: Upload) -> None:
        data = await asyncio.to_thread(upload.path.read_bytes)
        if row.kind == "pdf":
            blocks = await self._pdf(data)
        else:
            blocks = await asyncio.to_thread(_text_blocks, row.kind, data)
        chunks = await asyncio.to_thread(make_chunks, blocks)
        if not chunks:
            raise Unreadable("The document has no text.")
        for start in range(0, len(chunks), BATCH):
            batch: list[NewChunk] = chunks[start : start + BATCH]
            if not await self.repository.add_chunks(row.id, start, batch):
                return  # deleted meanwhile
            await self.repository.set_progress(row.id, min(0.99, (start + len(batch)) / len(chunks)))
        await self.repository.finish(row.id, len(chunks))
        if self.embedder is not None:
            self.embedder.wake()

    async def _pdf(self, data: bytes) -> list[Block]:
        read = await read_pdf_text(
            data, max_chars=MAX_CHARS, max_pages=self.limits.pdf_max_pages, seconds=self.limits.pdf_seconds
        )
        if read.failed and not read.pages:
            raise Unreadable("The PDF is damaged and cannot be read.")
        if read.timed_out and not read.pages:
            raise Unreadable("The PDF took too long to read.")
        if not any(page.strip() for page in read.pages):
            raise Unreadable("The PDF has no text to read (a scan without a text layer?).")
        return pdf_blocks(read.pages)


def _too_large_or_empty(size: int, max_bytes: int) -> str | None:
    if size > max_bytes:
        return f"The file is larger than {max_bytes // (1024 * 1024)} MB."
    return "The file is empty." if size == 0 else None


def _head(path: Path) -> bytes:
    with path.open("rb") as file:
        return file.read(512)


def _text_blocks(kind: str, data: bytes) -> list[Block]:
    if data.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"PK\x03\x04")):
        raise Unreadable(UNSUPPORTED)
    return text_blocks(kind, decode(data[: MAX_CHARS * 4]))
