"""Several instances on PostgreSQL + Redis against one, in the shape of `bench.concurrent_ws`.

    python -m bench.instances [--n 200] [--tokens 50] [--delay 0.02] [--sequential 40]

Each round starts its servers afresh on a new PostgreSQL database (created and dropped here, at
`CHATUI_TEST_POSTGRES_URL` or 127.0.0.1:5432) and, with Redis, a new key prefix (`REDIS_URL`, default
redis://127.0.0.1:6379/0). Rounds:

    one              1 instance, no Redis: N sockets, every message sent at the same instant
    one+redis        1 instance with REDIS_URL: the same
    two+redis        2 instances with REDIS_URL, N sockets on each (2 x N replies)
    followed         2 instances; N replies written on A, each followed by a socket on B that was open before

and, first, what Redis adds to one reply's first token on idle servers: `--sequential` replies one after the other,
in turns on an instance without Redis and on instance A of a pair with Redis while a socket on B follows the reply
(p50 and p90 of each; the differences of the medians).
Reported per round: replies complete with exactly the scripted tokens, tokens lost, time to first token and
whole-reply time (p50/p99), the servers' CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import redis
from websockets.asyncio.client import ClientConnection, connect

from bench._clients import Account, Reply, create_accounts, create_conversations, lost_tokens, read_reply, ws_reply
from bench._report import markdown_table, ms, percentile, save
from bench._servers import ChatServer, FakeProvider

MESSAGE = "Count for me, please."
POSTGRES = os.environ.get("CHATUI_TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
REDIS = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


@contextlib.contextmanager
def servers(provider: FakeProvider, count: int, with_redis: bool) -> Iterator[list[ChatServer]]:
    """`count` chatui processes on one new PostgreSQL database (and one Redis prefix); all removed afterwards."""
    name = f"chatui_bench_{uuid.uuid4().hex[:10]}"
    prefix = f"chatui-bench-{uuid.uuid4().hex[:10]}:"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    workdir = Path(tempfile.mkdtemp(prefix="chatui-bench-instances-"))
    started: list[ChatServer] = []
    try:
        for index in range(count):
            folder = workdir / f"instance-{index}"
            folder.mkdir()
            server = ChatServer(folder, provider.url, {"CHATUI_SECRET": "bench-secret-shared-by-every-instance"})
            server.env["DATABASE_URL"] = f"{POSTGRES.rsplit('/', 1)[0]}/{name}"
            if with_redis:
                server.env.update({"REDIS_URL": REDIS, "CHATUI_REDIS_PREFIX": prefix})
            started.append(server.start())
        yield started
    finally:
        for server in started:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if with_redis:
            with redis.Redis.from_url(REDIS) as client:
                keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
                if keys:
                    client.delete(*keys)


async def sockets(stack: contextlib.AsyncExitStack, server: ChatServer, accounts: list[Account], ids: list[str]):
    gate = asyncio.Semaphore(20)

    async def open_one(account: Account, conversation: str) -> ClientConnection:
        async with gate:
            return await stack.enter_async_context(
                connect(f"{server.ws_url}/ws/{conversation}", additional_headers=account.headers, open_timeout=30)
            )

    return list(await asyncio.gather(*(open_one(a, c) for a, c in zip(accounts, ids, strict=True))))


async def concurrent(servers_: list[ChatServer], n: int, tag: str) -> tuple[list[Reply], dict[str, float]]:
    """N replies on every server, all messages sent at once; returns the replies and the servers' CPU %."""
    groups = []
    for index, server in enumerate(servers_):
        accounts = await create_accounts(server.url, n, prefix=f"{tag}{index}x")
        groups.append((server, accounts, await create_conversations(server.url, accounts)))
    async with contextlib.AsyncExitStack() as stack:
        opened = [await sockets(stack, server, accounts, ids) for server, accounts, ids in groups]
        await asyncio.sleep(0.5)
        go = asyncio.Event()

        async def one(ws: ClientConnection) -> Reply:
            await go.wait()
            return await ws_reply(ws, MESSAGE, Reply(), limit=120)

        tasks = [asyncio.create_task(one(ws)) for group in opened for ws in group]
        processes = [server.ps for server in servers_]
        for process in processes:
            process.cpu_percent()
        go.set()
        replies = list(await asyncio.gather(*tasks))
        cpu = {f"server{i}_cpu_percent": round(p.cpu_percent(), 1) for i, p in enumerate(processes)}
    return replies, cpu


async def followed(a: ChatServer, b: ChatServer, n: int) -> tuple[list[Reply], list[Reply]]:
    """N replies written on A; each also read by a socket on B opened before the message was sent."""
    accounts = await create_accounts(a.url, n, prefix="follow")
    ids = await create_conversations(a.url, accounts)
    async with contextlib.AsyncExitStack() as stack:
        writers = await sockets(stack, a, accounts, ids)
        readers = await sockets(stack, b, accounts, ids)
        await asyncio.sleep(0.5)
        go = asyncio.Event()

        async def write(ws: ClientConnection, reply: Reply) -> Reply:
            await go.wait()
            return await ws_reply(ws, MESSAGE, reply, limit=120)

        async def read(ws: ClientConnection, reply: Reply) -> Reply:
            await go.wait()
            reply.sent = written[index_of[id(reply)]].sent  # timed from the send on A
            return await read_reply(ws, reply, 120)

        written = [Reply() for _ in range(n)]
        mirrored = [Reply() for _ in range(n)]
        index_of = {id(r): i for i, r in enumerate(mirrored)}
        tasks = [asyncio.create_task(write(ws, r)) for ws, r in zip(writers, written, strict=True)]
        tasks += [asyncio.create_task(read(ws, r)) for ws, r in zip(readers, mirrored, strict=True)]
        await asyncio.sleep(0)
        go.set()
        await asyncio.gather(*tasks)
    return written, mirrored


