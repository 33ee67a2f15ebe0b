"""`/api/models` and new conversations while the default model's provider accepts connections and never answers.

    python -m bench.dead_provider --code /work/wt/old-4e859c4 --code .

For each `--code` (a checkout: its `main.py` runs) a fresh server starts with the fake Ollama (working) and an
OpenAI-compatible provider at a loopback port that accepts and stays silent, the default model on the latter. One
account then calls, one after the other: `GET /api/models` `--calls` times, `POST /api/conversations` 3 times, and
after waiting past the registry's re-check interval (10 s) `GET /api/models` twice more. Each call's wall time is
what a client waits.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench._clients import create_accounts
from bench._report import markdown_table, ms, save
from bench._servers import ChatServer, FakeProvider
from testing.fakes.black_hole import BlackHole

RECHECK = 10.0
"""`ModelRegistry.recheck`: after this, a provider that hung is looked at again (in the background)."""


async def calls(base_url: str, cookie: str, count: int) -> list[tuple[str, float]]:
    timed: list[tuple[str, float]] = []
    async with httpx.AsyncClient(base_url=base_url, cookies={"chatui_session": cookie}, timeout=30) as client:

        async def one(label: str, method: str, path: str, **kwargs: Any) -> None:
            started = time.perf_counter()
            response = await client.request(method, path, **kwargs)
            timed.append((label, time.perf_counter() - started))
            assert response.status_code in (200, 201), response.text

        for n in range(count):
            await one(f"GET /api/models #{n + 1}", "GET", "/api/models")
        for n in range(3):
            await one(f"POST /api/conversations #{n + 1}", "POST", "/api/conversations", json={})
        await asyncio.sleep(RECHECK + 1)  # past the re-check interval: the dead provider is due again
        for n in range(2):
            await one(f"GET /api/models after {RECHECK + 1:g} s #{n + 1}", "GET", "/api/models")
    return timed


def run(code: Path, list_timeout: float, count: int) -> list[tuple[str, float]]:
    workdir = Path(tempfile.mkdtemp(prefix="chatui-bench-dead-provider-"))
    hole = BlackHole().start()
    provider = FakeProvider(workdir)
    env = {
        "OPENAI_BASE_URL": f"{hole.url}/v1",
        "DEFAULT_MODEL": "openai:gpt-4o-mini",
        "CHATUI_MODEL_LIST_TIMEOUT": str(list_timeout),
    }
    server = ChatServer(workdir, provider.url, env, root=code.resolve())
    try:
        provider.start()
        server.start()
        [account] = asyncio.run(create_accounts(server.url, 1))
        return asyncio.run(calls(server.url, account.cookie, count))
    finally:
        server.stop()
        provider.stop()
        hole.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--code", type=Path, action="append", help="a checkout to run (repeatable; default: this)")
    parser.add_argument("--timeout", type=float, default=1.5, help="CHATUI_MODEL_LIST_TIMEOUT (default 1.5)")
    parser.add_argument("--calls", type=int, default=5, help="GET /api/models calls in a row (default 5)")
    args = parser.parse_args()
    codes: list[Path] = args.code or [Path(".")]
    results = {str(code): run(code, args.timeout, args.calls) for code in codes}
    labels = [label for label, _ in next(iter(results.values()))]
    rows = [{"call": label, **{code: ms(dict(timed)[label]) for code, timed in results.items()}} for label in labels]
    print(markdown_table(rows, ["call", *results]))
    save("dead_provider", {"timeout": args.timeout, "ms": rows})


if __name__ == "__main__":
    main()
