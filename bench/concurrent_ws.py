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
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

import aiohttp
import httpx
import psutil
from websockets.asyncio.client import ClientConnection, connect

from bench._clients import (
    MODEL,
    PASSWORD,
    Account,
    Reply,
    create_accounts,
    create_conversations,
    direct_reply,
    lost_tokens,
    read_reply,
    take_ndjson_line,
    ws_reply,
)
from bench._measure import Probe, Sampler, wait_quiet
from bench._processes import spawn, stop_process, wait_http
from bench._report import ROOT, markdown_table, ms, percentile, save, trace_summary
from bench._servers import environment
from chatui.conversations.titles import INPUT_CHARS, INSTRUCTION
from testing.fakes.server import free_port

MESSAGE = "Count for me, please."
TITLE = ["Counting", " from", " zero", " to", " forty-nine"]
"""What the fake model answers when chatui asks it for the conversation's title (arrivals): a title of a few words
at the same pace, as a model gives (asked for at most six words and 30 tokens), rather than the 50-token reply."""
RATIO_TARGET = 1.3
ROUND_TIMEOUT = 120.0


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


def title_prompt(tokens: list[str]) -> str:
    """The last message of the title request chatui sends after each reply (`chatui.conversations.titles`), to
    script its answer."""
    return f"{INSTRUCTION}\n\nUser: {MESSAGE[:INPUT_CHARS]}\n\nAssistant: {''.join(tokens)[:INPUT_CHARS]}"


def reply_figures(tokens: list[str], via_ws: list[Reply], direct: list[Reply]) -> dict:
    """What every round reports: replies complete and exact, tokens lost, first token and whole reply over `/ws`,
    the same streams straight from the provider, and their ratios."""
    total = [r.total for r in via_ws if r.total is not None]
    direct_total = [r.total for r in direct if r.total is not None]
    ttft = [r.ttft for r in via_ws if r.ttft is not None]
    p50, p99 = percentile(total, 50), percentile(total, 99)
    d50, d99 = percentile(direct_total, 50), percentile(direct_total, 99)
    return {
        "completed": f"{sum(1 for r in via_ws if r.status == 'done' and r.tokens == tokens)}/{len(via_ws)}",
        "tokens_lost": sum(lost_tokens(tokens, r.tokens) for r in via_ws),
        "errors": sorted({r.error for r in via_ws if r.error}),
        "ttft_p50_ms": ms(percentile(ttft, 50)),
        "ttft_p99_ms": ms(percentile(ttft, 99)),
        "reply_p50_ms": ms(p50),
        "reply_p99_ms": ms(p99),
        "direct_reply_p50_ms": ms(d50),
        "direct_reply_p99_ms": ms(d99),
        "ratio_p50": round(p50 / d50, 3),
        "ratio_p99": round(p99 / d99, 3),
    }


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


# -- arrivals: U users x C conversations, each client connects and sends at once (issue 13) ----------------------


@dataclass
class Arrival:
    """One client of the arrivals: where its socket goes and with which cookie (none for the bare relay)."""

    url: str
    headers: dict[str, str]


@dataclass
class Arrived:
    reply: Reply
    started: float = 0.0
    """When the client began to connect (the reply's own clock starts at `reply.sent`: the socket open)."""

    @property
    def handshake(self) -> float | None:
        return self.reply.sent - self.started if self.reply.sent else None


