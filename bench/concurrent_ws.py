"""Concurrent `/ws` clients, each one reply of 50 tokens at 20 ms per token, compared with the same load sent
straight to the fake provider.

    python -m bench.concurrent_ws [--n 50 100 200] [--tokens 50] [--delay 0.02]
    python -m bench.concurrent_ws --users 8 --per-user 25 [--sessions-per-user 2] [--rounds 3]

**Arrivals** (`--users U --per-user C`, issue 13): U users with C conversations each, U x C clients that all start
together, and each one *opens its socket* (the handshake with its session cookie, as a browser's) *and sends its
message at once*, so the storm of handshakes is part of the load. A reply's time runs from its socket being open to
its `done`. Each user signs in `--sessions-per-user` times (several browsers), and a user's sockets are dealt out
over those sessions, so no socket is refused by the server's caps (50 sockets per user, 20 per session): 8 x 25
with 2 sessions is 25 sockets per user and 12-13 per session. The sign-ins, accounts and conversations are made
before the clock. The per-user message limit (CHATUI_MESSAGES_PER_MINUTE, 30 by default) would refuse the 26th
message of a minute; the server of every benchmark runs with it at 1,000,000 (`bench._servers.ChatServer`), so 25
messages from one user in the same second go through (and so do the rounds after it). In each round, in this order:
the same U x C streams read straight from the fake provider (aiohttp, from the request to the last line); the same
arrivals at `bench.bare_relay` (a bare WebSocket relay on chatui's stack: no sign-in, no database), the machine's
floor; the arrivals at chatui. One aiohttp client reads every path (its frame reader is compiled).

Every client is its own account with its own conversation (so at most one reply per conversation). For each N:
first the direct round (N concurrent `POST /api/chat` streams to the fake provider, no connection limit), then the
`/ws` round (N sockets opened first, then all N messages sent at the same instant). Reported per N: replies
completed with exactly the scripted tokens in order, tokens lost, time to first token and whole-reply time (p50/p99)
over `/ws`, the direct whole-reply time and the ratio, the server's RSS and CPU, and "database is locked" lines in
the server log. One server serves all rounds (after a small warm-up round), so RSS growth across rounds shows too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import time

import httpx
import psutil
from websockets.asyncio.client import ClientConnection, connect

from bench._arrivals import (
    MESSAGE,
    ROUND_TIMEOUT,
    TITLE,
    BareRelay,
    print_arrivals,
    reply_figures,
    run_arrivals,
    title_prompt,
)
from bench._clients import (
    Account,
    Reply,
    create_accounts,
    create_conversations,
    direct_reply,
    ws_reply,
)
from bench._measure import Probe, Sampler, wait_quiet
from bench._report import markdown_table, save, trace_summary
from bench._servers import code_option, environment

RATIO_TARGET = 1.3


async def direct_round(provider_url: str, n: int) -> list[Reply]:
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        go = asyncio.Event()

        async def one() -> Reply:
            await go.wait()
            return await direct_reply(client, provider_url, MESSAGE, Reply())

        tasks = [asyncio.create_task(one()) for _ in range(n)]
        await asyncio.sleep(0.2)
        go.set()
        async with asyncio.timeout(ROUND_TIMEOUT):
            return list(await asyncio.gather(*tasks))


async def ws_round(ws_url: str, base_url: str, accounts: list[Account], processes: dict[str, psutil.Process]):
    conversations = await create_conversations(base_url, accounts)
    gate = asyncio.Semaphore(20)
    async with contextlib.AsyncExitStack() as stack:

        async def open_socket(account: Account, conversation: str) -> ClientConnection:
            async with gate:
                return await stack.enter_async_context(
                    connect(f"{ws_url}/ws/{conversation}", additional_headers=account.headers, open_timeout=30)
                )

        sockets = await asyncio.gather(*(open_socket(a, c) for a, c in zip(accounts, conversations, strict=True)))
        await asyncio.sleep(0.5)
        go = asyncio.Event()

        async def one(ws: ClientConnection) -> Reply:
            await go.wait()
            return await ws_reply(ws, MESSAGE, Reply(), limit=ROUND_TIMEOUT)

        tasks = [asyncio.create_task(one(ws)) for ws in sockets]
        quiet = await asyncio.to_thread(wait_quiet)
        with Probe(base_url, "concurrent") as probe:
            await asyncio.sleep(1.0)  # idle latency of the probe first
            started = time.perf_counter()
            with Sampler(processes) as sampler:
                go.set()
                async with asyncio.timeout(ROUND_TIMEOUT + 5):
                    replies = list(await asyncio.gather(*tasks))
            ended = time.perf_counter()
    lag = {"idle": probe.figures(end=started), "load": probe.figures(started, ended)}
    machine = {
        "quiet_before": quiet,
        "machine": sampler.machine_cpu_percent,
        "others": sampler.others_cpu_percent,
        "window": (started, ended),
    }
    return replies, sampler.usage, lag, machine


def summarize(n: int, tokens: list[str], via_ws: list[Reply], direct: list[Reply], usage, locked: int) -> dict:
    server = usage["server"]
    return {
        "n": n,
        **reply_figures(tokens, via_ws, direct),
        "direct_completed": f"{sum(1 for r in direct if r.tokens == tokens)}/{n}",
        "server_rss_start_mb": server.as_dict()["rss_start_mb"],
        "server_rss_peak_mb": server.as_dict()["rss_peak_mb"],
        "server_rss_growth_mb": server.as_dict()["rss_growth_mb"],
        "server_cpu_percent": server.as_dict()["cpu_percent"],
        "server_peak_cpu_percent": server.as_dict()["peak_cpu_percent"],
        "provider_cpu_percent": usage["provider"].as_dict()["cpu_percent"],
        "client_cpu_percent": usage["client"].as_dict()["cpu_percent"],
        "database_locked": locked,
    }


async def run(provider, server, sizes: list[int], tokens: list[str]) -> dict:
    accounts = await create_accounts(server.url, max(sizes), prefix="conc")
    processes = {"server": server.ps, "provider": psutil.Process(provider.process.pid), "client": psutil.Process()}
    await direct_round(provider.url, 10)  # warm-up of both paths
    await ws_round(server.ws_url, server.url, accounts[:10], processes)  # warm-up
    await asyncio.sleep(1)
    rss_before = server.ps.memory_info().rss / 2**20
    rows = []
    for n in sizes:
        direct = await direct_round(provider.url, n)
        await asyncio.sleep(1)
        locked_before = server.log_count("database is locked")
        via_ws, usage, lag, machine = await ws_round(server.ws_url, server.url, accounts[:n], processes)
        started, ended = machine["window"]  # from sending the messages to the last `done`
        await asyncio.sleep(1.5)  # let the last checkpoints and final writes land before reading the log
        row = summarize(n, tokens, via_ws, direct, usage, server.log_count("database is locked") - locked_before)
        row["health_idle_p50_ms"] = lag["idle"]["p50_ms"]
        row["health_p50_ms"], row["health_p99_ms"] = lag["load"]["p50_ms"], lag["load"]["p99_ms"]
        row["machine_cpu_percent"], row["others_cpu_percent"] = machine["machine"], machine["others"]
        row["quiet_before_percent"] = machine["quiet_before"]
        rows.append(row)
        print(row, flush=True)
        if server.trace:
            steps = trace_summary(server.trace, started, ended)
            row["server_steps_ms"] = steps
            for name, figures in steps.items():
                print(f"    {name:45} {figures}")
    await asyncio.sleep(2)
    return {
        "rows": rows,
        "server_rss_before_rounds_mb": round(rss_before, 1),
        "server_rss_after_rounds_mb": round(server.ps.memory_info().rss / 2**20, 1),
        "tracebacks_in_log": server.log_count("Traceback"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument("--tokens", type=int, default=50)
    parser.add_argument("--delay", type=float, default=0.02)
    parser.add_argument("--name", default="concurrent_ws")
    parser.add_argument("--trace", action="store_true", help="run the server under bench.trace_server; print steps")
    parser.add_argument("--profile", choices=["busy", "idle", "native"], help="py-spy on the server (bench._profile)")
    parser.add_argument("--users", type=int, help="arrivals: this many users (with --per-user), instead of --n")
    parser.add_argument("--per-user", type=int, default=25, help="arrivals: conversations (sockets) per user")
    parser.add_argument("--sessions-per-user", dest="sessions", type=int, default=2, help="arrivals: sign-ins per user")
    parser.add_argument("--rounds", type=int, default=3, help="arrivals: rounds of direct, bare relay and chatui")
    code_option(parser)
    args = parser.parse_args()
    tokens = [f" w{i}" for i in range(args.tokens)]
    if args.users:
        name = args.name if args.name != "concurrent_ws" else "concurrent_ws-arrivals"
        with environment(name, trace=args.trace, profile=args.profile, root=args.code) as (provider, server):
            provider.script(tokens, delay=args.delay, by_prompt={title_prompt(tokens): (TITLE, args.delay)})
            with BareRelay(provider.url, server.log_path.with_name("bare-relay.log")) as relay:
                result = asyncio.run(run_arrivals(provider, server, relay, args, tokens))
        result["tokens_per_reply"], result["delay_s"], result["client_pid"] = args.tokens, args.delay, os.getpid()
        path = save(name, result)
        print_arrivals(result)
        print(f"-> {path}")
        return
    with environment(args.name, trace=args.trace, profile=args.profile, root=args.code) as (provider, server):
        provider.script(tokens, delay=args.delay)
        result = asyncio.run(run(provider, server, args.n, tokens))
    result["tokens_per_reply"], result["delay_s"], result["client_pid"] = args.tokens, args.delay, os.getpid()
    path = save(args.name, result)
    columns = [
        "n",
        "completed",
        "tokens_lost",
        "ttft_p50_ms",
        "ttft_p99_ms",
        "reply_p50_ms",
        "reply_p99_ms",
        "direct_reply_p50_ms",
        "direct_reply_p99_ms",
        "ratio_p50",
        "ratio_p99",
        "server_rss_peak_mb",
        "server_rss_growth_mb",
        "server_cpu_percent",
        "database_locked",
    ]
    print(markdown_table(result["rows"], columns))
    print(
        f"RSS before rounds {result['server_rss_before_rounds_mb']} MB, after {result['server_rss_after_rounds_mb']} MB"
    )
    print(f"-> {path}")


if __name__ == "__main__":
    main()
