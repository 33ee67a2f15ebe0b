"""Knowledge at scale (issue 25): retrieval p50/p95 at 100,000 chunks on SQLite and PostgreSQL, and an ingest of
many documents (time, memory, how long the event loop is held).

    python -m bench.knowledge_retrieval [--chunks 100000] [--backend sqlite|postgresql|both] [--queries 200]
    python -m bench.knowledge_retrieval --ingest [--documents 1000] [--mb 50]
    python -m bench.knowledge_retrieval --ingest --live [--documents 1000] [--mb 50]

Retrieval: one collection of `--chunks` chunks of ~1,000 characters (words from a 30,000-word made-up vocabulary with
Zipf frequencies, as bench/search.py: some words are in most chunks, some in a handful), written straight through
`KnowledgeRepository.add_chunks` (the ingest's own write, FTS5 triggers / the generated tsvector included). Then
questions of three kinds, each timed as the engine calls it before a reply (`KnowledgeService.retrieve`, 8 passages:
the database thread hop included, no HTTP): `rare` (two rare words), `mixed` (eight words drawn by frequency, like a
question's: mostly common, one or two rare) and `common` (three of the 20 most frequent words: the worst case, a
match in most chunks). That call is all retrieval adds before a reply's first token.

Ingest: `--documents` Markdown files totalling `--mb` MB, added in batches of 50 through `KnowledgeService.add` and
read by its background ingest, on SQLite, while a ticker measures how late a 10 ms sleep of the event loop wakes
(what every page and socket of the server would wait); peak RSS growth sampled every 50 ms.

With `--live`: the same files uploaded to a real server (`main.py`, SQLite): `bench.knowledge_ingest`, which also
runs PDF documents and PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import psutil
import psycopg

from bench._report import ms, percentile, save
from bench.search import POSTGRES_ADMIN, VOCABULARY, vocabulary
from chatui.knowledge.service import KnowledgeLimits, KnowledgeService, Upload
from storage import AccountRepository, Database, KnowledgeRepository, mark_interrupted
from storage.knowledge import NewChunk

CHUNK_WORDS = 150
BATCH = 2_000


def zipf(rng: random.Random) -> tuple[list[str], list[float]]:
    words = vocabulary(rng)
    cumulative, total = [], 0.0
    for rank in range(1, VOCABULARY + 1):
        total += 1 / rank
        cumulative.append(total)
    return words, cumulative


async def fill(service: KnowledgeService, user_id: str, chunks: int, rng: random.Random) -> str:
    words, cumulative = zipf(rng)
    collection = await service.create(user_id, "Bench")
    per_document = 1_000
    for start in range(0, chunks, per_document):
        row = await service.repository.add_document(
            user_id, collection.id, name=f"doc{start // per_document}.md", kind="markdown", size=0
        )
        assert row is not None
        batch = [
            NewChunk(" ".join(rng.choices(words, cum_weights=cumulative, k=CHUNK_WORDS)), f"Section {i % 37}")
            for i in range(min(per_document, chunks - start))
        ]
        await service.repository.add_chunks(row.id, 0, batch)
        await service.repository.finish(row.id, len(batch))
    return collection.id


def questions(rng: random.Random, count: int) -> dict[str, list[str]]:
    words, cumulative = zipf(random.Random(7))  # the same vocabulary as `fill`
    return {
        "rare": [" ".join(rng.sample(words[15_000:30_000], 2)) for _ in range(count)],
        "mixed": [" ".join(rng.choices(words, cum_weights=cumulative, k=8)) for _ in range(count)],
        "common": [" ".join(rng.sample(words[:20], 3)) for _ in range(count)],
    }


@contextlib.asynccontextmanager
async def bench_database(backend: str, folder: str) -> AsyncIterator[Database]:
    """A fresh database at the newest schema: an SQLite file in `folder`, or a PostgreSQL database dropped after."""
    name = f"chatui_knowledge_bench_{random.getrandbits(32):08x}"
    if backend == "postgresql":
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    url = f"sqlite:///{folder}/bench.db" if backend == "sqlite" else POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + name
    db = Database(url)
    db.prepare(mark_interrupted)
    try:
        yield db
    finally:
        await db.close()
        if backend == "postgresql":
            with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def retrieval(backend: str, chunks: int, count: int) -> dict[str, Any]:
    with TemporaryDirectory() as folder:
        async with bench_database(backend, folder) as db:
            user = await AccountRepository(db).create_user("bench", "x")
            service = KnowledgeService(KnowledgeRepository(db), LIMITS, Path(folder), single_instance=True)
            started = time.perf_counter()
            collection_id = await fill(service, user.id, chunks, random.Random(7))
            filled = time.perf_counter() - started
            if backend == "postgresql":
                await db.run_statements(lambda c: c.exec_driver_sql("ANALYZE"))
            result: dict[str, Any] = {"chunks": chunks, "write_seconds": round(filled, 1)}
            for kind, asked in questions(random.Random(11), count).items():
                await service.retrieve(user.id, [collection_id], asked[0])  # warm
                times, found = [], 0
                for question in asked:
                    t0 = time.perf_counter()
                    passages = await service.retrieve(user.id, [collection_id], question)
                    times.append(time.perf_counter() - t0)
                    found += bool(passages)
                result[kind] = {
                    "p50_ms": ms(percentile(times, 50)),
                    "p95_ms": ms(percentile(times, 95)),
                    "max_ms": ms(max(times)),
                    "answered": f"{found}/{len(asked)}",
                }
                print(backend, kind, result[kind], flush=True)
            return result


LIMITS = KnowledgeLimits(max_bytes=20 * 1024 * 1024, pdf_seconds=20, pdf_max_pages=500)


async def ingest(documents: int, megabytes: float) -> dict[str, Any]:
    rng = random.Random(3)
    words, cumulative = zipf(rng)
    per_document = int(megabytes * 1024 * 1024 / documents)
    process = psutil.Process()
    with TemporaryDirectory() as folder:
        root = Path(folder)
        db = Database(f"sqlite:///{root / 'bench.db'}")
        db.prepare(mark_interrupted)
        spool = root / "spool"
        spool.mkdir()
        user = await AccountRepository(db).create_user("bench", "x")
        service = KnowledgeService(KnowledgeRepository(db), LIMITS, spool, single_instance=True)
        collection = await service.create(user.id, "Ingest")
        base = process.memory_info().rss
        peak = [base]
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.05):
                peak[0] = max(peak[0], process.memory_info().rss)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        lags: list[float] = []
        ticking = True

        async def ticker() -> None:
            while ticking:
                t0 = time.perf_counter()
                await asyncio.sleep(0.01)
                lags.append(time.perf_counter() - t0 - 0.01)

        tick = asyncio.create_task(ticker())
        started = time.perf_counter()
        written = 0
        for start in range(0, documents, 50):
            uploads = []
            for n in range(start, min(documents, start + 50)):  # made off the loop: the bench's work, not chatui's
                path = spool / f"doc{n}.md"
                size = await asyncio.to_thread(_write, path, rng, words, cumulative, per_document, n)
                written += size
                uploads.append(Upload(f"doc{n}.md", path, size))
            await service.add(user.id, collection.id, uploads)
        await service.wait_idle()
        elapsed = time.perf_counter() - started
        ticking = False
        await tick
        stop.set()
        sampler.join()
        found = await service.collection(user.id, collection.id)
        assert found is not None
        statuses = {d.status for d in found[1]}
        chunks = sum(d.chunk_count for d in found[1])
        await service.aclose()
        await db.close()
    return {
        "documents": documents,
        "megabytes": round(written / 1024 / 1024, 1),
        "chunks": chunks,
        "statuses": sorted(statuses),
        "seconds": round(elapsed, 1),
        "mb_per_second": round(written / 1024 / 1024 / elapsed, 2),
        "rss_growth_mb": round((peak[0] - base) / 1024 / 1024, 1),
        "loop_lag_p50_ms": ms(percentile(lags, 50)),
        "loop_lag_p95_ms": ms(percentile(lags, 95)),
        "loop_lag_max_ms": ms(max(lags)),
    }


def _write(path: Path, rng: random.Random, words: list[str], cumulative: list[float], size: int, n: int) -> int:
    from bench.knowledge_ingest import markdown  # it imports this module's vocabulary

    data = markdown(rng, words, cumulative, size, n).encode()
    path.write_bytes(data)
    return len(data)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--ingest", action="store_true")
    parser.add_argument("--documents", type=int, default=1_000)
    parser.add_argument("--mb", type=float, default=50)
    parser.add_argument("--live", action="store_true", help="--ingest through a live server's API")
    args = parser.parse_args()
    load = {"load_before": list(psutil.getloadavg())}
    if args.ingest:
        if args.live:
            from bench.knowledge_ingest import run

            result = asyncio.run(run("sqlite", "md", args.documents, args.mb))
        else:
            result = asyncio.run(ingest(args.documents, args.mb))
        print(result)
        name = "knowledge_ingest_live" if args.live else "knowledge_ingest"
        print(save(name, {**load, **result, "load_after": list(psutil.getloadavg())}))
        return
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = {backend: asyncio.run(retrieval(backend, args.chunks, args.queries)) for backend in backends}
    print(save("knowledge_retrieval", {**load, **results, "load_after": list(psutil.getloadavg())}))


if __name__ == "__main__":
    main()
