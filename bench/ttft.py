"""Time to first token added by chatui: through `/ws` minus straight to the (same) fake provider.

    python -m bench.ttft [--runs 30] [--warmup 5] [--trace] [--server-env REDIS_URL=redis://127.0.0.1:6379/0]

Each run uses a fresh conversation (so the prompt history stays the same size) whose socket is opened before the
clock starts; the clock runs from `ws.send(message)` to the first token frame. Also reported (`from_connect_ms`):
a second fresh conversation whose socket is opened (the handshake with the session cookie) and the message sent at
once, from the start of the connection to the first token, against the direct request on a new connection and
against the same on `bench.bare_relay` (a WebSocket relay with no sign-in and no database: the upgrade's own cost).
The direct measurement sends the same request chatui sends to the fake provider over a kept-alive httpx connection
(as chatui's provider client does) and stops at the first NDJSON line with text. Runs alternate between the
paths. All use one script: 10 tokens, no delay. On the `/ws` path the user's message and the empty assistant
message are committed to SQLite before the provider is called — that is required, and part of the figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

from bench._clients import Reply, create_accounts, create_conversations, direct_reply, ws_reply
from bench._measure import machine_busy_seconds, wait_quiet
from bench._report import ms, save
from bench._servers import code_option, environment, parse_env
from bench.concurrent_ws import BareRelay

TOKENS = ["Hello", ",", " this", " is", " a", " short", " benchmark", " reply", ".", " Bye"]
MESSAGE = "What is 5 plus 3? Give me a very brief answer."
TARGET_MS = 3.0


async def measure(
    server_url: str, ws_url: str, provider_url: str, relay_url: str, runs: int, warmup: int
) -> dict[str, object]:
    account = (await create_accounts(server_url, 1, prefix="ttft"))[0]
    quiet = await asyncio.to_thread(wait_quiet)
    busy0, t0 = machine_busy_seconds(), time.perf_counter()
    ws_ttft: list[float] = []
    direct_ttft: list[float] = []
    arriving: list[float] = []  # connect (handshake with the cookie) and send at once, to the first token
    arriving_direct: list[float] = []  # the same request to the provider on a new connection
    relayed: list[float] = []  # connect and send at once to `bench.bare_relay`: the floor of a WebSocket upgrade
    async with httpx.AsyncClient(timeout=30) as direct:
        for index in range(warmup + runs):
            conversation, fresh = await create_conversations(server_url, [account, account])
            async with connect(f"{ws_url}/ws/{conversation}", additional_headers=account.headers) as ws:
                await asyncio.sleep(0.05)  # let the handshake's work settle before the clock starts
                via_ws = await ws_reply(ws, MESSAGE, Reply(), limit=30)
            await asyncio.sleep(0.05)
            straight = await direct_reply(direct, provider_url, MESSAGE, Reply())
            await asyncio.sleep(0.05)
            started = time.perf_counter()
            async with connect(f"{ws_url}/ws/{fresh}", additional_headers=account.headers) as ws:
                arrived = await ws_reply(ws, MESSAGE, Reply(), limit=30)
            await asyncio.sleep(0.05)
            async with httpx.AsyncClient(timeout=30) as new_connection:
                opened = time.perf_counter()
                straight_new = await direct_reply(new_connection, provider_url, MESSAGE, Reply())
            await asyncio.sleep(0.05)
            bare_started = time.perf_counter()
            async with connect(f"{relay_url}/ws/{index}") as ws:
                bare = await ws_reply(ws, MESSAGE, Reply(), limit=30)
            for reply in (via_ws, arrived):
                assert reply.tokens == TOKENS and reply.status == "done", reply
            assert straight.tokens == TOKENS and straight_new.tokens == TOKENS, straight
            if index >= warmup:
                ws_ttft.append(via_ws.ttft or 0.0)
                direct_ttft.append(straight.ttft or 0.0)
                arriving.append((arrived.first or 0.0) - started)
                arriving_direct.append((straight_new.first or 0.0) - opened)
                relayed.append((bare.first or 0.0) - bare_started)
            await asyncio.sleep(0.05)
    machine_cpu = 100 * (machine_busy_seconds() - busy0) / (time.perf_counter() - t0)
    paired = [w - d for w, d in zip(ws_ttft, direct_ttft, strict=True)]
    return {
        "runs": runs,
        "warmup": warmup,
        "ws_ttft_ms": {"median": ms(statistics.median(ws_ttft)), "min": ms(min(ws_ttft)), "max": ms(max(ws_ttft))},
        "direct_ttft_ms": {
            "median": ms(statistics.median(direct_ttft)),
            "min": ms(min(direct_ttft)),
            "max": ms(max(direct_ttft)),
        },
        "added_ms": ms(statistics.median(ws_ttft) - statistics.median(direct_ttft)),
        "added_paired_median_ms": ms(statistics.median(paired)),
        "from_connect_ms": {
            "ws_median": ms(statistics.median(arriving)),
            "direct_new_connection_median": ms(statistics.median(arriving_direct)),
            "bare_relay_median": ms(statistics.median(relayed)),
            "relay_added": ms(statistics.median(relayed) - statistics.median(arriving_direct)),
            "added": ms(statistics.median(arriving) - statistics.median(arriving_direct)),
        },
        "target_ms": TARGET_MS,
        "quiet_before_percent": quiet,
        "machine_cpu_percent_during": round(machine_cpu, 1),
    }


def breakdown(trace: Path, skip: int) -> dict[str, float]:
    """Median offsets (ms) of each step from the moment the server starts handling the message frame."""
    events = sorted((json.loads(line) for line in trace.read_text().splitlines()), key=lambda e: e["start"])
    handles = [e for e in events if e["name"] == "ws.handle"][skip:]
    steps: dict[str, list[float]] = {}
    for handle, following in zip(handles, [*handles[1:], None], strict=True):
        t0, t_end = handle["start"], following["start"] if following else float("inf")
        window = [e for e in events if t0 <= e["start"] < t_end]

        def first(name: str, window: list[dict] = window) -> dict | None:
            return next((e for e in window if e["name"] == name), None)

        def add(label: str, value: float | None) -> None:
            if value is not None:
                steps.setdefault(label, []).append(value * 1000)

        for name in (
            "redis.reserve",
            "throttle.hit",
            "db.reply_context",
            "db.start_exchange",
            "db.open_exchange",
            "redis.began",
        ):
            event = first(name)
            add(f"{name} (duration)", event and event["end"] - event["start"])
        send, run, stream = (
            first("engine.send"),
            first("engine._run (whole reply)"),
            first("provider.stream → first event"),
        )
        publish = first("generation.first_publish")
        add("engine.send returns (offset)", send and send["end"] - t0)
        add("reply task starts (offset)", run and run["start"] - t0)
        add("provider request → first event (duration)", stream and stream["end"] - stream["start"])
        add("first publish (offset)", publish and publish["start"] - t0)
        if publish:
            sent = next((e for e in window if e["name"] == "ws.send_text" and e["start"] >= publish["start"]), None)
            add("first token frame sent (offset)", sent and sent["end"] - t0)
    return {label: round(statistics.median(values), 3) for label, values in steps.items()}


HANDSHAKE_STEPS = (
    "hs: upgrade parsed",
    "hs: asgi app (whole socket)",
    "hs: layer 13 APIRouter",
    "hs: resolve_socket",
    "hs: socket slots",
    "handshake: accept",
    "hs: socket run (whole)",
    "ws.handle",
    "engine.send",
    "db.open_exchange",
    "engine._run (whole reply)",
    "provider.stream → first event",
    "generation.first_publish",
)


def handshake_breakdown(trace: Path, skip: int) -> dict[str, float]:
    """For the fresh socket of each run (the second of its two): median offsets (ms) of each step's start, and of
    the first token frame's end, from the moment uvicorn accepted its TCP connection."""
    events = sorted((json.loads(line) for line in trace.read_text().splitlines()), key=lambda e: e["start"])
    sockets = [e for e in events if e["name"] == "hs: asgi app (whole socket)"]
    steps: dict[str, list[float]] = {}
    for socket in sockets[skip + 1 :: 2]:
        accepted = [e for e in events if e["name"] == "hs: tcp accepted" and e["start"] <= socket["start"]]
        if not accepted:
            continue
        t0 = accepted[-1]["start"]
        window = [e for e in events if t0 <= e["start"] <= socket["end"]]
        for name in HANDSHAKE_STEPS:
            event = next((e for e in window if e["name"] == name), None)
            if event is not None:
                steps.setdefault(name, []).append((event["start"] - t0) * 1000)
        publish = next((e for e in window if e["name"] == "generation.first_publish"), None)
        if publish is not None:
            sent = next((e for e in window if e["name"] == "ws.send_text" and e["start"] >= publish["start"]), None)
            if sent is not None:
                steps.setdefault("first token frame sent (end)", []).append((sent["end"] - t0) * 1000)
    return {label: round(statistics.median(values), 3) for label, values in steps.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--trace", action="store_true", help="run the server under bench.trace_server; print steps")
    parser.add_argument("--name", help="results name (default ttft, or ttft-trace with --trace)")
    parser.add_argument(
        "--server-env", nargs="*", default=[], metavar="KEY=VALUE", help="extra server settings (REDIS_URL=...)"
    )
    code_option(parser)
    args = parser.parse_args()
    name = args.name or ("ttft-trace" if args.trace else "ttft")
    server_env = parse_env(args.server_env)
    with environment(name, server_env, trace=args.trace, root=args.code) as (provider, server):
        provider.script(TOKENS, delay=0.0)
        with BareRelay(provider.url, server.log_path.with_name("bare-relay.log")) as relay:
            result = asyncio.run(measure(server.url, server.ws_url, provider.url, relay.ws_url, args.runs, args.warmup))
        with sqlite3.connect(server.data_dir / "database.db") as db:
            saved = db.execute("SELECT count(*) FROM messages WHERE role = 'user'").fetchone()[0]
        result["user_messages_saved"] = saved
        result["database_locked_in_log"] = server.log_count("database is locked")
    result["met"] = result["added_ms"] <= TARGET_MS  # type: ignore[operator]
    if server.trace:
        result["server_steps_ms"] = breakdown(server.trace, 2 * args.warmup)  # two sockets a run
        result["fresh_socket_steps_ms"] = handshake_breakdown(server.trace, 2 * args.warmup)
        print(
            json.dumps(
                {"open socket": result["server_steps_ms"], "fresh socket": result["fresh_socket_steps_ms"]}, indent=2
            )
        )
    path = save(name, result)
    print(
        f"TTFT over /ws: median {result['ws_ttft_ms']['median']} ms; direct: median "  # type: ignore[index]
        f"{result['direct_ttft_ms']['median']} ms; added: {result['added_ms']} ms "  # type: ignore[index]
        f"(paired median {result['added_paired_median_ms']} ms; target <= {TARGET_MS} ms: "
        f"{'met' if result['met'] else 'MISSED'})\nFrom connect (handshake with the cookie, message sent at once): "
        f"{result['from_connect_ms']}\n-> {path}"  # type: ignore[index]
    )


if __name__ == "__main__":
    main()
