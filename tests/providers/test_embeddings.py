"""`Provider.embed` through each wire format: Ollama's `/api/embed` over httpx, OpenAI's `/v1/embeddings` through the
real `openai` SDK (which asks for base64 and decodes it), against the loopback fakes; and their errors."""

from __future__ import annotations

import httpx
import pytest

from providers.errors import ModelNotFound, ProviderServerError, ProviderUnavailable
from providers.ollama import OllamaProvider
from providers.openai_compat import OpenAIProvider
from testing.fakes.openai import FakeOpenAI
from testing.fakes.server import ClosedPort, ScriptedProvider

TEXTS = ["The cat sat on the mat.", "Quarterly revenue grew by four percent.", "A cat on a mat."]


@pytest.fixture
async def ollama(fake_ollama: ScriptedProvider):
    provider = OllamaProvider(fake_ollama.url, read_timeout=2.0)  # type: ignore[attr-defined]
    yield provider
    await provider.aclose()


@pytest.fixture
async def openai_provider(fake_openai: FakeOpenAI):
    fake_openai.api_key = "sk-test-embeddings-0123456789abcdef"
    provider = OpenAIProvider(fake_openai.api_key, f"{fake_openai.url}/v1", read_timeout=2.0)  # type: ignore[attr-defined]
    yield provider
    await provider.aclose()


def dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


async def test_ollama_embeds_a_batch_in_one_request_in_order(ollama, fake_ollama):
    vectors = await ollama.embed("nomic-embed-text", TEXTS)
    assert fake_ollama.embedder.requests == [TEXTS]  # one request, every text, in order
    assert vectors == [fake_ollama.embedder.vector(text) for text in TEXTS]
    assert dot(vectors[0], vectors[2]) > 0.8 > 0.2 > dot(vectors[0], vectors[1])  # like texts are near


async def test_the_ollama_wire_is_model_and_input_and_answers_embeddings(fake_ollama):
    """The exact shapes, read without the adapter: what the fake answers is what Ollama's API reference shows."""
    async with httpx.AsyncClient(base_url=fake_ollama.url) as client:  # type: ignore[attr-defined]
        answer = (await client.post("/api/embed", json={"model": "all-minilm", "input": "why is the sky blue"})).json()
        missing = await client.post("/api/embed", json={"model": "nomic-embed-txt", "input": ["x"]})
    assert answer["model"] == "all-minilm" and len(answer["embeddings"]) == 1 and len(answer["embeddings"][0]) == 64
    assert {"total_duration", "load_duration", "prompt_eval_count"} <= answer.keys()
    assert missing.status_code == 404
    assert missing.json() == {"error": 'model "nomic-embed-txt" not found, try pulling it first'}


async def test_ollama_without_the_model_says_to_pull_it(ollama):
    with pytest.raises(ModelNotFound, match="ollama pull nomic-embed-txt"):
        await ollama.embed("nomic-embed-txt", ["a"])


async def test_ollama_failing_or_down_raises_the_providers_errors(ollama, fake_ollama):
    fake_ollama.embedder.status = 500
    with pytest.raises(ProviderServerError, match="the embedding model failed to load"):
        await ollama.embed("nomic-embed-text", ["a"])
    port = ClosedPort()
    down = OllamaProvider(f"http://127.0.0.1:{port}", read_timeout=1.0)
    try:
        with pytest.raises(ProviderUnavailable, match="cannot reach Ollama"):
            await down.embed("nomic-embed-text", ["a"])
    finally:
        await down.aclose()
        port.release()


async def test_nothing_to_embed_sends_nothing(ollama, fake_ollama, openai_provider, fake_openai):
    assert await ollama.embed("nomic-embed-text", []) == []
    assert await openai_provider.embed("text-embedding-3-small", []) == []
    assert fake_ollama.embedder.requests == [] and fake_openai.embedder.requests == []


async def test_openai_embeds_through_the_sdk_in_order(openai_provider, fake_openai):
    vectors = await openai_provider.embed("text-embedding-3-small", TEXTS)
    assert fake_openai.embedder.requests == [TEXTS]
    expected = [fake_openai.embedder.vector(text) for text in TEXTS]
    # the SDK asked for base64 float32s and decoded them: equal to float32 precision
    assert all(v == pytest.approx(e, abs=1e-6) for v, e in zip(vectors, expected, strict=True))


async def test_the_openai_wire_answers_floats_or_base64_as_asked(fake_openai):
    async with httpx.AsyncClient(base_url=f"{fake_openai.url}/v1") as client:  # type: ignore[attr-defined]
        floats = (await client.post("/embeddings", json={"model": "text-embedding-3-small", "input": "hi"})).json()
        packed = (
            await client.post(
                "/embeddings", json={"model": "text-embedding-3-small", "input": ["hi"], "encoding_format": "base64"}
            )
        ).json()
        missing = await client.post("/embeddings", json={"model": "text-embedding-4", "input": ["hi"]})
    assert floats["object"] == "list" and floats["model"] == "text-embedding-3-small"
    assert floats["data"][0]["object"] == "embedding" and floats["data"][0]["index"] == 0
    assert isinstance(floats["data"][0]["embedding"], list) and isinstance(packed["data"][0]["embedding"], str)
    assert floats["usage"] == {"prompt_tokens": 1, "total_tokens": 1}
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"


async def test_openai_errors_are_the_providers_errors(openai_provider, fake_openai):
    with pytest.raises(ModelNotFound, match="text-embedding-4"):
        await openai_provider.embed("text-embedding-4", ["a"])
    fake_openai.embedder.status = 503
    with pytest.raises(ProviderServerError):
        await openai_provider.embed("text-embedding-3-small", ["a"])
    port = ClosedPort()
    down = OpenAIProvider(None, f"http://127.0.0.1:{port}/v1", read_timeout=1.0)
    try:
        with pytest.raises(ProviderUnavailable):
            await down.embed("text-embedding-3-small", ["a"])
    finally:
        await down.aclose()
        port.release()
