"""A flood of sign-ins at bcrypt cost 12 while a reply streams: do page loads and the reply wait for the hashing?

    python -m bench.sign_in_flood --flood 120 --threads 1 --threads 6

For each `--threads` (CHATUI_HASHING_THREADS) a fresh server is started at cost 12. One account streams a long
reply over `/ws` (a token every 10 ms from the fake provider) while `--flood` wrong sign-ins arrive at once, each
from its own loopback address (127.0.x.y) and for its own name, so no limit stops them and every one costs a bcrypt
check. Measured meanwhile: `GET /api/health` from its own process (the event loop's lag), the reply's tokens per
second during the flood against the second before it (the provider sends 100), and how long one real sign-in
started half a second into the flood takes. `6` threads is what the process had before (asyncio.to_thread's
default pool: cores + 4 on 2 cores).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

from bench._clients import PASSWORD, Reply, create_accounts, create_conversations, ws_reply
from bench._measure import Probe
from bench._report import markdown_table, save
from bench._servers import ChatServer, FakeProvider

TOKENS = [f"t{i} " for i in range(1500)]
TOKEN_DELAY = 0.01


async def wrong_sign_in(base_url: str, index: int) -> int:
    address = f"127.0.{1 + index // 250}.{1 + index % 250}"
    transport = httpx.AsyncHTTPTransport(local_address=address)
    async with httpx.AsyncClient(base_url=base_url, transport=transport, timeout=300) as client:
        answer = await client.post("/api/auth/login", json={"username": f"nobody{index}", "password": "wrong-guess"})
        return answer.status_code


async def real_sign_in(base_url: str, username: str) -> float:
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base_url, timeout=300) as client:
        answer = await client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
    return time.perf_counter() - started


async def one_round(workdir: Path, provider: FakeProvider, flood: int, threads: int) -> dict[str, Any]:
    env = {"CHATUI_BCRYPT_ROUNDS": "12", "CHATUI_HASHING_THREADS": str(threads)}
    server = ChatServer(workdir, provider.url, env).start()
    try:
        streamer, signer = await create_accounts(server.url, 2, prefix=f"flood{threads}x")
        (conversation,) = await create_conversations(server.url, [streamer])
        async with connect(f"{server.ws_url}/ws/{conversation}", additional_headers=streamer.headers) as ws:
            reply = Reply()

            async def stream() -> None:
                await ws_reply(ws, "stream something long", reply, limit=120)

            with Probe(server.url, f"sign-in-flood-{threads}") as probe:
                await asyncio.sleep(1.0)
                streaming = asyncio.create_task(stream())
                await asyncio.sleep(1.0)  # the reply is streaming by now
                count = len(reply.tokens)
                flood_start = time.perf_counter()
                wrong = asyncio.gather(*(wrong_sign_in(server.url, i) for i in range(flood)))
                await asyncio.sleep(0.5)
                real = await real_sign_in(server.url, signer.username)
                codes = await wrong
                flood_end = time.perf_counter()
                during = len(reply.tokens) - count
                overlap = min(flood_end, reply.done or flood_end) - flood_start  # the reply may end first
                await streaming
        health = probe.figures(flood_start, flood_end)
    finally:
        server.stop()
    return {
        "threads": threads,
        "flood": flood,
        "flood_s": round(flood_end - flood_start, 1),
        "answers_401": codes.count(401),
        "health_p50_ms": health["p50_ms"],
        "health_p99_ms": health["p99_ms"],
        "health_max_ms": health["max_ms"],
        "tokens_per_s_during_flood": round(during / overlap, 1),
        "tokens_per_s_before": round(count / (flood_start - (reply.first or flood_start) or 1), 1),
        "real_sign_in_s": round(real, 2),
        "reply_status": reply.status,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flood", type=int, default=120)
    parser.add_argument("--threads", type=int, action="append")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="chatui-bench-flood-") as tmp:
        provider = FakeProvider(Path(tmp)).start()
        try:
            provider.script(TOKENS, delay=TOKEN_DELAY)
            for threads in args.threads or [1, 6]:
                workdir = Path(tmp) / f"threads-{threads}"
                workdir.mkdir()
                row = await one_round(workdir, provider, args.flood, threads)
                rows.append(row)
                print(row, flush=True)
        finally:
            provider.stop()
    columns = list(rows[0])
    print(markdown_table(rows, columns))
    print(save("sign_in_flood", {"rows": rows}))


if __name__ == "__main__":
    asyncio.run(main())
