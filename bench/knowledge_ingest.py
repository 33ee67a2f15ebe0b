"""Knowledge ingest through a live server (issue 25): Markdown or PDF documents, on SQLite or PostgreSQL — the time
from the first upload to every document ready, the server's memory, and how long `/api/health` waits meanwhile.

    python -m bench.knowledge_ingest [--backend sqlite|postgresql|both] [--kind md|pdf|both] [--documents N] [--mb 50]

A real server (`main.py`; PostgreSQL: a fresh database at 127.0.0.1:5432) is sent `--documents` files of made-up
text totalling `--mb` MB of text (words from bench.knowledge_retrieval's Zipf vocabulary) with
`POST /api/knowledge/{id}/documents`, 50 files a request over loopback HTTP, while another client asks
`GET /api/health` every 50 ms: its p50/p95/max is what anyone using the server waits meanwhile. The server's RSS is
sampled with each health request. A PDF holds the same kind of text as a Markdown file, 50 lines a page, as real PDF
text operators (`testing.attachments.pdf`); chatui reads each PDF in a pypdf worker process of its own, as it reads
attachments, so the PDF run measures those processes too. The files are made before the clock starts.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import httpx
import psutil
import psycopg

from bench._clients import create_accounts
from bench._report import ms, percentile, save
from bench._servers import ChatServer, FakeProvider
from bench.knowledge_retrieval import zipf
from bench.search import POSTGRES_ADMIN
from testing.attachments import pdf

PER_REQUEST = 50
LINE_WORDS = 14
PAGE_LINES = 50


def markdown(rng: random.Random, words: list[str], cumulative: list[float], size: int, n: int) -> str:
    """A Markdown document of about `size` characters: a title, sections, paragraphs of 40 to 160 words."""
    parts = [f"# Document {n}"]
    length = 0
    section = 0
    while length < size:
        if rng.random() < 0.15:
            section += 1
            parts.append(f"## Section {section}")
        paragraph = " ".join(rng.choices(words, cum_weights=cumulative, k=rng.randint(40, 160))) + "."
        parts.append(paragraph)
        length += len(paragraph) + 2
    return "\n\n".join(parts)


def document(kind: str, rng: random.Random, words: list[str], cumulative: list[float], size: int, n: int) -> bytes:
    """One file of about `size` characters of text, as Markdown or as a PDF of 50-line pages."""
    if kind == "md":
        return markdown(rng, words, cumulative, size, n).encode()
    lines = [f"Document {n}"]
    length = 0
    while length < size:
        line = " ".join(rng.choices(words, cum_weights=cumulative, k=LINE_WORDS))
        lines.append(line)
        length += len(line) + 1
    return pdf(page_lines=[lines[i : i + PAGE_LINES] for i in range(0, len(lines), PAGE_LINES)])


async def run(backend: str, kind: str, documents: int, megabytes: float) -> dict[str, Any]:
    rng = random.Random(3)
    words, cumulative = zipf(rng)
    per_document = int(megabytes * 1024 * 1024 / documents)
    name = f"chatui_ingest_bench_{uuid.uuid4().hex[:8]}"
    env = {"CHATUI_UPLOAD_MAX_MB": "20"}
    if backend == "postgresql":
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + name
    made = time.perf_counter()
    files = [
        (f"doc{n}.{kind}", await asyncio.to_thread(document, kind, rng, words, cumulative, per_document, n))
        for n in range(documents)
    ]
    made = time.perf_counter() - made
    try:
        with TemporaryDirectory() as folder:
            root = Path(folder)
            provider = FakeProvider(root).start()
            server = ChatServer(root, provider.url, env=env).start()
            try:
                result = await _upload(server, files)
            finally:
                server.stop()
                provider.stop()
    finally:
        if backend == "postgresql":
            with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    text_mb = round(per_document * documents / 1024 / 1024, 1)
    file_mb = round(sum(len(data) for _, data in files) / 1024 / 1024, 1)
    return {"backend": backend, "kind": kind, "documents": documents, "text_mb": text_mb, "file_mb": file_mb} | {
        "files_made_seconds": round(made, 1),
        **result,
    }


async def _upload(server: ChatServer, files: list[tuple[str, bytes]]) -> dict[str, Any]:
    [account] = await create_accounts(server.url, 1, prefix="ingest")
    process = server.ps
    base = process.memory_info().rss
    peak = [base]
    health: list[float] = []
    running = True

    async def poll() -> None:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            while running:
                t0 = time.perf_counter()
                assert (await client.get("/api/health")).status_code == 200
                health.append(time.perf_counter() - t0)
                peak[0] = max(peak[0], _tree_rss(process))
                await asyncio.sleep(0.05)

    poller = asyncio.create_task(poll())
    media = {"md": "text/markdown", "pdf": "application/pdf"}
    async with httpx.AsyncClient(base_url=server.url, headers=account.headers, timeout=300) as client:
        cid = (await client.post("/api/knowledge", json={"name": "Ingest"})).json()["id"]
        started = time.perf_counter()
        for start in range(0, len(files), PER_REQUEST):
            sent = files[start : start + PER_REQUEST]
            batch = [("file", (name, data, media[name.rsplit(".", 1)[1]])) for name, data in sent]
            response = await client.post(f"/api/knowledge/{cid}/documents", files=batch)
            assert response.status_code == 201, response.text
        while True:
            body = (await client.get(f"/api/knowledge/{cid}")).json()
            if all(d["status"] != "pending" for d in body["documents"]):
                break
            await asyncio.sleep(0.2)
        elapsed = time.perf_counter() - started
    running = False
    await poller
    return {
        "chunks": sum(d["chunk_count"] for d in body["documents"]),
        "statuses": sorted({d["status"] for d in body["documents"]}),
        "seconds": round(elapsed, 1),
        "server_rss_growth_mb": round((peak[0] - base) / 1024 / 1024, 1),
        "health_p50_ms": ms(percentile(health, 50)),
        "health_p95_ms": ms(percentile(health, 95)),
        "health_max_ms": ms(max(health)),
        "health_requests": len(health),
    }


def _tree_rss(process: psutil.Process) -> int:
    """The server's RSS with its children's (a PDF is read in a worker process)."""
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.Error:
            continue
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--kind", choices=["md", "pdf", "both"], default="both")
    parser.add_argument("--documents", type=int, default=1_000)
    parser.add_argument("--mb", type=float, default=50)
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    kinds = ["md", "pdf"] if args.kind == "both" else [args.kind]
    results = {"load_before": list(psutil.getloadavg())}
    for backend in backends:
        for kind in kinds:
            result = asyncio.run(run(backend, kind, args.documents, args.mb))
            print(result, flush=True)
            results[f"{backend}_{kind}"] = result
    print(save("knowledge_ingest_live", {**results, "load_after": list(psutil.getloadavg())}))


if __name__ == "__main__":
    main()
