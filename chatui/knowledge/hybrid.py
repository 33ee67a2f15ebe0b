"""Hybrid retrieval: the BM25 ranking and the embedding ranking fused by reciprocal rank fusion (k = 60).

BM25 finds the passages that share the question's words; embeddings find those that mean the same in other words.
Reciprocal rank fusion scores each passage `sum(1 / (60 + rank))` over the rankings it is in: no score of one
ranking is compared with a score of the other (BM25's and cosine's scales have nothing in common), and a passage
near the top of either comes near the top of both. 60 is the constant of the method's paper, kept as is.

The vectors are used only where they exist: a collection none of whose chunks is embedded yet (or no embedding
model at all) is BM25 alone, exactly as before. The question is embedded while BM25 runs, with a short timeout;
when the provider fails or is slow the answer is BM25's alone, and questions are not sent to it again for
`pause_seconds` (so a provider that is down costs one timeout, not one per message).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from chatui.knowledge.embedding import EmbedTexts
from providers.errors import ProviderError
from storage.knowledge_search import Passage
from storage.knowledge_vectors import EMBED_CHARS, VectorRepository
from storage.vector_index import VectorIndex

log = logging.getLogger(__name__)

RRF_K = 60
POOL = 50
"""Passages taken from each ranking before fusing."""

Ranked = Callable[[int], Awaitable[list[Passage]]]
"""limit -> the BM25 passages of the asked scope, best first."""


def fuse(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Reciprocal rank fusion of rankings of chunk ids (each best first): (chunk id, fused score), best first; ties
    keep the order of first appearance (the first ranking's order first)."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, chunk_id in enumerate(ranking, start=1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda item: -item[1])


class HybridRetrieval:
    def __init__(
        self,
        vectors: VectorRepository,
        index: VectorIndex,
        embed: EmbedTexts,
        *,
        timeout: float,
        pause_seconds: float = 30.0,
    ) -> None:
        self.vectors = vectors
        self.index = index
        self.timeout = timeout
        self.pause_seconds = pause_seconds
        self._embed = embed
        self._paused_until = 0.0

    async def retrieve(
        self, bm25: Ranked, collection_ids: Sequence[str], document_ids: Sequence[str], question: str, limit: int
    ) -> list[Passage]:
        """The `limit` best passages of the scope (collections and single documents the user may read), fused."""
        documents = await self.vectors.collections_of(document_ids) if document_ids else {}
        held = await self.index.refresh({*collection_ids, *documents.values()})
        if not held or time.monotonic() < self._paused_until or not question.strip():
            return await bm25(limit)
        embedding = asyncio.ensure_future(asyncio.wait_for(self._embed([question[:EMBED_CHARS]]), self.timeout))
        try:
            words = await bm25(POOL)
        except BaseException:
            embedding.cancel()
            raise
        try:
            query = (await embedding)[0]
        except (ProviderError, TimeoutError, IndexError) as exc:
            self._paused_until = time.monotonic() + self.pause_seconds
            why = str(exc) or "timed out"
            log.warning("the question was not embedded (%s); BM25 alone for %g s", why, self.pause_seconds)
            return words[:limit]
        near = await self.index.nearest(query, set(collection_ids), documents, POOL)
        return await self._fused(words, near, collection_ids, document_ids, limit)

    async def _fused(
        self,
        words: list[Passage],
        near: list[int],
        collection_ids: Sequence[str],
        document_ids: Sequence[str],
        limit: int,
    ) -> list[Passage]:
        fused = fuse([[p.chunk_id for p in words], near])
        known = {p.chunk_id: p for p in words}
        wanted = [chunk_id for chunk_id, _ in fused[: 2 * limit] if chunk_id not in known]
        found = await self.vectors.passages(wanted, collection_ids, document_ids) if wanted else {}
        self.index.forget(set(wanted) - found.keys())  # deleted since the index read them
        known.update(found)
        out: list[Passage] = []
        for chunk_id, score in fused:
            passage = known.get(chunk_id)
            if passage is not None:
                out.append(replace(passage, score=score))
                if len(out) == limit:
                    break
        return out
