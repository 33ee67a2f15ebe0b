"""The arrivals of `bench.concurrent_ws` (`--users U --per-user C`, issue 13): U users x C conversations, each
client connects (the handshake with its session cookie) and sends at once; the same streams read straight from the
fake provider and through `bench.bare_relay`, the machine's floor. Also what both kinds of round send and report.
"""

from __future__ import annotations

import asyncio
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

from bench._clients import (
    MODEL,
    PASSWORD,
    Account,
    Reply,
    create_accounts,
    create_conversations,
    lost_tokens,
    read_reply,
    take_ndjson_line,
)
from bench._measure import Sampler, wait_quiet
from bench._processes import spawn, stop_process, wait_http
from bench._report import ROOT, markdown_table, ms, percentile, trace_summary
from chatui.conversations.titles import INPUT_CHARS, INSTRUCTION
from testing.fakes.server import free_port

MESSAGE = "Count for me, please."
TITLE = ["Counting", " from", " zero", " to", " forty-nine"]
"""What the fake model answers when chatui asks it for the conversation's title (arrivals): a title of a few words
at the same pace, as a model gives (asked for at most six words and 30 tokens), rather than the 50-token reply."""
ROUND_TIMEOUT = 120.0


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
