"""Full-text search at account scale, and the memory an import takes: on SQLite and on PostgreSQL.

    python -m bench.search [--conversations 2000] [--messages-per-conversation 50] [--chars 1400]
                           [--backend sqlite|postgresql|both] [--repeats 5]
                           [--keep DIR [--no-http] [--kinds phrase,prefix,...]]

1. Writes a ChatGPT data export (`conversations.json`) of `conversations × messages-per-conversation` messages
   (defaults: 2,000 × 50 = 100,000, about 200 MB): words drawn from a 30,000-word made-up vocabulary with Zipf
   frequencies, so some words are in most messages and some in a handful; one conversation in ten has a
   regenerated reply (a branch).
2. For each backend: starts chatui (`main.py`) on 127.0.0.1, imports the file through `POST /api/import` while
   sampling the server's RSS (growth = peak during the import - RSS before the upload), and reports the import's
   wall time and the index size.
3. Runs single-word (common, middling, rare), two-word phrase and prefix queries, each `repeats` times, timing
   (a) `SearchRepository.search` in this process on the server's own database (the server's query time, no HTTP)
   and (b) `GET /api/search` over loopback HTTP (what a client waits). p50/p95 per kind.

With `--keep DIR` the imported data stays in DIR (the SQLite data folder; the PostgreSQL database is not dropped,
its URL is in DIR/postgresql/state.json: drop it by hand when done), and a later run with the same DIR goes straight
to step 3 on it (upgrading its schema first), in seconds with `--no-http` (no server, only the repository's time).

The machine is shared with other work; run it when it is quiet and read the figures as noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import text

from bench._clients import create_accounts
from bench._measure import Sampler
from bench._report import ms, percentile, save
from bench._servers import environment
from storage import Database, SearchRepository

VOCABULARY = 30_000
SYLLABLES = ["ka", "lo", "mi", "ne", "tu", "ra", "si", "po", "ve", "da", "qui", "zor", "bel", "an", "ex", "or", "il"]
POSTGRES_ADMIN = "postgresql://127.0.0.1:5432/test"


def vocabulary(rng: random.Random) -> list[str]:
    words: set[str] = set()
    while len(words) < VOCABULARY:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    # rank order, index 0 the most frequent; from sorted words: a set's order changes with each process's hash seed
    return sorted(sorted(words), key=lambda w: rng.random())


def write_export(path: Path, conversations: int, per_conversation: int, chars: int, seed: int = 7) -> dict[str, Any]:
    """The ChatGPT export, written one conversation at a time; returns the words and phrases to query."""
    rng = random.Random(seed)
    words = vocabulary(rng)
    cumulative: list[float] = []
    total = 0.0
    for rank in range(1, VOCABULARY + 1):
        total += 1 / rank
        cumulative.append(total)
    words_per_message = max(3, chars // 7)
    phrases: list[str] = []
    messages = 0
    with path.open("w", encoding="utf-8") as out:
        out.write("[")
        for index in range(conversations):
            conversation, count, sample = _conversation(
                rng, words, cumulative, index, per_conversation, words_per_message
            )
            messages += count
            if len(phrases) < 200 and index % 7 == 0:
                phrases.append(sample)
            out.write(("," if index else "") + json.dumps(conversation))
        out.write("]")
    return {
        "messages": messages,
        "common": words[5:25],
        "middling": words[500:520],
        "rare": words[20_000:20_020],
        "prefixes": [w[:3] for w in words[300:320]],
        "phrases": phrases[:20],
    }


def _conversation(
    rng: random.Random,
    words: list[str],
    cumulative: list[float],
    index: int,
    count: int,
    length: int,
) -> tuple[dict[str, Any], int, str]:
    t0 = 1_650_000_000 + index * 3600
    mapping: dict[str, Any] = {"root": {"id": "root", "message": None, "parent": None, "children": []}}
    parent = "root"
    sample = ""
    written = 0
    branch_at = count // 2 if index % 10 == 0 else -1
    for position in range(count):
        role = "user" if position % 2 == 0 else "assistant"
        body = rng.choices(words, cum_weights=cumulative, k=rng.randint(length // 2, length * 3 // 2))
        if not sample:
            start = rng.randrange(len(body) - 1)
            sample = f"{body[start]} {body[start + 1]}"
        node_id = str(uuid.UUID(int=rng.getrandbits(128)))
        mapping[node_id] = _node(node_id, parent, role, " ".join(body), t0 + position)
        mapping[parent]["children"].append(node_id)
        written += 1
        if position == branch_at and role == "assistant":  # a regenerated reply beside this one
            other = str(uuid.UUID(int=rng.getrandbits(128)))
            mapping[other] = _node(other, parent, role, " ".join(reversed(body)), t0 + position + 0.5)
            mapping[parent]["children"].append(other)
            written += 1
        parent = node_id
    conversation = {
        "title": " ".join(rng.choices(words, cum_weights=cumulative, k=4)),
        "create_time": t0,
        "update_time": t0 + count,
        "mapping": mapping,
        "current_node": parent,
        "conversation_id": str(uuid.UUID(int=rng.getrandbits(128))),
        "default_model_slug": "gpt-4o",
    }
    return conversation, written, sample


def _node(node_id: str, parent: str, role: str, text: str, at: float) -> dict[str, Any]:
    return {
        "id": node_id,
        "parent": parent,
        "children": [],
        "message": {
            "id": node_id,
            "author": {"role": role, "metadata": {}},
            "create_time": at,
            "content": {"content_type": "text", "parts": [text]},
            "status": "finished_successfully",
            "metadata": {"model_slug": "gpt-4o"} if role == "assistant" else {},
            "recipient": "all",
        },
    }


def queries(plan: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for kind in ("common", "middling", "rare"):
        for word in plan[kind]:
            yield f"word ({kind})", word + " "
    for phrase in plan["phrases"]:
        yield "phrase", f'"{phrase}"'
    for prefix in plan["prefixes"]:
        yield "prefix", prefix


async def run_backend(backend: str, export: Path, plan: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Import into a fresh server and query it; with `--keep`, into DIR once, and later runs only query."""
    kept = args.keep / backend if args.keep else None
    state_path = kept / "state.json" if kept else None
    state = json.loads(state_path.read_text()) if state_path and state_path.exists() else None
    env: dict[str, str] = {}
    database_url = state["database_url"] if state else None
    name = database_url.rsplit("/", 1)[1] if database_url else ""
    if backend == "postgresql" and state is None:
        name = f"chatui_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        database_url = POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + name
    if backend == "postgresql":
        env["DATABASE_URL"] = str(database_url)
    try:
        if state is not None and args.no_http:  # the query phase alone, without a server
            db = Database(state["database_url"])
            try:
                db.prepare(lambda _: None)  # a migration added since the import applies here too
                with db.engine.connect() as c:
                    user = c.execute(text("SELECT id FROM users")).scalar_one()
                return {
                    "backend": backend,
                    "import": state["import"],
                    "index": _index_size(db),
                    "queries": await _query(None, db, plan, args.repeats, args.kinds, user),
                }
            finally:
                await db.close()
        with environment(f"search-{backend}", server_env=env, workdir=kept) as (_, server):
            if database_url is None:
                database_url = f"sqlite:///{server.data_dir / 'database.db'}"
            [account] = await create_accounts(server.url, 1, prefix="searcher")
            async with httpx.AsyncClient(base_url=server.url, headers=account.headers, timeout=120) as client:
                imported = state["import"] if state else await _import(client, server, export)
                if state_path and state is None:
                    state_path.write_text(json.dumps({"database_url": database_url, "import": imported}))
                result: dict[str, Any] = {"backend": backend, "import": imported}
                db = Database(database_url)
                try:
                    result["index"] = _index_size(db)
                    result["queries"] = await _query(client, db, plan, args.repeats, args.kinds)
                finally:
                    await db.close()
    finally:
        if backend == "postgresql" and not kept:
            with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return result


