"""Hybrid knowledge retrieval at scale (issue 25, BENCHMARKS.md §24): what a question costs with vectors, on SQLite and
PostgreSQL, and the candidates for storing and searching the vectors.

    python -m bench.knowledge_hybrid [--chunks 100000] [--dimensions 384] [--backend sqlite|postgresql|both]
    python -m bench.knowledge_hybrid --candidates [--chunks 100000]

Retrieval: the collection of `bench.knowledge_retrieval` (`--chunks` chunks of Zipf-drawn words), every chunk then
given a `--dimensions` vector (random, unit length: the cost does not depend on what they mean) through the
embedder's own path (`VectorRepository.to_embed` and `store`, pages of 2,000). Questions go through
`KnowledgeService.retrieve` as the engine calls it before a reply, with `HybridRetrieval` over the fake Ollama's
`/api/embed` on loopback HTTP (the question's embedding is real HTTP through `OllamaProvider`; a real model adds its
own inference time, which the fake does not have). Reported: the first question (it starts reading the matrix
from the database in the background and waits 0.25 s at most for it), how long that read took, then p50/p95 for
each kind of question, beside BM25 alone on the same database, and the vector search alone (`VectorIndex.nearest`),
and the process's memory growth from holding the matrix.

Candidates: brute-force top-50 over `--chunks` x 384 and x 768 float32 vectors with numpy over a matrix held in
memory (`@`, OpenBLAS, and `einsum`, numpy's own single-threaded loop), with numpy over the BLOB column read back
for each question, and in pure Python (10,000 rows, scaled).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import numpy as np
import psutil

from bench._report import ms, percentile, save
from bench.knowledge_retrieval import LIMITS, bench_database, fill, questions
from chatui.knowledge.embedding import Embedder
from chatui.knowledge.hybrid import HybridRetrieval
from chatui.knowledge.service import KnowledgeService
from providers.ollama import OllamaProvider
from storage import AccountRepository, Database, KnowledgeRepository
from storage.knowledge_vectors import VectorRepository, encode
from storage.vector_index import VectorIndex
from testing.fakes.ollama import FakeOllama, ollama_app
from testing.fakes.server import ThreadedServer

MODEL = "ollama:nomic-embed-text"


async def embed_all(vectors: VectorRepository, dimensions: int) -> int:
    """Every chunk given a random unit vector through the embedder's own reads and writes."""
    rng = np.random.default_rng(5)
    after, written = 0, 0
    while batch := await vectors.to_embed(MODEL, after, 2_000):
        block = rng.standard_normal((len(batch), dimensions), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        written += await vectors.store(
            MODEL, [(chunk, encode(row.tolist())) for chunk, row in zip(batch, block, strict=True)]
        )
        after = batch[-1].chunk_id
    return written


async def hybrid(backend: str, chunks: int, dimensions: int, count: int) -> dict[str, Any]:
    fake = FakeOllama()
    fake.embedder.dimensions = dimensions
    server = ThreadedServer(ollama_app(fake)).start()
    provider = OllamaProvider(server.url)
    try:
        with TemporaryDirectory() as folder:
            async with bench_database(backend, folder) as db:
                return await measure(db, Path(folder), provider, backend, chunks, dimensions, count)
    finally:
        await provider.aclose()
        server.stop()


async def measure(
    db: Database, folder: Path, provider: OllamaProvider, backend: str, chunks: int, dimensions: int, count: int
) -> dict[str, Any]:
    user = await AccountRepository(db).create_user("bench", "x")
    plain = KnowledgeService(KnowledgeRepository(db), LIMITS, folder, single_instance=True)
    collection_id = await fill(plain, user.id, chunks, random.Random(7))
    vectors = VectorRepository(db)
    t0 = time.perf_counter()
    written = await embed_all(vectors, dimensions)
    result: dict[str, Any] = {
        "chunks": chunks,
        "dimensions": dimensions,
        "vectors_write_seconds": round(time.perf_counter() - t0, 1),
    }
    assert written == chunks, (written, chunks)
    if backend == "postgresql":
        await db.run_statements(lambda c: c.exec_driver_sql("ANALYZE"))

    async def embed(texts: Any) -> list[list[float]]:
        return await provider.embed("nomic-embed-text", texts)

    index = VectorIndex(vectors, MODEL)
    service = KnowledgeService(
        KnowledgeRepository(db),
        LIMITS,
        folder,
        single_instance=True,
        embedder=Embedder(vectors, embed, MODEL, retry_seconds=60),
        hybrid=HybridRetrieval(vectors, index, embed, timeout=2.0),
    )
    rss = psutil.Process().memory_info().rss
    t0 = time.perf_counter()
    await service.retrieve(user.id, [collection_id], "first question")  # starts the load, waits `load_wait` at most
    result["first_question_while_loading_ms"] = ms(time.perf_counter() - t0)
    index.load_wait = 3600.0
    await index.refresh({collection_id})
    result["matrix_load_seconds"] = round(time.perf_counter() - t0, 2)
    result["matrix_rss_mb"] = round((psutil.Process().memory_info().rss - rss) / 1024 / 1024)
    embeds = []
    for _ in range(50):
        t0 = time.perf_counter()
        query = (await embed(["a question of eight words or so here"]))[0]
        embeds.append(time.perf_counter() - t0)
    result["question_embedding_http"] = {
        "p50_ms": ms(percentile(embeds, 50)),
        "p95_ms": ms(percentile(embeds, 95)),
    }
    nearest = []
    for _ in range(count):
        t0 = time.perf_counter()
        await index.nearest(query, {collection_id}, {}, 50)
        nearest.append(time.perf_counter() - t0)
    result["vector_search_alone"] = {
        "p50_ms": ms(percentile(nearest, 50)),
        "p95_ms": ms(percentile(nearest, 95)),
    }
    print(backend, result, flush=True)
    for kind, asked in questions(random.Random(11), count).items():
        timed: dict[str, list[float]] = {"bm25": [], "hybrid": []}
        for question in asked:
            for mode, svc in (("bm25", plain), ("hybrid", service)):
                t0 = time.perf_counter()
                await svc.retrieve(user.id, [collection_id], question)
                timed[mode].append(time.perf_counter() - t0)
        result[kind] = {
            mode: {"p50_ms": ms(percentile(t, 50)), "p95_ms": ms(percentile(t, 95)), "max_ms": ms(max(t))}
            for mode, t in timed.items()
        }
        print(backend, kind, result[kind], flush=True)
    return result


def candidates(chunks: int) -> dict[str, Any]:
    """Brute-force top-50 by each way of keeping the vectors that installs here (BENCHMARKS.md §24)."""
    out: dict[str, Any] = {"chunks": chunks}
    out["sqlite_vec_loadable"] = hasattr(sqlite3.connect(":memory:"), "enable_load_extension")
    for dims in (384, 768):
        rng = np.random.default_rng(1)
        matrix = rng.standard_normal((chunks, dims), dtype=np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        asked = rng.standard_normal((50, dims), dtype=np.float32)
        times = []
        for query in asked:
            t0 = time.perf_counter()
            scores = matrix @ query
            top = np.argpartition(-scores, 50)[:50]
            top[np.argsort(-scores[top])]
            times.append(time.perf_counter() - t0)
        out[f"numpy_in_memory_{dims}"] = {"p50_ms": ms(percentile(times, 50)), "p95_ms": ms(percentile(times, 95))}
        times = []
        for query in asked:
            t0 = time.perf_counter()
            scores = np.einsum("ij,j->i", matrix, query)
            top = np.argpartition(-scores, 50)[:50]
            top[np.argsort(-scores[top])]
            times.append(time.perf_counter() - t0)
        out[f"numpy_einsum_{dims}"] = {"p50_ms": ms(percentile(times, 50)), "p95_ms": ms(percentile(times, 95))}
        with TemporaryDirectory() as folder:
            db = sqlite3.connect(Path(folder) / "v.db")
            db.execute("CREATE TABLE v (id INTEGER PRIMARY KEY, vector BLOB)")
            db.executemany("INSERT INTO v (vector) VALUES (?)", ((row.tobytes(),) for row in matrix))
            db.commit()
            times = []
            for query in asked[:5]:
                t0 = time.perf_counter()
                blobs = [row[0] for row in db.execute("SELECT vector FROM v")]
                read = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(-1, dims)
                np.argpartition(-(read @ query), 50)[:50]
                times.append(time.perf_counter() - t0)
            db.close()
        out[f"numpy_blob_each_question_{dims}"] = {"p50_ms": ms(percentile(times, 50))}
        print(dims, out, flush=True)
    rows = [list(map(float, row)) for row in matrix[:10_000, :384]]
    query = list(map(float, asked[0][:384]))
    t0 = time.perf_counter()
    [sum(a * b for a, b in zip(row, query, strict=True)) for row in rows]
    out["pure_python_384_scaled_ms"] = ms((time.perf_counter() - t0) * chunks / 10_000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--dimensions", type=int, default=384)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--candidates", action="store_true")
    args = parser.parse_args()
    load = {"load_before": list(psutil.getloadavg())}
    if args.candidates:
        print(save("vector_candidates", {**load, **candidates(args.chunks), "load_after": list(psutil.getloadavg())}))
        return
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = {b: asyncio.run(hybrid(b, args.chunks, args.dimensions, args.queries)) for b in backends}
    print(save("knowledge_hybrid", {**load, **results, "load_after": list(psutil.getloadavg())}))


if __name__ == "__main__":
    main()