async def sequential(plain: ChatServer, a: ChatServer, b: ChatServer, count: int) -> dict[str, list[float]]:
    """Time to first token of `count` replies one after the other (idle servers), taken in turns on a server without
    Redis and on instance A of a pair with Redis, whose reply a socket on B follows: the turns share whatever else
    the machine does at that moment."""
    plain_account = (await create_accounts(plain.url, 1, prefix="seq"))[0]
    pair_account = (await create_accounts(a.url, 1, prefix="seq"))[0]
    plain_ids = await create_conversations(plain.url, [plain_account] * count)
    pair_ids = await create_conversations(a.url, [pair_account] * count)
    figures: dict[str, list[float]] = {"no_redis": [], "redis": [], "followed_on_b": []}
    for plain_id, pair_id in zip(plain_ids, pair_ids, strict=True):
        async with connect(f"{plain.ws_url}/ws/{plain_id}", additional_headers=plain_account.headers) as ws:
            reply = await ws_reply(ws, MESSAGE, Reply(), limit=60)
            figures["no_redis"].append(reply.ttft or 0.0)
        async with (
            connect(f"{a.ws_url}/ws/{pair_id}", additional_headers=pair_account.headers) as on_a,
            connect(f"{b.ws_url}/ws/{pair_id}", additional_headers=pair_account.headers) as on_b,
        ):
            await asyncio.sleep(0.05)
            written, followed = Reply(), Reply()
            follower = asyncio.create_task(read_reply(on_b, followed, 60))
            await ws_reply(on_a, MESSAGE, written, limit=60)
            await follower
            figures["redis"].append(written.ttft or 0.0)
            figures["followed_on_b"].append((followed.first or 0.0) - written.sent)
    return {name: values[3:] for name, values in figures.items()}  # the first few warm the caches


def summarize(name: str, tokens: list[str], replies: list[Reply], extra: dict | None = None) -> dict:
    ttft = [r.ttft for r in replies if r.ttft is not None]
    total = [r.total for r in replies if r.total is not None]
    return {
        "round": name,
        "completed": f"{sum(1 for r in replies if r.status == 'done' and r.tokens == tokens)}/{len(replies)}",
        "tokens_lost": sum(lost_tokens(tokens, r.tokens) for r in replies),
        "ttft_p50_ms": ms(percentile(ttft, 50)),
        "ttft_p99_ms": ms(percentile(ttft, 99)),
        "reply_p50_ms": ms(percentile(total, 50)),
        "reply_p99_ms": ms(percentile(total, 99)),
        **(extra or {}),
    }


async def run(provider: FakeProvider, n: int, tokens: list[str], delay: float, count: int) -> dict:
    provider.script(tokens[:5], delay=0.0)
    with servers(provider, 1, False) as (plain,), servers(provider, 2, True) as (a, b):
        figures = await sequential(plain, a, b, count)
    result: dict = {
        "sequential": {
            name: {"ttft_p50_ms": ms(percentile(values, 50)), "ttft_p90_ms": ms(percentile(values, 90))}
            for name, values in figures.items()
        }
    }
    p50 = {name: figures["ttft_p50_ms"] for name, figures in result["sequential"].items()}
    result["sequential"]["added_by_redis_p50_ms"] = round(p50["redis"] - p50["no_redis"], 2)
    result["sequential"]["added_by_following_from_b_p50_ms"] = round(p50["followed_on_b"] - p50["redis"], 2)
    print(result["sequential"], flush=True)

    provider.script(tokens, delay=delay)
    rows = []
    for name, count_, with_redis in (("one", 1, False), ("one+redis", 1, True), ("two+redis", 2, True)):
        with servers(provider, count_, with_redis) as started:
            await concurrent(started, 10, "warm" + name.replace("+", ""))  # warm-up
            replies, cpu = await concurrent(started, n, name.replace("+", ""))
        rows.append(summarize(f"{name} ({count_} x {n})", tokens, replies, cpu))
        print(rows[-1], flush=True)
    with servers(provider, 2, True) as (a, b):
        await followed(a, b, 10)  # warm-up
        written, mirrored = await followed(a, b, n)
    rows.append(summarize(f"written on A ({n})", tokens, written))
    rows.append(summarize(f"followed from B ({n})", tokens, mirrored))
    print(rows[-2], rows[-1], sep="\n", flush=True)
    result["rows"] = rows
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--tokens", type=int, default=50)
    parser.add_argument("--delay", type=float, default=0.02)
    parser.add_argument("--sequential", type=int, default=40)
    args = parser.parse_args()
    tokens = [f" w{i}" for i in range(args.tokens)]
    workdir = Path(tempfile.mkdtemp(prefix="chatui-bench-provider-"))
    provider = FakeProvider(workdir).start()
    try:
        result = asyncio.run(run(provider, args.n, tokens, args.delay, args.sequential))
    finally:
        provider.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    result.update(n=args.n, tokens_per_reply=args.tokens, delay_s=args.delay, cpus=psutil.cpu_count())
    path = save("instances", result)
    print(result["sequential"])
    columns = ["round", "completed", "tokens_lost", "ttft_p50_ms", "ttft_p99_ms", "reply_p50_ms", "reply_p99_ms"]
    print(markdown_table(result["rows"], [*columns, "server0_cpu_percent", "server1_cpu_percent"]))
    print(f"-> {path}")


if __name__ == "__main__":
    main()