async def _import(client: httpx.AsyncClient, server: Any, export: Path) -> dict[str, Any]:
    size = export.stat().st_size  # noqa: ASYNC240 (a benchmark, not the server)
    with Sampler({"server": server.ps}, interval=0.05) as sampler:
        t0 = time.perf_counter()
        with export.open("rb") as upload:
            started = await client.post("/api/import", files={"file": ("conversations.json", upload)})
        started.raise_for_status()
        uploaded = time.perf_counter() - t0
        job = started.json()["job_id"]
        for _ in range(36_000):  # an hour at most
            state = (await client.get(f"/api/import/{job}")).json()
            if state["status"] != "running":
                break
            await asyncio.sleep(0.1)
        wall = time.perf_counter() - t0
    usage = sampler.usage["server"]
    if state["status"] != "done":
        raise RuntimeError(f"import failed: {state}")
    return {
        "file_mb": round(size / 1024**2, 1),
        "conversations": state["conversations"],
        "messages": state["messages"],
        "upload_seconds": round(uploaded, 1),
        "wall_seconds": round(wall, 1),
        "rss_before_mb": round(usage.rss_start_mb, 1),
        "rss_peak_mb": round(usage.rss_peak_mb, 1),
        "rss_growth_mb": round(usage.rss_peak_mb - usage.rss_start_mb, 1),
    }


