"""Hybrid retrieval on SQLite and PostgreSQL, with the fake providers' embedding endpoints as real HTTP servers: a
question in other words found only by the vectors, deletion at once, a change of model, a provider that is down."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from chatui.knowledge.embedding import Embedder, registry_embedder
from chatui.knowledge.hybrid import HybridRetrieval, fuse
from chatui.knowledge.service import KnowledgeService
from providers.base import Provider
from providers.ollama import OllamaProvider
from providers.openai_compat import OpenAIProvider
from providers.registry import ModelRegistry
from storage import KnowledgeRepository
from storage.knowledge_vectors import VectorRepository
from storage.vector_index import VectorIndex
from testing.fakes.embeddings import FakeEmbedder
from testing.fakes.openai import FakeOpenAI
from testing.fakes.server import ScriptedProvider
from testing.waiting import until
from tests.knowledge.conftest import Setup

ANSWER = b"Automobile maintenance: change the engine oil every 5,000 miles."
DISTRACTOR = b"The help desk service opens at nine."
QUESTION = "How often does a car need servicing?"
"""No word of the answer: BM25 finds the distractor ("servicing" stems to "servic"), the vectors the answer."""
SYNONYMS = {"car": "automobile", "servicing": "maintenance", "often": "every"}


@dataclass
class Hybrid:
    k: Setup
    service: KnowledgeService
    embedder: Embedder
    fake: FakeEmbedder
    vectors: VectorRepository

    def with_model(self, model: str) -> Hybrid:
        """Another service on the same database whose embedding model is `model` (the setting changed)."""
        return _hybrid(self.k, self.provider, model, self.fake)

    provider: Provider


def _hybrid(
    k: Setup, provider: Provider, model: str, fake: FakeEmbedder, retry: float = 60.0, load_wait: float = 30.0
) -> Hybrid:
    """`load_wait`: these tests check what is found, so a question waits for the matrix however busy the machine."""
    registry = ModelRegistry({provider.name: provider}, f"{provider.name}:chat")
    embed = registry_embedder(registry, model)
    vectors = VectorRepository(k.db)
    index = VectorIndex(vectors, model, load_wait=load_wait)
    embedder = Embedder(vectors, embed, model, retry_seconds=retry, stored=index.warm)
    hybrid = HybridRetrieval(vectors, index, embed, timeout=2.0)
    repository = KnowledgeRepository(k.db)
    service = KnowledgeService(
        repository, k.service.limits, k.folder, single_instance=True, embedder=embedder, hybrid=hybrid
    )
    return Hybrid(k, service, embedder, fake, vectors, provider)


@pytest.fixture(params=["ollama", "openai"])
async def hybrid(
    request: pytest.FixtureRequest, knowledge: Setup, fake_ollama: ScriptedProvider, fake_openai: FakeOpenAI
) -> AsyncIterator[Hybrid]:
    """A knowledge service embedding through one wire format (`knowledge.service` beside it is BM25 alone)."""
    provider: Provider
    if request.param == "ollama":
        provider, model, fake = OllamaProvider(fake_ollama.url), "ollama:nomic-embed-text", fake_ollama.embedder  # type: ignore[attr-defined]
    else:
        provider = OpenAIProvider(None, f"{fake_openai.url}/v1")  # type: ignore[attr-defined]
        model, fake = "openai:text-embedding-3-small", fake_openai.embedder
    fake.synonyms = dict(SYNONYMS)
    setup = _hybrid(knowledge, provider, model, fake)
    await setup.service.start()
    yield setup
    await setup.service.aclose()
    await provider.aclose()


async def ingested(h: Hybrid, *files: tuple[str, bytes]) -> tuple[str, dict[str, str]]:
    """A collection of Alice's with these files, read and embedded: its id, and the documents' ids by name."""
    collection = await h.service.create(h.k.alice, "Manuals")
    added = await h.service.add(h.k.alice, collection.id, [h.k.upload(name, content) for name, content in files])
    await h.service.wait_idle()
    await h.embedder.wait_idle()
    return collection.id, {row.name: row.id for row in added}


def texts(passages: list) -> list[str]:  # type: ignore[type-arg]
    return [p.text for p in passages]


async def test_a_question_in_other_words_is_found_only_in_hybrid_mode(hybrid: Hybrid) -> None:
    collection, _ = await ingested(hybrid, ("car.txt", ANSWER), ("desk.txt", DISTRACTOR))
    progress = await hybrid.service.embedding(
        collection, (await hybrid.service.collection(hybrid.k.alice, collection))[1]
    )  # type: ignore[index]
    assert progress is not None and (progress.embedded, progress.chunks, progress.error) == (2, 2, None)
    words_only = await hybrid.k.service.retrieve(hybrid.k.alice, [collection], QUESTION)
    assert texts(words_only) == [DISTRACTOR.decode()]  # BM25 alone: the wrong passage, and only it
    fused = await hybrid.service.retrieve(hybrid.k.alice, [collection], QUESTION)
    assert ANSWER.decode() in texts(fused)
    assert hybrid.fake.texts[-1] == QUESTION  # the question itself was embedded, through the wire
    # the search_knowledge tool's path (every collection the user may read) fuses too
    assert ANSWER.decode() in texts(await hybrid.service.search_everywhere(hybrid.k.alice, QUESTION, 5))
    # and a single attached document is searched within itself only
    documents = {d.name: d.id for d in (await hybrid.service.collection(hybrid.k.alice, collection))[1]}  # type: ignore[index]
    assert texts(await hybrid.service.retrieve(hybrid.k.alice, [documents["car.txt"]], QUESTION)) == [ANSWER.decode()]
    assert await hybrid.service.retrieve(hybrid.k.bob, [collection], QUESTION) == []  # not Bob's


async def test_deleting_a_document_takes_its_vectors_out_of_retrieval_at_once(hybrid: Hybrid) -> None:
    collection, ids = await ingested(hybrid, ("car.txt", ANSWER), ("desk.txt", DISTRACTOR))
    assert ANSWER.decode() in texts(await hybrid.service.retrieve(hybrid.k.alice, [collection], QUESTION))
    assert await hybrid.service.delete_document(hybrid.k.alice, collection, ids["car.txt"])
    # the index still holds the vector; the answer is checked against the database before it is given
    assert ANSWER.decode() not in texts(await hybrid.service.retrieve(hybrid.k.alice, [collection], QUESTION))
    assert (await hybrid.vectors.embedded(collection, hybrid.embedder.model)) == {ids["desk.txt"]: 1}  # cascaded
    assert await hybrid.service.delete(hybrid.k.alice, collection)
    assert await hybrid.service.retrieve(hybrid.k.alice, [collection], QUESTION) == []
    assert hybrid.service.hybrid is not None
    assert collection not in hybrid.service.hybrid.index._matrices  # its memory given back


async def test_a_new_embedding_model_re_embeds_in_the_background(hybrid: Hybrid) -> None:
    collection, _ = await ingested(hybrid, ("car.txt", ANSWER), ("desk.txt", DISTRACTOR))
    old = hybrid.embedder.model
    other = old.replace("nomic-embed-text", "all-minilm").replace("3-small", "3-large")
    embedded_before = len(hybrid.fake.texts)
    await hybrid.service.aclose()
    changed = hybrid.with_model(other)
    await changed.service.start()
    try:
        await changed.embedder.wait_idle()
        assert len(hybrid.fake.texts) == embedded_before + 2  # both chunks sent again, to the new model
        assert await hybrid.vectors.embedded(collection, old) == {}  # never two models' vectors side by side
        docs = (await changed.service.collection(hybrid.k.alice, collection))[1]  # type: ignore[index]
        progress = await changed.service.embedding(collection, docs)
        assert progress is not None and (progress.model, progress.embedded, progress.chunks) == (other, 2, 2)
        assert ANSWER.decode() in texts(await changed.service.retrieve(hybrid.k.alice, [collection], QUESTION))
    finally:
        await changed.service.aclose()


async def test_a_provider_down_leaves_bm25_answering_and_loses_nothing(hybrid: Hybrid) -> None:
    await hybrid.service.aclose()
    retrying = _hybrid(hybrid.k, hybrid.provider, hybrid.embedder.model, hybrid.fake, retry=0.2)
    await retrying.service.start()
    try:
        hybrid.fake.status = 503
        collection, _ = await ingested(retrying, ("car.txt", ANSWER), ("desk.txt", DISTRACTOR))
        docs = (await retrying.service.collection(hybrid.k.alice, collection))[1]  # type: ignore[index]
        assert all(d.status == "ready" for d in docs)  # searchable by its words without any vector
        progress = await retrying.service.embedding(collection, docs)
        assert progress is not None and progress.embedded == 0 and progress.error
        assert texts(await retrying.service.retrieve(hybrid.k.alice, [collection], "help desk")) == [
            DISTRACTOR.decode()
        ]
        hybrid.fake.status = 200  # back: the next retry embeds what was left
        await until(lambda: _recovered(retrying, collection), what="both chunks embedded once the provider is back")
    finally:
        await retrying.service.aclose()


async def test_a_question_the_provider_cannot_embed_gets_bm25s_answer(hybrid: Hybrid) -> None:
    collection, _ = await ingested(hybrid, ("car.txt", ANSWER), ("desk.txt", DISTRACTOR))
    hybrid.fake.status = 500
    assert texts(await hybrid.service.retrieve(hybrid.k.alice, [collection], QUESTION)) == [DISTRACTOR.decode()]


async def _recovered(h: Hybrid, collection: str) -> bool:
    """Both chunks embedded, and the pass that did it over (its error cleared)."""
    return sum((await h.vectors.embedded(collection, h.embedder.model)).values()) == 2 and h.embedder.error is None


def test_reciprocal_rank_fusion_adds_one_over_sixty_plus_the_rank() -> None:
    fused = dict(fuse([[1, 2, 3], [3, 4]]))
    assert fused[3] == pytest.approx(1 / 63 + 1 / 61)
    assert fused[1] == pytest.approx(1 / 61) and fused[4] == pytest.approx(1 / 62)
    assert [chunk for chunk, _ in fuse([[1, 2, 3], [3, 4]])] == [3, 1, 2, 4]


async def test_a_matrix_not_loaded_yet_does_not_hold_the_question(hybrid: Hybrid) -> None:
    """A large collection's first load takes seconds: the question meanwhile gets BM25's answer, not a wait."""
    collection, _ = await ingested(hybrid, ("car.txt", ANSWER), ("desk.txt", DISTRACTOR))
    await hybrid.service.aclose()
    restarted = _hybrid(hybrid.k, hybrid.provider, hybrid.embedder.model, hybrid.fake, load_wait=0)
    await restarted.service.start()
    try:
        assert texts(await restarted.service.retrieve(hybrid.k.alice, [collection], QUESTION)) == [DISTRACTOR.decode()]
        await until(
            lambda: _found(restarted, collection), what="the answer found once the matrix has loaded in the background"
        )
    finally:
        await restarted.service.aclose()


async def _found(h: Hybrid, collection: str) -> bool:
    return ANSWER.decode() in texts(await h.service.retrieve(h.k.alice, [collection], QUESTION))
