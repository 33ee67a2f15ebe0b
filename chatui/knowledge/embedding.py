"""Knowledge chunks embedded in the background, for hybrid retrieval (CHATUI_EMBEDDING_MODEL).

A document is searchable by its words (BM25) as soon as it is `ready`; its chunks are embedded after that, here, in
batches of `BATCH` (one request to the provider each, one short write each), so ingest never waits for a model.
What still needs embedding is not kept anywhere but in the database: the chunks of ready documents that have no
vector of the model (`VectorRepository.to_embed`). So nothing is lost when the provider is down or the server
stops: the failure is logged, BM25 keeps answering, and the next pass (after `retry_seconds`, or when a document
becomes ready) picks up where this one stopped. Changing the model re-embeds everything the same way, after the
other models' vectors are deleted (in pages), so vectors of two models are never compared.

The work is a single task per process; with several instances each embeds too, and the unique (chunk, model) index
keeps one vector per chunk (`VectorRepository.store` skips what another instance wrote first).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence

from providers.errors import EmbeddingsUnsupported, ProviderError, ProviderUnavailable
from providers.registry import ModelRegistry
from storage.knowledge_vectors import VectorRepository, encode

log = logging.getLogger(__name__)

EmbedTexts = Callable[[Sequence[str]], Awaitable[list[list[float]]]]
"""texts -> one vector each, in order (`Provider.embed` of the configured model)."""

BATCH = 32
"""Chunks per embedding request: what Ollama and OpenAI take in one request with room to spare (~32,000 characters)."""
DROP_PAGE = 5_000
"""Vectors of a former model deleted per statement."""


def registry_embedder(models: ModelRegistry, model_id: str) -> EmbedTexts:
    """`model_id`'s provider's `embed`, looked up at each call (a provider configured later is found)."""

    async def embed(texts: Sequence[str]) -> list[list[float]]:
        try:
            provider, name = models.resolve(model_id)
        except KeyError:
            raise ProviderUnavailable(f"the provider of the embedding model {model_id} is not configured") from None
        return await provider.embed(name, texts)

    return embed


class Embedder:
    """Embeds every chunk of every ready document with `model`, in the background, and keeps at it."""

    def __init__(
        self,
        repository: VectorRepository,
        embed: EmbedTexts,
        model: str,
        *,
        retry_seconds: float,
        stored: Callable[[set[str]], None] | None = None,
    ) -> None:
        self.repository = repository
        self.stored = stored
        """Told the collections whose chunks a batch embedded (`VectorIndex.warm`: their matrices load meanwhile)."""
        self.model = model
        """The qualified model id stored with each vector (`ollama:nomic-embed-text`)."""
        self.retry_seconds = retry_seconds
        self.error: str | None = None
        """Why the last pass stopped short (the provider's words), None once a pass got through."""
        self._embed = embed
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._wake.set()
            self._task = asyncio.get_running_loop().create_task(self._run(), name="knowledge-embedding")

    def wake(self) -> None:
        """Chunks may need embedding (a document became ready): start a pass now rather than at the next retry."""
        self._idle.clear()
        self._wake.set()

    async def wait_idle(self) -> None:
        """Until a pass has ended with nothing left to embed, or failed (for tests and the benchmark)."""
        await self._idle.wait()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while await self.repository.drop_other_models(self.model, DROP_PAGE) >= DROP_PAGE:
            pass
        while True:
            self._wake.clear()
            done = await self._pass()
            if not self._wake.is_set():
                self._idle.set()
            if done:
                await self._wake.wait()
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.retry_seconds)

    async def _pass(self) -> bool:
        """Embed every chunk that lacks a vector; False if it stopped on a failure (to be tried again later)."""
        after = 0
        while batch := await self.repository.to_embed(self.model, after, BATCH):
            try:
                vectors = await self._embed([chunk.text for chunk in batch])
                if len(vectors) != len(batch):
                    raise ProviderError(f"{self.model} gave {len(vectors)} vectors for {len(batch)} texts")
            except ProviderError as exc:
                self._failed(exc)
                return False
            except Exception as exc:  # a bug must not end the task: the next pass tries again
                log.exception("embedding knowledge chunks with %s failed", self.model)
                self._failed(exc)
                return False
            encoded = [(chunk, encode(vector)) for chunk, vector in zip(batch, vectors, strict=True)]
            await self.repository.store(self.model, encoded)
            if self.stored is not None:
                self.stored({chunk.collection_id for chunk in batch})
            after = batch[-1].chunk_id
        if self.error is not None:
            log.info("embedding knowledge chunks with %s works again", self.model)
        self.error = None
        return True

    def _failed(self, exc: Exception) -> None:
        message = str(exc) or type(exc).__name__
        if message != self.error:  # once per new failure, not once a minute while the provider stays down
            later = "" if isinstance(exc, EmbeddingsUnsupported) else f"; trying again in {self.retry_seconds:g} s"
            log.warning("knowledge chunks not embedded (retrieval uses BM25 alone meanwhile): %s%s", message, later)
        self.error = message
