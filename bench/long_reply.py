"""One 5,000-token reply with no delay between tokens: total time through `/ws` versus straight from the provider.

    python -m bench.long_reply [--tokens 5000] [--runs 9]

The fake provider streams 5,000 word-sized tokens as fast as it can. Through `/ws` the clock runs from sending the
message to the `done` frame (so it includes saving the message, the final write of the reply, and every token
frame); directly it runs from `POST /api/chat` to the final NDJSON line. Runs alternate between the paths after one
warm-up run of each; the figures are medians. Also reported: the server's CPU time per `/ws` run and per token.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics

import aiohttp
import httpx
import psutil

from bench._clients import (
    Reply,
    aiohttp_ws_reply,
    create_accounts,
    create_conversations,
    direct_reply,
    lost_tokens,
    provider_reply,
)
from bench._measure import Sampler, wait_quiet
from bench._report import ms, save
from bench._servers import environment
from providers.ollama import OllamaProvider

MESSAGE = "Write me a long essay, please."
RATIO_TARGET = 1.5
_TEXT = "the of and to in is that it for on with as was by this are be at from or an have not"
WORDS = _TEXT.split()


def script(count: int) -> list[str]:
    return [f" {WORDS[i % len(WORDS)]}{i}" for i in range(count)]


async def measure(provider, server, tokens: list[str], runs: int) -> dict[str, object]:
    account = (await create_accounts(server.url, 1, prefix="long"))[0]
    via_ws: list[float] = []
    direct: list[float] = []
    direct_own: list[float] = []
    server_cpu: list[float] = []
    others_cpu: dict[str, list[float]] = {"client": [], "provider": []}
    foreign: list[float] = []
    processes = {"server": server.ps, "client": psutil.Process(), "provider": psutil.Process(provider.process.pid)}
    lost = 0
    reader = OllamaProvider(provider.url, read_timeout=120)
    async with httpx.AsyncClient(timeout=120) as client, aiohttp.ClientSession() as session:
        for index in range(runs + 1):
            (conversation,) = await create_conversations(server.url, [account])
            quiet = await asyncio.to_thread(wait_quiet, 25.0, 60.0, 1.0)
            async with session.ws_connect(
                f"{server.ws_url}/ws/{conversation}", headers=account.headers, max_msg_size=0, autoping=True
            ) as ws:
                await asyncio.sleep(0.2)
                with Sampler(processes) as sampler:
                    reply = await aiohttp_ws_reply(ws, MESSAGE, Reply(), limit=120)
            await asyncio.sleep(0.5)
            straight = await direct_reply(client, provider.url, MESSAGE, Reply())
            await asyncio.sleep(0.5)
            own = await provider_reply(reader, MESSAGE, Reply())
            assert reply.status == "done" and straight.tokens == own.tokens == tokens, (reply.status, reply.error)
            if index == 0:
                continue  # warm-up
            lost += lost_tokens(tokens, reply.tokens)
            via_ws.append(reply.total or 0.0)
            direct.append(straight.total or 0.0)
            direct_own.append(own.total or 0.0)
            server_cpu.append(sampler.usage["server"].cpu_seconds)
            foreign.append(sampler.others_cpu_percent)
            for name, values in others_cpu.items():
                values.append(sampler.usage[name].cpu_seconds)
            print(
                f"run {index}: /ws {ms(via_ws[-1])} ms, direct {ms(direct[-1])} ms, "
                f"direct (chatui's reader) {ms(direct_own[-1])} ms (quiet: {quiet} %)",
                flush=True,
            )
            await asyncio.sleep(0.5)
    await reader.aclose()
    ws_median, direct_median = statistics.median(via_ws), statistics.median(direct)
    own_median = statistics.median(direct_own)
    cpu = statistics.median(server_cpu)
    return {
        "tokens": len(tokens),
        "runs": runs,
        "ws_total_ms": ms(ws_median),
        "direct_total_ms": ms(direct_median),
        "ratio": round(ws_median / direct_median, 3),
        "direct_own_reader_total_ms": ms(own_median),
        "ratio_to_own_reader": round(ws_median / own_median, 3),
        "ws_runs_ms": [ms(v) for v in via_ws],
        "direct_runs_ms": [ms(v) for v in direct],
        "tokens_lost": lost,
        "server_cpu_ms_per_run": ms(cpu),
        "server_cpu_us_per_token": round(cpu / len(tokens) * 1e6, 1),
        "client_cpu_ms_per_ws_run": ms(statistics.median(others_cpu["client"])),
        "provider_cpu_ms_per_ws_run": ms(statistics.median(others_cpu["provider"])),
        "others_cpu_percent_max": max(foreign),
        "target_ratio": RATIO_TARGET,
        "met": ws_median / min(direct_median, own_median) <= RATIO_TARGET,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--name", default="long_reply")
    parser.add_argument("--profile", choices=["busy", "idle"], help="sample the server with py-spy (bench._profile)")
    args = parser.parse_args()
    tokens = script(args.tokens)
    with environment(args.name, profile=args.profile) as (provider, server):
        provider.script(tokens, delay=0.0)
        result = asyncio.run(measure(provider, server, tokens, args.runs))
    path = save(args.name, result)
    print(
        f"{args.tokens} tokens: /ws {result['ws_total_ms']} ms, direct {result['direct_total_ms']} ms (ratio "
        f"{result['ratio']}), direct with chatui's reader {result['direct_own_reader_total_ms']} ms (ratio "
        f"{result['ratio_to_own_reader']}); target <= {RATIO_TARGET}: {'met' if result['met'] else 'MISSED'}; "
        f"server CPU "
        f"{result['server_cpu_us_per_token']} us/token (client {result['client_cpu_ms_per_ws_run']} ms, provider "
        f"{result['provider_cpu_ms_per_ws_run']} ms per /ws run); tokens lost {result['tokens_lost']}\n-> {path}"
    )


if __name__ == "__main__":
    main()
