"""Pages opened and closed by the thousand while the event loop's lag is watched (issue 28: full collections of
300-375 ms after many pages closed).

    python -m bench.ui_churn [--pages 1000] [--wave 50] [--tokens 50] [--rate 50] [--code CHECKOUT] [--gc-log]

Waves of `--wave` simulated browsers (`bench._ui_page.Page`, as in `bench.ui_pages`): each opens a new conversation
of its own account, receives a Markdown reply of `--tokens` tokens at `--rate` tokens/s started over `/ws`, is
checked for the exact final HTML and closes its socket; NiceGUI deletes a closed page's client after its reconnect
timeout (3 s), so the deletions of one wave fall in the next ones. `bench.probe` requests `/api/health` every 50 ms
for the whole run: the lag figures cover every open, reply and close. `--code` runs another checkout's `main.py`
(the code before a change, for a before/after in one sitting). `--gc-log` runs the server under
`bench.trace_server` with `CHATUI_BENCH_STALLS`, which times every full collection (`bench.stall_watch`; its 5 ms
heartbeat costs a little CPU, so compare runs made the same way).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench._clients import create_accounts, create_conversations
from bench._measure import Probe, Sampler, wait_quiet
from bench._report import ms, save
from bench._servers import environment
from bench._ui_page import Page, markdown_reply, tokenize
from bench.ui_pages import LAG_TARGET_MS, start_reply
from chatui.ui.rendering import render_markdown


async def wave(provider, server, accounts, index: int, tokens: int, rate: float) -> tuple[int, int, list[str]]:
    """One wave: open, stream, check, close. Returns the pages that showed their reply's end, those with the exact
    HTML, and the errors /ws answered instead of a first token (a page whose reply failed is not waited for: on a
    loaded machine the fake provider sometimes cannot be reached, and the lag is measured all the same)."""
    conversations = await create_conversations(server.url, accounts)
    prompts = [f"Explain streaming, please (wave {index}, page {i})." for i in range(len(accounts))]
    replies = [markdown_reply(index * 10_000 + i, tokens) for i in range(len(accounts))]
    provider.script(["unused"], by_prompt={p: (tokenize(r), 1 / rate) for p, r in zip(prompts, replies, strict=True)})
    pages = [Page(server.url, a, c) for a, c in zip(accounts, conversations, strict=True)]
    gate = asyncio.Semaphore(10)
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:

        async def open_page(page: Page) -> None:
            async with gate:
                await page.open(http)

        await asyncio.gather(*(open_page(p) for p in pages))
    try:
        go = asyncio.Event()
        starters = [
            asyncio.create_task(start_reply(server.ws_url, a, c, prompt, page, go, 0.0))
            for a, c, prompt, page in zip(accounts, conversations, prompts, pages, strict=True)
        ]
        go.set()
        answers = await asyncio.gather(*starters, return_exceptions=True)  # each at its first token, or its error
        errors = [repr(a)[:300] for a in answers if a != "token"]
        started = [p for p, a in zip(pages, answers, strict=True) if a == "token"]
        try:
            async with asyncio.timeout(tokens / rate + 60):
                await asyncio.gather(*(p.done.wait() for p in started))
        except TimeoutError:
            raise TimeoutError(stuck(index, started, errors)) from None
        await asyncio.sleep(0.3)  # the final update (footer and HTML come together; this lets any straggler in)
        exact = sum(p.bubble_blocks() == render_markdown(r) for p, r in zip(pages, replies, strict=True))
        return sum(p.done.is_set() for p in pages), exact, errors
    finally:
        await asyncio.gather(*(p.close() for p in pages))


def stuck(index: int, pages: list[Page], errors: list[str]) -> str:
    """Why a wave timed out: the pages that never showed their reply's end, what one shows, the wave's errors."""
    waiting = [p for p in pages if not p.done.is_set()]
    texts = [str(e.get("text")) for e in waiting[0].elements.values() if e.get("text")][-8:] if waiting else []
    return f"wave {index}: {len(waiting)} pages without their reply's end; one: {texts}; errors: {errors[:3]}"


async def run(provider, server, pages: int, size: int, tokens: int, rate: float) -> dict:
    accounts = await create_accounts(server.url, size, prefix="churn")
    processes = {"server": server.ps, "provider": psutil.Process(provider.process.pid), "client": psutil.Process()}
    await wave(provider, server, accounts[:3], -1, 20, rate)  # warm-up
    await asyncio.sleep(4)  # its clients are deleted
    quiet = await asyncio.to_thread(wait_quiet)
    waves = pages // size
    done = exact = 0
    errors: list[str] = []
    wave_starts: list[float] = []
    with Probe(server.url, "ui-churn", limit=3600) as probe, Sampler(processes) as sampler:
        await asyncio.sleep(1.0)
        started = time.perf_counter()
        for index in range(waves):
            began = time.perf_counter()
            shown, right, failed = await wave(provider, server, accounts, index, tokens, rate)
            done, exact, errors = done + shown, exact + right, errors + failed
            wave_starts.append(began)
        await asyncio.sleep(5)  # the last wave's clients are deleted within the window too
        ended = time.perf_counter()
    lag = probe.figures(started, ended)
    bounds = [*wave_starts, ended]
    per_wave = [ms(max(probe.latencies(a, b), default=0.0)) for a, b in itertools.pairwise(bounds)]
    latencies = sorted(probe.latencies(started, ended), reverse=True)
    usage = sampler.usage["server"].as_dict()
    return {
        "pages": waves * size,
        "wave": size,
        "tokens_per_reply": tokens,
        "pages_done": f"{done}/{waves * size}",
        "exact_html": f"{exact}/{waves * size}",
        "replies_failed": len(errors),
        "reply_errors": sorted({e.split("message_id")[0] for e in errors})[:5],
        "seconds": round(ended - started, 1),
        "lag_p50_ms": lag["p50_ms"],
        "lag_p99_ms": lag["p99_ms"],
        "lag_max_ms": lag["max_ms"],
        "lag_samples": lag["count"],
        "lag_worst_5_ms": [ms(x) for x in latencies[:5]],
        "lag_max_per_wave_ms": per_wave,
        "server_cpu_percent": usage["cpu_percent"],
        "server_rss_start_mb": usage["rss_start_mb"],
        "server_rss_end_mb": usage["rss_end_mb"],
        "others_cpu_percent": sampler.others_cpu_percent,
        "quiet_before_percent": quiet,
        "lag_target_ms": LAG_TARGET_MS,
        "met": lag["max_ms"] < LAG_TARGET_MS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--wave", type=int, default=50, help="pages open at once")
    parser.add_argument("--tokens", type=int, default=50)
    parser.add_argument("--rate", type=float, default=50.0, help="tokens per second of each reply")
    parser.add_argument("--code", type=Path, help="the checkout whose main.py runs (default: this one)")
    parser.add_argument("--gc-log", action="store_true", help="time every full collection (bench.stall_watch)")
    parser.add_argument("--name", default="ui_churn")
    args = parser.parse_args()
    gc_log = Path(tempfile.mkdtemp(prefix="chatui-bench-gc-")) / "stalls.jsonl" if args.gc_log else None
    if gc_log:
        os.environ["CHATUI_BENCH_STALLS"] = str(gc_log)  # ChatServer passes CHATUI_BENCH_* on
    with environment(args.name, root=args.code.resolve() if args.code else None) as (provider, server):
        result: dict[str, Any] = asyncio.run(run(provider, server, args.pages, args.wave, args.tokens, args.rate))
        result["code"] = str(args.code or ".")
        result["tracebacks_in_log"] = server.log_count("Traceback")
    if gc_log is not None:  # the start-up's own collections too (before the clock): all of them are listed
        events = [json.loads(line) for line in gc_log.read_text().splitlines()] if gc_log.exists() else []
        full = [e for e in events if "gc_ms" in e]
        result["full_collections"] = len(full)
        result["full_collection_ms"] = [e["gc_ms"] for e in full]
        result["full_collection_collected"] = [e.get("collected") for e in full]
        for when in ("start", "exit"):  # (an older checkout's stall_watch: None)
            result[f"collector_at_{when}"] = next((e[when] for e in events if when in e), None)
    path = save(args.name, result)
    print(json.dumps(result, indent=1))
    print(f"-> {path}")


if __name__ == "__main__":
    main()
