"""N chat pages streaming at once, each followed by a simulated browser on NiceGUI's socket.io.

    python -m bench.ui_pages [--n 25 50 100] [--tokens 500] [--rate 50] [--server-cpu-share 0.36] [--history 10000]

A simulated browser does what nicegui.js does, minus the rendering: it loads `/chat/{id}` with the session cookie,
takes the page's elements (the JSON passed to `parseElements`) and its socket query (`client_id`,
`next_message_id`, `implicit_handshake`), connects to `/_nicegui_ws/socket.io` with that query plus a `tab_id` and
`document_id`, applies every `update` message to its element table (an element dict replaces the old one, `null`
deletes it) and sends `ack` every 3 s as the browser does. It never answers events (the chat page needs none).

For each N: N accounts, each with a new conversation, each conversation open in one simulated browser. Each reply
is started over `/ws` (the socket is opened beforehand, sends the message, waits for the first token, and closes:
the page follows the reply through the engine, not through that socket). The fake provider streams a different
realistic Markdown reply to each conversation (headings, paragraphs, a bulleted list with bold and inline code, a
fenced code block) of 500 tokens at 50 tokens/s, so each reply takes 10 s.

Measured:
  * event-loop lag: `bench.probe` in its own process requests `GET /api/health` every 50 ms over one kept-alive
    connection; the figure is its latency from sending the messages until every page showed its reply's end
    (the idle latency, ~2 ms, is included, not subtracted); "steady" leaves out the first 2 s and the last 0.5 s
    of the 10 s of streaming; the worst latency of each second is kept in the results file;
  * per page: when the bubble's footer ("... · 500 tokens") arrived, counted from sending the message;
  * whether every page ends with the full reply: the assistant bubble's Markdown blocks (the `innerHTML` of its
    `chat-markdown` elements, in tree order) rebuilt from the updates must equal chatui's own rendering of the
    whole reply (`chatui.ui.rendering.render_markdown`), and every word of the reply must be in their text;
  * the server's CPU (mean and peak 0.5 s window) and RSS, and the benchmark client's CPU; the server's CPU per
    socket.io update its pages received (`server_cpu_ms_per_update`), which `--history N` compares with
    conversations that already hold N messages (written straight into the database before the round).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from typing import Any

import httpx
import psutil
from websockets.asyncio.client import connect

from bench._clients import Account, create_accounts, create_conversations
from bench._measure import Probe, Sampler, wait_quiet
from bench._profile import PySpy
from bench._report import markdown_table, ms, percentile, save, trace_summary
from bench._servers import code_option, environment, parse_env, seed_database
from bench._ui_page import Page, markdown_reply, tokenize, words_present
from chatui.ui.rendering import render_markdown
from testing.seed import seed_messages

LAG_TARGET_MS = 100.0
# -- one round ----------------------------------------------------------------------------------------------------


async def start_reply(
    ws_url: str, account: Account, conversation_id: str, prompt: str, page: Page, go: asyncio.Event, delay: float
):
    """Open `/ws`, wait for the signal (and `delay` s more), send the message, wait for the first token, close."""
    async with connect(f"{ws_url}/ws/{conversation_id}", additional_headers=account.headers, open_timeout=30) as ws:
        await go.wait()
        await asyncio.sleep(delay)
        page.sent_at = time.perf_counter()
        await ws.send(json.dumps({"type": "message", "content": prompt}))
        async with asyncio.timeout(30):
            async for raw in ws:
                frame = json.loads(raw)
                if frame.get("type") in ("token", "done", "error"):
                    return frame.get("type") if frame.get("type") != "error" else frame


async def round_(
    provider,
    server,
    accounts: list[Account],
    tokens: int,
    rate: float,
    processes,
    profile: str | None = None,
    stagger: float = 0.0,
    history: int = 0,
) -> dict[str, Any]:
    n = len(accounts)
    conversations = await create_conversations(server.url, accounts)
    if history:
        seed_database(server, lambda c: [seed_messages(c, cid, history) for cid in conversations])
    prompts = [f"Explain streaming, please (page {i})." for i in range(n)]
    replies = [markdown_reply(i + 1000 * n, tokens) for i in range(n)]
    provider.script(["unused"], by_prompt={p: (tokenize(r), 1 / rate) for p, r in zip(prompts, replies, strict=True)})
    pages = [Page(server.url, a, c) for a, c in zip(accounts, conversations, strict=True)]
    gate = asyncio.Semaphore(10)
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:

        async def open_page(page: Page) -> None:
            async with gate:
                await page.open(http)

        await asyncio.gather(*(open_page(p) for p in pages))
    try:
        await asyncio.sleep(2)  # the pages' own start-up updates (model list) settle
        go = asyncio.Event()
        starters = [
            asyncio.create_task(start_reply(server.ws_url, a, c, prompt, page, go, stagger * i / n))
            for i, (a, c, prompt, page) in enumerate(zip(accounts, conversations, prompts, pages, strict=True))
        ]
        quiet = await asyncio.to_thread(wait_quiet)
        with Probe(server.url, f"ui-{n}") as probe:
            await asyncio.sleep(1.5)  # idle latency first (the /ws sockets are open by now)
            spy = PySpy(server.ps.pid, f"{profile}-{n}") if profile else contextlib.nullcontext()
            started = time.perf_counter()
            with spy, Sampler(processes) as sampler:
                go.set()
                deadline = tokens / rate + 60
                async with asyncio.timeout(deadline):
                    for _ in range(int(deadline / 3) + 1):  # ack every 3 s, like the browser
                        done = sum(p.done.is_set() for p in pages)
                        if done == n:
                            break
                        await asyncio.gather(*(p.ack() for p in pages))
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(asyncio.gather(*(p.done.wait() for p in pages)), 3)
            ended = time.perf_counter()
            await asyncio.gather(*starters, return_exceptions=True)
            await asyncio.sleep(0.5)
    finally:
        await asyncio.sleep(0.3)
        results = [(p.bubble_blocks(), p.done_at, p.sent_at, p.updates) for p in pages]
        await asyncio.gather(*(p.close() for p in pages))
    steady_start, steady_end = started + 2, started + tokens / rate - 0.5
    steady_cpu = sampler.cpu_seconds_between("server", steady_start, steady_end)
    steady_updates = sum(steady_start <= t <= steady_end for p in pages for t in p.update_times)
    exact = sum(1 for (blocks, *_), reply in zip(results, replies, strict=True) if blocks == render_markdown(reply))
    words = sum(1 for (blocks, *_), reply in zip(results, replies, strict=True) if words_present(reply, blocks))
    finished = [done - sent for _, done, sent, _ in results if done is not None]
    steps = trace_summary(server.trace, started, ended) if server.trace else None
    lag = probe.figures(started, ended)
    steady = probe.figures(started + 2, started + tokens / rate - 0.5)  # the replies stream; no start, no end
    timeline = [  # worst probe latency in each second after the messages were sent
        ms(max(probe.latencies(started + second, started + second + 1), default=0.0))
        for second in range(int(ended - started) + 2)
    ]
    server_usage = sampler.usage["server"].as_dict()
    return {
        "n": n,
        "pages_done": f"{len(finished)}/{n}",
        "full_html": f"{exact}/{n}",
        "all_words": f"{words}/{n}",
        "health_idle_p50_ms": probe.figures(end=started)["p50_ms"],
        "lag_p50_ms": lag["p50_ms"],
        "lag_p99_ms": lag["p99_ms"],
        "lag_max_ms": lag["max_ms"],
        "lag_samples": lag["count"],
        "lag_steady_p99_ms": steady["p99_ms"],
        "lag_max_per_second_ms": timeline,
        "reply_p50_s": round(percentile(finished, 50), 2),
        "reply_p99_s": round(percentile(finished, 99), 2),
        "updates_per_page": round(sum(r[3] for r in results) / n, 1),
        "history_messages": history,
        "server_cpu_ms_per_update": round(
            1000 * sampler.usage["server"].cpu_seconds / max(1, sum(r[3] for r in results)), 3
        ),
        # the steady part only: no start (the prompt with its whole history is read and sent then), no end
        "steady_server_cpu_ms_per_update": round(1000 * steady_cpu / max(1, steady_updates), 3),
        "server_cpu_percent": server_usage["cpu_percent"],
        "server_peak_cpu_percent": server_usage["peak_cpu_percent"],
        "server_rss_start_mb": server_usage["rss_start_mb"],
        "server_rss_peak_mb": server_usage["rss_peak_mb"],
        "server_rss_end_mb": server_usage["rss_end_mb"],
        "client_cpu_percent": sampler.usage["client"].as_dict()["cpu_percent"],
        "machine_cpu_percent": sampler.machine_cpu_percent,
        "others_cpu_percent": sampler.others_cpu_percent,
        "quiet_before_percent": quiet,
        "provider_cpu_percent": sampler.usage["provider"].as_dict()["cpu_percent"],
        **({"server_steps_ms": steps} if steps else {}),
        "lag_target_ms": LAG_TARGET_MS,
        "met": lag["p99_ms"] < LAG_TARGET_MS,
    }


async def run(
    provider,
    server,
    sizes: list[int],
    tokens: int,
    rate: float,
    profile: str | None,
    stagger: float = 0.0,
    history: int = 0,
) -> dict[str, Any]:
    accounts = await create_accounts(server.url, max(sizes), prefix="ui")
    processes = {"server": server.ps, "provider": psutil.Process(provider.process.pid), "client": psutil.Process()}
    await round_(provider, server, accounts[:3], 50, rate, processes)  # warm-up
    await asyncio.sleep(4)  # NiceGUI deletes a closed page's client after its reconnect timeout (3 s)
    rows = []
    for n in sizes:
        row = await round_(provider, server, accounts[:n], tokens, rate, processes, profile, stagger, history)
        print(row, flush=True)
        rows.append(row)
        await asyncio.sleep(4)
    return {
        "rows": rows,
        "tokens_per_reply": tokens,
        "tokens_per_second": rate,
        "server_rss_after_rounds_mb": round(server.ps.memory_info().rss / 2**20, 1),
        "database_locked": server.log_count("database is locked"),
        "tracebacks_in_log": server.log_count("Traceback"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, nargs="+", default=[25, 50, 100])
    parser.add_argument("--tokens", type=int, default=500)
    parser.add_argument("--rate", type=float, default=50.0, help="tokens per second of each reply")
    parser.add_argument("--name", default="ui_pages")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy the server while the replies stream: results/<name>-<n>-pyspy.txt",
    )
    parser.add_argument(
        "--history",
        type=int,
        default=0,
        metavar="MESSAGES",
        help="give each conversation this many messages first (written into the database), e.g. 10000",
    )
    parser.add_argument(
        "--stagger", type=float, default=0.0, help="spread the N messages evenly over this many seconds (0: at once)"
    )
    parser.add_argument("--server-env", nargs="*", default=[], metavar="KEY=VALUE", help="extra server settings")
    parser.add_argument("--trace", action="store_true", help="run the server under bench.trace_server")
    parser.add_argument(
        "--server-cpu-share",
        type=float,
        metavar="SHARE",
        help="hold the server to this share of one core (e.g. 0.36), as on a slower machine (cgroup v1, root)",
    )
    code_option(parser)
    args = parser.parse_args()
    server_env = parse_env(args.server_env)
    with environment(args.name, server_env, args.trace, server_cpu_share=args.server_cpu_share, root=args.code) as (
        provider,
        server,
    ):
        profile = args.name if args.profile else None
        result = asyncio.run(run(provider, server, args.n, args.tokens, args.rate, profile, args.stagger, args.history))
        result["stagger_seconds"] = args.stagger
        result["server_env"] = args.server_env
        result["history_messages"] = args.history
        result["server_cpu_share"] = args.server_cpu_share
    path = save(args.name, result)
    columns = [
        "n",
        "pages_done",
        "full_html",
        "all_words",
        "health_idle_p50_ms",
        "lag_p50_ms",
        "lag_p99_ms",
        "lag_max_ms",
        "lag_steady_p99_ms",
        "reply_p50_s",
        "reply_p99_s",
        "server_cpu_percent",
        "server_peak_cpu_percent",
        "server_rss_peak_mb",
        "server_cpu_ms_per_update",
        "steady_server_cpu_ms_per_update",
        "met",
    ]
    print(markdown_table(result["rows"], columns))
    print(f"-> {path}")


if __name__ == "__main__":
    main()
