"""First reasoning token (issue 24): what chatui adds before the first `reasoning` frame, and before the first
`token` frame, against the same fake provider read directly, per wire format.

    python -m bench.first_reasoning [--runs 40] [--warmup 5] [--wires ollama,openai,anthropic] [--delay 0]

The target: "First reasoning token: no later than the provider sends it (+ the same overhead as a text token)". So
each run, per wire, makes two replies in fresh conversations (model set, `reasoning_effort: "high"`, socket already
open, 50 ms idle first, as in `bench.ttft`): a thinking reply (10 reasoning deltas, then 10 text deltas) timed from
`ws.send` to the first `reasoning` frame, and a plain one (10 text deltas) timed to the first `token` frame. Right
after each, the very request chatui sent to the fake (`GET /bench/last`: `think`, `reasoning_effort` or the
`thinking` budget included) is sent again straight to the fake over a kept-alive httpx connection, to its first
reasoning (or text) delta: Ollama `message.thinking`, OpenAI-compatible `delta.reasoning_content`, Anthropic
`thinking_delta`. Added = `/ws` − direct, paired run by run; p50 and p95 of each. The fake (`bench.fake_provider`)
serves the three wires from its own process; no delay between deltas (`--delay S`: S seconds before each, the first
included, so that the first delta comes after chatui has stored the user's message and the empty reply).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from typing import Any

import httpx
from websockets.asyncio.client import connect

from bench._clients import Account, Reply, create_accounts, ws_reply
from bench._measure import machine_busy_seconds, wait_quiet
from bench._report import ms, save
from bench._servers import FakeProvider, environment

THOUGHTS = ["Okay", ",", " the", " user", " asks", " for", " 5", " plus", " 3", "."]
TOKENS = ["5", " plus", " 3", " is", " 8", ".", " That", "'s", " all", "."]
MESSAGE = "What is 5 plus 3? Think first, then give a very brief answer."
WIRES = {  # chatui's model id, the path the fake serves that wire on
    "ollama": ("ollama:qwen3:4b", "/api/chat"),
    "openai": ("openai:gpt-4o-mini", "/v1/chat/completions"),
    "anthropic": ("anthropic:claude-haiku-4-5", "/anthropic/v1/messages"),
}
SERVER_ENV = {
    "OPENAI_BASE_URL": "{provider}/v1",
    "OPENAI_API_KEY": "sk-bench",
    "ANTHROPIC_BASE_URL": "{provider}/anthropic",
    "ANTHROPIC_API_KEY": "sk-ant-bench",
}


def delta_kind(line: str) -> str | None:
    """ "thought", "text" or "end" for one line of any of the three streams (NDJSON, or an SSE `data:` line)."""
    line = line.strip()
    if line.startswith("data:"):
        line = line[5:].strip()
    if not line.startswith("{"):
        return "end" if line == "[DONE]" else None
    event = json.loads(line)
    if "message" in event and "done" in event:  # Ollama
        message = event["message"]
        return (
            "end" if event["done"] else "thought" if message.get("thinking") else "text" if message["content"] else None
        )
    if "choices" in event:  # OpenAI-compatible
        delta = event["choices"][0]["delta"] if event["choices"] else {}
        return "thought" if delta.get("reasoning_content") else "text" if delta.get("content") else None
    delta = event.get("delta") or {}  # Anthropic
    kinds = {"thinking_delta": "thought", "text_delta": "text"}
    return "end" if event.get("type") == "message_stop" else kinds.get(delta.get("type", ""))


async def direct(client: httpx.AsyncClient, url: str, body: dict[str, Any], wanted: str) -> float:
    """Seconds from sending `body` to the first delta of kind `wanted`; the stream is then read to its end."""
    started, first = time.perf_counter(), None
    async with client.stream("POST", url, json=body, headers={"anthropic-version": "2023-06-01"}) as response:
        assert response.status_code == 200, await response.aread()
        async for line in response.aiter_lines():
            kind = delta_kind(line)
            if kind == wanted and first is None:
                first = time.perf_counter()
            if kind == "end":
                break
    assert first is not None, f"no {wanted} delta from {url}"
    return first - started


async def via_ws(server_url: str, ws_url: str, account: Account, model: str) -> Reply:
    async with httpx.AsyncClient(base_url=server_url, headers=account.headers, timeout=30) as api:
        created = await api.post("/api/conversations", json={"model": model, "reasoning_effort": "high"})
        assert created.status_code == 201, created.text
    async with connect(f"{ws_url}/ws/{created.json()['id']}", additional_headers=account.headers) as ws:
        await asyncio.sleep(0.05)  # let the handshake's work settle before the clock starts
        reply = await ws_reply(ws, MESSAGE, Reply(), limit=30)
    assert reply.status == "done" and reply.tokens == TOKENS, reply
    return reply


def spread(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50": ms(statistics.median(ordered)), "p95": ms(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))])}


async def measure(
    provider: FakeProvider, server_url: str, ws_url: str, wires: list[str], runs: int, warmup: int, delay: float
) -> dict[str, Any]:
    account = (await create_accounts(server_url, 1, prefix="reasoning"))[0]
    quiet = await asyncio.to_thread(wait_quiet)
    busy0, t0 = machine_busy_seconds(), time.perf_counter()
    keys = ("ws_reasoning", "direct_reasoning", "ws_text", "direct_text")
    timings: dict[str, dict[str, list[float]]] = {wire: {k: [] for k in keys} for wire in wires}
    async with httpx.AsyncClient(timeout=30) as client:
        for index in range(warmup + runs):
            for wire in wires:
                model, path = WIRES[wire]
                row: dict[str, float] = {}
                for kind, thinking in (("reasoning", THOUGHTS), ("text", [])):
                    await asyncio.to_thread(provider.script, TOKENS, delay, None, thinking)
                    reply = await via_ws(server_url, ws_url, account, model)
                    assert reply.thoughts == thinking, reply
                    first = reply.first_thought if thinking else reply.first
                    row[f"ws_{kind}"] = (first or 0.0) - reply.sent
                    body = (await client.get(f"{provider.url}/bench/last")).json()
                    await asyncio.sleep(0.05)
                    row[f"direct_{kind}"] = await direct(
                        client, provider.url + path, body, "thought" if thinking else "text"
                    )
                    await asyncio.sleep(0.05)
                if index >= warmup:
                    for key, value in row.items():
                        timings[wire][key].append(value)
    machine_cpu = 100 * (machine_busy_seconds() - busy0) / (time.perf_counter() - t0)
    result: dict[str, Any] = {"runs": runs, "warmup": warmup, "delay": delay, "quiet_before_percent": quiet}
    for wire, series in timings.items():
        added = {
            kind: [w - d for w, d in zip(series[f"ws_{kind}"], series[f"direct_{kind}"], strict=True)]
            for kind in ("reasoning", "text")
        }
        result[wire] = {
            **{f"{key}_ms": spread(values) for key, values in series.items()},
            **{f"added_{kind}_ms": spread(values) for kind, values in added.items()},
        }
    result["machine_cpu_percent_during"] = round(machine_cpu, 1)
    result["loadavg"] = os.getloadavg()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--wires", default="ollama,openai,anthropic")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each delta the fake sends")
    args = parser.parse_args()
    wires = [w for w in args.wires.split(",") if w]
    with environment("first-reasoning", server_env=SERVER_ENV) as (provider, server):
        result = asyncio.run(measure(provider, server.url, server.ws_url, wires, args.runs, args.warmup, args.delay))
    path = save("first-reasoning", result)
    for wire in wires:
        figures = result[wire]
        print(
            f"{wire}: first reasoning /ws {figures['ws_reasoning_ms']} direct {figures['direct_reasoning_ms']} "
            f"added {figures['added_reasoning_ms']}; first text /ws {figures['ws_text_ms']} direct "
            f"{figures['direct_text_ms']} added {figures['added_text_ms']}"
        )
    print(f"machine CPU during: {result['machine_cpu_percent_during']} %, load {result['loadavg']} -> {path}")


if __name__ == "__main__":
    main()
