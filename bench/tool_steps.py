"""Tools (issue 24): what chatui adds to a tool step and to an MCP call.

    python -m bench.tool_steps [--n 300]

1. Engine overhead per tool step, without the model and the tool: `ToolRunner.run` for one call (the step recorded,
   its frames published, the result part built) with a tool that answers at once, minus that tool's own time.
2. An MCP call through chatui (`ToolRegistry.call`: the session kept open, the timeout, the text and its cap) against
   the same call made directly with the SDK's `Client`, on loopback, to a real MCPServer in its own process. The two
   are interleaved, call by call, so both see the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Sequence
from typing import Any

from mcp import Client

from chatui.engine.generation import Generation
from chatui.engine.tool_loop import ToolRunner
from chatui.tools import ToolLimits, ToolRegistry, parse_servers
from providers.tools import ToolCall
from testing.fakes.mcp_server import HttpMcpServer


async def no_history(user_id: str, query: str, limit: int) -> Sequence[Any]:
    return []


def ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def step_overhead(n: int) -> None:
    registry = ToolRegistry([], no_history, ToolLimits())
    runner = ToolRunner(registry, 8)
    offer = runner.offer(["chatui:current_time"])
    name = next(iter(offer.by_name))
    steps, tool = [], []
    for i in range(n):
        generation = Generation("c", "u", f"m{i}", None, "ollama:x")
        call = ToolCall(0, f"call_{i}", name, {"timezone": "UTC"})
        began = time.perf_counter()
        await runner.run(generation, [call], offer)
        steps.append(time.perf_counter() - began)
        began = time.perf_counter()
        await registry.call("chatui:current_time", {"timezone": "UTC"}, user_id="u")
        tool.append(time.perf_counter() - began)
    overhead = [s - t for s, t in zip(steps, tool, strict=True)]
    print(
        f"tool step overhead: p50 {ms(overhead, 0.5):.3f} ms, p95 {ms(overhead, 0.95):.3f} ms "
        f"(whole step p50 {ms(steps, 0.5):.3f} ms, the tool alone p50 {ms(tool, 0.5):.3f} ms; n={n})"
    )


async def mcp_overhead(n: int) -> None:
    server = HttpMcpServer.start()
    try:
        registry = ToolRegistry(parse_servers(json.dumps([{"name": "s", "url": server.url}])), no_history, ToolLimits())
        await registry.start()
        connection = registry.server("s")
        assert connection is not None
        await asyncio.wait_for(connection.connected.wait(), 20)
        direct, through = [], []
        async with Client(server.url) as client:
            for _ in range(20):  # warm both
                await client.call_tool("add", {"a": 1, "b": 2})
                await registry.call("s:add", {"a": 1, "b": 2}, user_id="u")
            for _ in range(n):
                began = time.perf_counter()
                await client.call_tool("add", {"a": 1, "b": 2})
                direct.append(time.perf_counter() - began)
                began = time.perf_counter()
                outcome = await registry.call("s:add", {"a": 1, "b": 2}, user_id="u")
                through.append(time.perf_counter() - began)
                assert outcome.content == "3"
        await registry.aclose()
    finally:
        server.stop()
    print(
        f"MCP call, direct SDK: p50 {ms(direct, 0.5):.2f} ms, p95 {ms(direct, 0.95):.2f} ms; through chatui: "
        f"p50 {ms(through, 0.5):.2f} ms, p95 {ms(through, 0.95):.2f} ms; overhead p50 "
        f"{ms(through, 0.5) - ms(direct, 0.5):+.2f} ms (n={n})"
    )
    paired = statistics.median(t - d for t, d in zip(through, direct, strict=True)) * 1000
    print(f"  median of paired differences: {paired:+.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(step_overhead(args.n))
    asyncio.run(mcp_overhead(args.n))


if __name__ == "__main__":
    main()
