"""Share links (issue 26): what sharing, opening and continuing cost as a conversation grows, on SQLite and PostgreSQL.

    python -m bench.share_links [--backend sqlite|postgresql|both] [--sizes 10,100,1000,5000] [--repeats 15]

For each backend: one chatui server (`main.py`, 127.0.0.1), one account, and a conversation of each size (messages
on one path, the seed's Markdown) written straight into its database (`testing.seed`). Timed from an HTTP client,
median and p95 of `--repeats` after 2 warm-ups: `POST /api/conversations/{id}/share` (the snapshot is taken again
each time), `GET /api/shares/{token}` (the snapshot as JSON, signed out), `GET /s/{token}` (the shared page's HTML,
signed out: it builds the first 100 messages' bubbles) and `POST /api/shares/{token}/continue` (the copy). Also the
snapshot's size. Results in bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import psycopg

from bench._clients import create_accounts
from bench._report import ms, percentile, save
from bench._servers import environment
from storage import Database
from testing.seed import seed_conversation

POSTGRES_ADMIN = "postgresql://127.0.0.1:5432/test"


def seed(url: str, user_id: str, sizes: list[int]) -> dict[int, str]:
    db = Database(url)
    try:
        with db.engine.begin() as c:
            return {size: seed_conversation(c, user_id, size, title=f"{size} messages")[0] for size in sizes}
    finally:
        db.engine.dispose()


async def timed(call: Callable[[], Awaitable[httpx.Response]], repeats: int, expect: int = 200) -> dict[str, Any]:
    times = []
    for _ in range(repeats + 2):
        started = time.perf_counter()
        response = await call()
        times.append(time.perf_counter() - started)
        assert response.status_code == expect, response.text[:300]
    times = times[2:]
    return {"median_ms": ms(percentile(times, 50)), "p95_ms": ms(percentile(times, 95))}


async def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    env = {"CHATUI_CONVERSATIONS_PER_MINUTE": "100000"}
    name = f"chatui_bench_{uuid.uuid4().hex[:8]}"
    url = ""
    if backend == "postgresql":
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        url = POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + name
        env["DATABASE_URL"] = url
    try:
        with environment(f"share-{backend}", server_env=env) as (_, server):
            url = url or f"sqlite:///{server.data_dir / 'database.db'}"
            [owner] = await create_accounts(server.url, 1, prefix="sharer")
            async with httpx.AsyncClient(base_url=server.url, headers=owner.headers, timeout=120) as client:
                user_id = (await client.get("/api/auth/me")).json()["id"]
                conversations = await asyncio.to_thread(seed, url, user_id, args.sizes)
                result: dict[str, Any] = {"backend": backend}
                async with httpx.AsyncClient(base_url=server.url, timeout=120) as anonymous:
                    for size, conversation_id in conversations.items():
                        share_url = f"/api/conversations/{conversation_id}/share"
                        token = (await client.post(share_url)).json()["token"]
                        snapshot = await anonymous.get(f"/api/shares/{token}")
                        result[str(size)] = {
                            "snapshot_kb": round(len(snapshot.content) / 1024, 1),
                            "share": await timed(lambda u=share_url: client.post(u), args.repeats),
                            "read json": await timed(lambda t=token: anonymous.get(f"/api/shares/{t}"), args.repeats),
                            "page": await timed(lambda t=token: anonymous.get(f"/s/{t}"), args.repeats),
                            "continue": await timed(
                                lambda t=token: client.post(f"/api/shares/{t}/continue"), args.repeats, 201
                            ),
                        }
            return result
    finally:
        if backend == "postgresql":
            with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--sizes", default="10,100,1000,5000")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    results = [await run_backend(b, args) for b in backends]
    for result in results:
        print(result["backend"])
        for size in args.sizes:
            row = result[str(size)]
            timings = "  ".join(f"{k} {v['median_ms']}/{v['p95_ms']} ms" for k, v in row.items() if isinstance(v, dict))
            print(f"  {size:5} messages  snapshot {row['snapshot_kb']} KB  {timings}")
    save("share_links", {"args": vars(args), "results": results})


if __name__ == "__main__":
    asyncio.run(main())