class BareRelay:
    """`python -m bench.bare_relay` in its own process, on a free port, reading the same fake provider."""

    def __init__(self, provider_url: str, log_path) -> None:
        self.port = free_port()
        self.provider_url = provider_url
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def __enter__(self) -> BareRelay:
        command = [sys.executable, "-m", "bench.bare_relay", "--port", str(self.port), "--provider", self.provider_url]
        with self.log_path.open("ab") as log:
            self.process = spawn(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        wait_http(f"http://127.0.0.1:{self.port}/", self.process, "the bare relay", self.log_path)
        return self

    def __exit__(self, *_: object) -> None:
        stop_process(self.process)


async def sign_in_again(base_url: str, account: Account) -> Account:
    """Another session of the same account (another browser)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        response = await client.post("/api/auth/login", json={"username": account.username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return Account(account.username, response.cookies["chatui_session"])


async def chatui_arrivals(base_url: str, ws_url: str, users: int, per_user: int, sessions: int) -> list[Arrival]:
    """U accounts with S sessions each and C new conversations each; a user's sockets dealt over the sessions."""
    accounts = await create_accounts(base_url, users, prefix="arrive")
    browsers = [[a, *[await sign_in_again(base_url, a) for _ in range(sessions - 1)]] for a in accounts]
    owners = [a for a in accounts for _ in range(per_user)]
    conversations = await create_conversations(base_url, owners)
    return [
        Arrival(f"{ws_url}/ws/{conversation}", browsers[i // per_user][(i % per_user) % sessions].headers)
        for i, conversation in enumerate(conversations)
    ]


async def arrive(
    session: aiohttp.ClientSession, arrivals: list[Arrival], processes: dict[str, psutil.Process]
) -> tuple[list[Arrived], Sampler, float]:
    """Every client starts together: connect (handshake), then send at once; each reply timed from its socket open."""
    go = asyncio.Event()

    async def one(arrival: Arrival) -> Arrived:
        result = Arrived(Reply())
        await go.wait()
        result.started = time.perf_counter()
        try:
            async with session.ws_connect(
                arrival.url, headers=arrival.headers, timeout=aiohttp.ClientWSTimeout(30)
            ) as ws:
                result.reply.sent = time.perf_counter()
                await ws.send_str(json.dumps({"type": "message", "content": MESSAGE}))

                async def texts():
                    async for message in ws:
                        if message.type != aiohttp.WSMsgType.TEXT:
                            return
                        yield message.data

                await read_reply(texts(), result.reply, ROUND_TIMEOUT)
        except (aiohttp.ClientError, TimeoutError) as exc:
            result.reply.error = result.reply.error or f"connect: {type(exc).__name__}"
        return result

    tasks = [asyncio.create_task(one(a)) for a in arrivals]
    quiet = await asyncio.to_thread(wait_quiet)
    await asyncio.sleep(0.2)
    with Sampler(processes) as sampler:
        go.set()
        sampler.window = (time.perf_counter(), 0.0)
        async with asyncio.timeout(ROUND_TIMEOUT + 10):
            arrived = list(await asyncio.gather(*tasks))
        sampler.window = (sampler.window[0], time.perf_counter())
    return arrived, sampler, quiet


async def direct_arrivals(
    session: aiohttp.ClientSession, provider_url: str, n: int, processes: dict[str, psutil.Process]
) -> tuple[list[Reply], Sampler, float]:
    """The same n streams straight from the fake provider, all started together; from the request to the last line."""
    go = asyncio.Event()
    body = {"model": MODEL, "messages": [{"role": "user", "content": MESSAGE}], "stream": True}

    async def one() -> Reply:
        reply = Reply()
        await go.wait()
        reply.sent = time.perf_counter()
        async with session.post(f"{provider_url}/api/chat", json=body) as response:
            async for line in response.content:
                if take_ndjson_line(reply, line):
                    break
        return reply

    tasks = [asyncio.create_task(one()) for _ in range(n)]
    quiet = await asyncio.to_thread(wait_quiet)
    await asyncio.sleep(0.2)
    with Sampler(processes) as sampler:
        go.set()
        async with asyncio.timeout(ROUND_TIMEOUT):
            replies = list(await asyncio.gather(*tasks))
    return replies, sampler, quiet


def arrival_figures(tokens: list[str], arrived: list[Arrived], direct: list[Reply], sampler: Sampler) -> dict:
    replies = [a.reply for a in arrived]
    handshakes = [h for a in arrived if (h := a.handshake) is not None]
    usage = {name: u.as_dict()["cpu_percent"] for name, u in sampler.usage.items()}
    return {
        **reply_figures(tokens, replies, direct),
        "handshake_p50_ms": ms(percentile(handshakes, 50)),
        "handshake_p99_ms": ms(percentile(handshakes, 99)),
        "cpu_percent": usage,
        "others_cpu_percent": sampler.others_cpu_percent,
    }


async def run_arrivals(provider, server, relay: BareRelay, args, tokens: list[str]) -> dict:
    n = args.users * args.per_user
    processes = {
        "server": server.ps,
        "relay": psutil.Process(relay.process.pid),
        "provider": psutil.Process(provider.process.pid),
        "client": psutil.Process(),
    }
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None)) as session:
        # Warm-up of every path (imports, first connections, prepared statements), with a few clients.
        warm = await chatui_arrivals(server.url, server.ws_url, 2, 5, 1)
        await direct_arrivals(session, provider.url, 10, processes)
        await arrive(session, [Arrival(f"{relay.ws_url}/ws/warm", {})] * 10, processes)
        await arrive(session, warm, processes)
        rounds = []
        for index in range(args.rounds):
            arrivals = await chatui_arrivals(server.url, server.ws_url, args.users, args.per_user, args.sessions)
            await asyncio.sleep(1)
            direct, direct_sampler, _ = await direct_arrivals(session, provider.url, n, processes)
            await asyncio.sleep(1)
            bare = [Arrival(f"{relay.ws_url}/ws/{i}", {}) for i in range(n)]
            relayed, relay_sampler, _ = await arrive(session, bare, processes)
            await asyncio.sleep(1)
            locked_before = server.log_count("database is locked")
            arrived, sampler, quiet = await arrive(session, arrivals, processes)
            row = {
                "round": index + 1,
                "chatui": arrival_figures(tokens, arrived, direct, sampler),
                "relay": arrival_figures(tokens, [Arrived(r.reply, r.started) for r in relayed], direct, relay_sampler),
                "direct_cpu_percent": {k: u.as_dict()["cpu_percent"] for k, u in direct_sampler.usage.items()},
                "quiet_before_percent": quiet,
            }
            await asyncio.sleep(2.5)  # the last final writes and the titles the replies asked for
            row["chatui"]["database_locked"] = server.log_count("database is locked") - locked_before
            if server.trace:
                row["chatui"]["server_steps_ms"] = trace_summary(server.trace, *sampler.window)
            rounds.append(row)
            print(json.dumps(row), flush=True)
    summary = {}
    for kind in ("chatui", "relay"):
        for key in ("ratio_p50", "ratio_p99"):
            values = [r[kind][key] for r in rounds]
            summary[f"{kind}_{key}"] = {
                "median": round(statistics.median(values), 3),
                "min": min(values),
                "max": max(values),
            }
    return {
        "shape": {"users": args.users, "per_user": args.per_user, "sessions_per_user": args.sessions, "sockets": n},
        "rounds": rounds,
        "summary": summary,
        "load_average": os.getloadavg(),
        "tracebacks_in_log": server.log_count("Traceback"),
    }


def print_arrivals(result: dict) -> None:
    rows = []
    for r in result["rounds"]:
        for kind in ("relay", "chatui"):
            f = r[kind]
            rows.append(
                {
                    "round": r["round"],
                    "path": kind,
                    "completed": f["completed"],
                    "lost": f["tokens_lost"],
                    "handshake p50/p99": f"{f['handshake_p50_ms']:.0f} / {f['handshake_p99_ms']:.0f}",
                    "ttft p50/p99": f"{f['ttft_p50_ms']:.0f} / {f['ttft_p99_ms']:.0f}",
                    "reply p50/p99": f"{f['reply_p50_ms']:.0f} / {f['reply_p99_ms']:.0f}",
                    "direct p50/p99": f"{f['direct_reply_p50_ms']:.0f} / {f['direct_reply_p99_ms']:.0f}",
                    "ratio p50/p99": f"{f['ratio_p50']:.3f} / {f['ratio_p99']:.3f}",
                    "cpu srv/relay/prov/client": "/".join(
                        f"{f['cpu_percent'][k]:.0f}" for k in ("server", "relay", "provider", "client")
                    ),
                    "others": f["others_cpu_percent"],
                    "db locked": f.get("database_locked", ""),
                }
            )
    print(markdown_table(rows, list(rows[0])))
    for key, value in result["summary"].items():
        print(f"{key}: median {value['median']} (min {value['min']}, max {value['max']})")
    for r in result["rounds"]:
        for name, figures in r["chatui"].get("server_steps_ms", {}).items():
            print(f"    round {r['round']}: {name:45} {figures}")


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
    args = parser.parse_args()
    tokens = [f" w{i}" for i in range(args.tokens)]
    if args.users:
        name = args.name if args.name != "concurrent_ws" else "concurrent_ws-arrivals"
        with environment(name, trace=args.trace, profile=args.profile) as (provider, server):
            provider.script(tokens, delay=args.delay, by_prompt={title_prompt(tokens): (TITLE, args.delay)})
            with BareRelay(provider.url, server.log_path.with_name("bare-relay.log")) as relay:
                result = asyncio.run(run_arrivals(provider, server, relay, args, tokens))
        result["tokens_per_reply"], result["delay_s"], result["client_pid"] = args.tokens, args.delay, os.getpid()
        path = save(name, result)
        print_arrivals(result)
        print(f"-> {path}")
        return
    with environment(args.name, trace=args.trace, profile=args.profile) as (provider, server):
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
