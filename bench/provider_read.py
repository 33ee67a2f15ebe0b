"""Diagnosis: CPU per token of reading Ollama's NDJSON stream, by chatui's provider on two httpx transports and by a
minimal aiohttp reader.

    python -m bench.provider_read [--streams 100] [--tokens 100] [--delay 0.02]

The fake provider (its own process) streams `--streams` concurrent replies of `--tokens` tokens, `--delay` s apart
(the defaults are the UI benchmark's rate: 100 streams at 50 tokens/s), then one 5,000-token reply with no delay.
This process reads them on uvloop, as the server does, with:

    httpx-h11      chatui's `providers.ollama.OllamaProvider.stream()` on httpx's default transport (httpcore, h11)
    httpx-aiohttp  the same on the transport chatui uses: httpx-aiohttp (aiohttp's connections and C parser)
    aiohttp        similar parsing straight on an aiohttp response (`async for line in response.content`)

and reports its own CPU time per token (the fake provider's CPU is not counted).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from bench._clients import MODEL
from bench._report import markdown_table, save
from bench._servers import FakeProvider
from providers import ChatMessage, TextDelta
from providers.ollama import OllamaProvider


async def read_httpx(provider: OllamaProvider) -> int:
    count = 0
    async for event in provider.stream([ChatMessage("user", "Count for me.")], MODEL):
        count += isinstance(event, TextDelta)
    return count


async def aiohttp_stream(session: aiohttp.ClientSession, url: str) -> AsyncIterator[TextDelta]:
    body = {"model": MODEL, "messages": [{"role": "user", "content": "Count for me."}], "stream": True}
    async with session.post(f"{url}/api/chat", json=body) as response:
        async for line in response.content:
            if not line.strip():
                continue
            chunk = json.loads(line)
            text = (chunk.get("message") or {}).get("content") or ""
            if text:
                yield TextDelta(text)
            if chunk.get("done"):
                return


async def read_aiohttp(session: aiohttp.ClientSession, url: str) -> int:
    return sum([1 async for _ in aiohttp_stream(session, url)])


async def measure(url: str, client: str, streams: int) -> tuple[int, float, float]:
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=32)
    transport = httpx.AsyncHTTPTransport(limits=limits) if client == "httpx-h11" else AiohttpTransport(limits=limits)
    provider = OllamaProvider(url, transport=transport)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        await (read_aiohttp(session, url) if client == "aiohttp" else read_httpx(provider))  # warm-up
        cpu, wall = time.process_time(), time.perf_counter()
        async with asyncio.timeout(120):
            counts = await asyncio.gather(
                *((read_aiohttp(session, url) if client == "aiohttp" else read_httpx(provider)) for _ in range(streams))
            )
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await provider.aclose()
    return sum(counts), cpu, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--tokens", type=int, default=100)
    parser.add_argument("--delay", type=float, default=0.02)
    args = parser.parse_args()
    import uvloop

    workdir = Path(tempfile.mkdtemp(prefix="chatui-bench-read-"))
    provider = FakeProvider(workdir).start()
    rows = []
    try:
        for label, streams, tokens, delay in (
            (
                f"{args.streams} streams x {args.tokens} tokens, {args.delay} s apart",
                args.streams,
                args.tokens,
                args.delay,
            ),
            ("1 stream x 5000 tokens, no delay", 1, 5000, 0.0),
        ):
            provider.script([f" w{i}" for i in range(tokens)], delay=delay)
            for client in ("httpx-h11", "httpx-aiohttp", "aiohttp"):
                count, cpu, wall = uvloop.run(measure(provider.url, client, streams))
                assert count == streams * tokens, count
                row = {
                    "load": label,
                    "client": client,
                    "tokens": count,
                    "cpu_ms": round(cpu * 1000, 1),
                    "wall_ms": round(wall * 1000, 1),
                    "cpu_us_per_token": round(cpu / count * 1e6, 1),
                }
                rows.append(row)
                print(row, flush=True)
    finally:
        provider.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    path = save("provider_read", {"rows": rows})
    print(markdown_table(rows, ["load", "client", "tokens", "cpu_ms", "wall_ms", "cpu_us_per_token"]))
    print(f"-> {path}")


if __name__ == "__main__":
    main()
