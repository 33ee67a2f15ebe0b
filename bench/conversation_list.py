"""The conversation list with 10,000 conversations in 100 folders, and its filters (issue 26), on SQLite and PostgreSQL.

    python -m bench.conversation_list [--backend sqlite|postgresql|both] [--conversations 10000] [--folders 100]
                                      [--repeats 30]

For each backend: one chatui server (`main.py`, 127.0.0.1), two accounts of `--conversations` conversations written
straight into its database (`testing.seed`): *plain*, filed nowhere (the list as it was before folders), and
*organized*, spread over `--folders` folders, each conversation with one of 20 tags, 10 pinned and a tenth archived.
Then `GET /api/conversations?limit=50` (the sidebar's page) is timed from an HTTP client, median and p95 of
`--repeats`: the first page, a page halfway down (its cursor), and each filter. Results in bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from typing import Any

import httpx
import psycopg
from sqlalchemy import update

from bench._clients import create_accounts
from bench._report import ms, percentile, save
from bench._servers import environment
from storage import Database
from storage.models import Conversation, ConversationTag, Folder, new_id, utcnow
from testing.seed import seed_conversations

POSTGRES_ADMIN = "postgresql://127.0.0.1:5432/test"
PAGE = 50


def seed(url: str, plain: str, organized: str, conversations: int, folders: int) -> dict[str, str]:
    """Both accounts' conversations; the organized one's folders, tags, pins and archive. Returns ids to filter by."""
    db = Database(url)
    try:
        with db.engine.begin() as c:
            seed_conversations(c, plain, conversations)
            ids = seed_conversations(c, organized, conversations)
            folder_ids = [new_id() for _ in range(folders)]
            c.execute(
                Folder.__table__.insert(),
                [
                    {"id": f, "user_id": organized, "name": f"Folder {i}", "position": i, "created_at": utcnow()}
                    for i, f in enumerate(folder_ids)
                ],
            )
            table = Conversation.__table__
            for i, folder_id in enumerate(folder_ids):
                filed = ids[i::folders]
                c.execute(update(table).where(table.c.id.in_(filed)).values(folder_id=folder_id))
            c.execute(update(table).where(table.c.id.in_(ids[::10])).values(archived=True))
            c.execute(update(table).where(table.c.id.in_(ids[5 :: conversations // 10])).values(pinned=True))
            tags = [{"conversation_id": cid, "user_id": organized, "tag": f"tag{i % 20}"} for i, cid in enumerate(ids)]
            for chunk in range(0, len(tags), 5000):
                c.execute(ConversationTag.__table__.insert(), tags[chunk : chunk + 5000])
        with db.engine.begin() as c:
            c.exec_driver_sql("ANALYZE")  # fresh planner statistics, as a database in use would have
        return {"folder": folder_ids[37]}
    finally:
        db.engine.dispose()


async def timed(client: httpx.AsyncClient, url: str, repeats: int) -> dict[str, Any]:
    times = []
    for _ in range(repeats + 3):
        started = time.perf_counter()
        response = await client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
    times = times[3:]  # warm-up
    return {"rows": len(response.json()), "median_ms": ms(percentile(times, 50)), "p95_ms": ms(percentile(times, 95))}


async def halfway(client: httpx.AsyncClient) -> str:
    """The address of a page about halfway down the list (followed page by page, as the sidebar does)."""
    url = f"/api/conversations?limit={PAGE}"
    for _ in range(100):
        link = (await client.get(url)).headers["Link"]
        url = link[1 : link.index(">")]
    return url


async def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    env: dict[str, str] = {}
    name = f"chatui_bench_{uuid.uuid4().hex[:8]}"
    url = ""
    if backend == "postgresql":
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        url = POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + name
        env["DATABASE_URL"] = url
    try:
        with environment(f"list-{backend}", server_env=env) as (_, server):
            url = url or f"sqlite:///{server.data_dir / 'database.db'}"
            plain, organized = await create_accounts(server.url, 2, prefix="lister")
            ids = {}
            for account in (plain, organized):
                async with httpx.AsyncClient(base_url=server.url, headers=account.headers) as client:
                    ids[account.username] = (await client.get("/api/auth/me")).json()["id"]
            chosen = await asyncio.to_thread(
                seed, url, ids[plain.username], ids[organized.username], args.conversations, args.folders
            )
            result: dict[str, Any] = {"backend": backend}
            async with httpx.AsyncClient(base_url=server.url, headers=plain.headers, timeout=60) as client:
                result["plain first page"] = await timed(client, f"/api/conversations?limit={PAGE}", args.repeats)
                result["plain halfway"] = await timed(client, await halfway(client), args.repeats)
            async with httpx.AsyncClient(base_url=server.url, headers=organized.headers, timeout=60) as client:
                base = f"/api/conversations?limit={PAGE}"
                result["organized first page"] = await timed(client, base, args.repeats)
                result["organized halfway"] = await timed(client, await halfway(client), args.repeats)
                for label, query in (
                    ("folder", f"&folder_id={chosen['folder']}"),
                    ("tag", "&tag=tag7"),
                    ("archived", "&archived=true"),
                    ("pinned", "&pinned=true"),
                    ("folder + tag", f"&folder_id={chosen['folder']}&tag=tag17"),
                ):
                    result[label] = await timed(client, base + query, args.repeats)
            return result
    finally:
        if backend == "postgresql":
            with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--folders", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    results = [await run_backend(b, args) for b in backends]
    for result in results:
        print(result["backend"])
        for key, value in result.items():
            if isinstance(value, dict):
                print(f"  {key:22} rows {value['rows']:3}  median {value['median_ms']:7} ms  p95 {value['p95_ms']} ms")
    save("conversation_list", {"args": vars(args), "results": results})


if __name__ == "__main__":
    asyncio.run(main())