def _index_size(db: Database) -> dict[str, float]:
    mb = 1024**2
    with db.engine.connect() as c:
        if db.is_sqlite:
            fts = c.execute(
                text(
                    "SELECT (SELECT coalesce(sum(length(block)), 0) FROM messages_fts_data)"
                    " + (SELECT count(*) * 24 FROM messages_fts_idx)"
                    " + (SELECT coalesce(sum(length(sz)), 0) FROM messages_fts_docsize)"
                )
            ).scalar_one()
            pages = c.execute(text("PRAGMA page_count")).scalar_one() * c.execute(text("PRAGMA page_size")).scalar_one()
            return {"message_index_mb": round(fts / mb, 1), "database_mb": round(pages / mb, 1)}
        gin = c.execute(text("SELECT pg_relation_size('ix_messages_search')")).scalar_one()
        vectors = c.execute(text("SELECT sum(pg_column_size(search_vector)) FROM messages")).scalar_one()
        database = c.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
        return {
            "gin_index_mb": round(gin / mb, 1),
            "tsvector_column_mb": round(vectors / mb, 1),
            "database_mb": round(database / mb, 1),
        }


async def _query(
    client: httpx.AsyncClient | None,
    db: Database,
    plan: dict[str, Any],
    repeats: int,
    kinds: list[str] | None,
    me: str | None = None,
) -> list[dict[str, Any]]:
    """p50/p95 a kind; without a `client` (`--no-http`) only the repository's time."""
    search = SearchRepository(db)
    if client is not None:
        me = (await client.get("/api/auth/me")).json()["id"]
    assert me is not None
    direct: dict[str, list[float]] = {}
    http: dict[str, list[float]] = {}
    hits: dict[str, list[int]] = {}
    planned = [(kind, q) for kind, q in queries(plan) if not kinds or kind.split(" ")[0] in kinds or kind in kinds]
    for _kind, query in planned[:3]:  # warm caches
        await search.search(me, query, limit=20)
    for _ in range(repeats):
        for kind, query in planned:
            t0 = time.perf_counter()
            found = await search.search(me, query, limit=21)
            direct.setdefault(kind, []).append(time.perf_counter() - t0)
            hits.setdefault(kind, []).append(len(found))
            if client is None:
                continue
            t0 = time.perf_counter()
            response = await client.get("/api/search", params={"q": query, "limit": 20})
            http.setdefault(kind, []).append(time.perf_counter() - t0)
            response.raise_for_status()
    return [
        {
            "kind": kind,
            "queries": len(direct[kind]),
            "query_p50_ms": ms(percentile(direct[kind], 50)),
            "query_p95_ms": ms(percentile(direct[kind], 95)),
            **(
                {"http_p50_ms": ms(percentile(http[kind], 50)), "http_p95_ms": ms(percentile(http[kind], 95))}
                if kind in http
                else {}
            ),
            "pages_full": f"{sum(h > 20 for h in hits[kind])}/{len(hits[kind])}",
        }
        for kind in direct
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=2000)
    parser.add_argument("--messages-per-conversation", type=int, default=50)
    parser.add_argument("--chars", type=int, default=1400, help="average characters per message")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--export", type=Path, default=Path("/tmp/chatui-bench-search-conversations.json"))
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="import into DIR (SQLite data folder, name of the PostgreSQL database) and keep it; a later run with "
        "the same DIR skips the export and the import and only queries (after upgrading the schema)",
    )
    parser.add_argument("--no-http", action="store_true", help="with a kept DIR: only the query time, no server")
    parser.add_argument(
        "--kinds", type=lambda v: v.split(","), help="comma-separated: common,middling,rare,phrase,prefix"
    )
    args = parser.parse_args()
    if args.kinds:
        args.kinds = [f"word ({k})" if k in ("common", "middling", "rare") else k for k in args.kinds]
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    plan_path = args.keep / "plan.json" if args.keep else None
    imported = plan_path is not None and all((args.keep / b / "state.json").exists() for b in backends)
    if imported and plan_path is not None:
        plan = json.loads(plan_path.read_text())
    else:
        t0 = time.perf_counter()
        plan = write_export(args.export, args.conversations, args.messages_per_conversation, args.chars)
        print(
            f"wrote {args.export} ({args.export.stat().st_size / 1024**2:.0f} MB, {plan['messages']:,} messages) "
            f"in {time.perf_counter() - t0:.0f} s",
            flush=True,
        )
        if plan_path is not None:
            plan_path.parent.mkdir(parents=True, exist_ok=True)
            plan_path.write_text(json.dumps(plan))
    results = []
    try:
        for backend in backends:
            result = await run_backend(backend, args.export, plan, args)
            print(json.dumps(result, indent=2), flush=True)
            results.append(result)
    finally:
        args.export.unlink(missing_ok=True)
    path = save("search", {"args": {k: str(v) for k, v in vars(args).items()}, "results": results})
    print(f"saved {path}")


if __name__ == "__main__":
    asyncio.run(main())
