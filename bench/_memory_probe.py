"""Run inside another checkout for `bench.memory`: `python /path/to/bench/_memory_probe.py MODE ...` with the
checkout as the working directory, so `import chatui` finds that checkout's code (the one being measured) while this
file stays the same for every checkout. Standard library only, so it adds nothing to what it measures.

    serve ARGS...        `main.py ARGS...` as `python main.py` runs it; on SIGUSR1 the process writes
                         `{"modules": n, "loaded": [...]}` to $CHATUI_BENCH_MEMORY_OUT
    build                build the app as `main.py` does (without serving), print one JSON line: RSS, modules, what
                         is loaded; then import what a first use loads (each SDK, Alembic, xllamacpp) one by one and
                         give each one's RSS and time. Run it under `-X importtime` for the import times; with
                         `--heap`, Python's own allocations (tracemalloc) by package instead of the first-use part
    local KV             load the local model (`kv_cache=KV` where the checkout takes it): RSS before and after,
                         and the median decode rate of three greedy 64-token replies
"""

from __future__ import annotations

import asyncio
import json
import os
import runpy
import signal
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

WATCHED = ("openai", "anthropic", "httpx2", "alembic", "mako", "xllamacpp", "redis", "rich", "requests")
FIRST_USE = {
    "openai SDK (a reply through OpenAI)": ["openai"],
    "anthropic SDK (a reply through Anthropic)": ["anthropic"],
    "alembic + mako (a start that migrates)": ["alembic.command", "alembic.config"],
    "xllamacpp (the local model's runtime)": ["xllamacpp"],
}
MARK = "chatui-bench-memory: first use"
AT_START = {
    "pydantic + pydantic-settings": ["pydantic", "pydantic_settings"],
    "sqlalchemy (+ the sqlite dialect)": ["sqlalchemy", "sqlalchemy.orm", "sqlalchemy.dialects.sqlite"],
    "fastapi + starlette": ["fastapi", "fastapi.responses"],
    "aiohttp + httpx (+ rich, click via httpx._main where rich is installed)": ["aiohttp", "httpx", "httpx_aiohttp"],
    "redis (python-socketio imports its Redis manager)": ["redis", "redis.asyncio"],
    "requests + urllib3 (engineio's client, unused by a server)": ["requests"],
    "nicegui (+ socketio, engineio, uvicorn, jinja2, ...)": ["nicegui", "nicegui.ui"],
    "chatui's modules (chatui.app, chatui.cli; markdown-it, pygments, limits, bcrypt, ijson)": [
        "chatui.app",
        "chatui.cli",
    ],
}
"""What a start imports, part by part in an order where each part's own dependencies came before: each part's RSS
and time are what it adds."""


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def loaded() -> list[str]:
    return [name for name in WATCHED if name in sys.modules]


def package_of(filename: str) -> str:
    """`site-packages/sqlalchemy/orm/x.py` → `sqlalchemy`; the checkout's own code by its top folder."""
    path = Path(filename)
    parts = path.parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].removesuffix(".py")
    try:
        return path.resolve().relative_to(Path.cwd()).parts[0].removesuffix(".py")
    except ValueError:
        return "python (stdlib, interpreter)"


def build_app() -> None:
    """What `python main.py` does before it serves. A checkout with `chatui/launcher.py` builds the app in the
    launcher's `main()` (run through `main.py` only as `__main__`), so it is called with `serve` made a no-op; an
    older `main.py` built the app as it was imported."""
    sys.argv = ["main.py", "--no-browser"]  # the data folder and providers come from the environment
    if Path("chatui/launcher.py").exists():
        from chatui import launcher  # type: ignore[import-not-found,unused-ignore]

        launcher.serve = lambda *_: None
        launcher.main(["--no-browser"])
        return
    runpy.run_path("main.py", run_name="chatui_probe")  # not __main__: main.py builds the app and does not serve


def add(parts: dict[str, list[str]]) -> dict[str, dict[str, float]]:
    """Each part's RSS and time, imported in order; a part that is not installed is left out."""
    costs: dict[str, dict[str, float]] = {}
    for label, modules in parts.items():
        before, clock = rss_mb(), time.perf_counter()
        try:
            for module in modules:
                __import__(module)
        except ImportError:
            continue
        costs[label] = {"rss_mb": rss_mb() - before, "seconds": time.perf_counter() - clock}
    return costs


def build(heap: bool) -> dict[str, Any]:
    started = time.perf_counter()
    if heap:
        tracemalloc.start()
        parts: dict[str, dict[str, float]] = {}
    else:
        parts = add(AT_START)
    before = rss_mb()
    building = time.perf_counter()
    build_app()
    parts["building the app (create_app: services, database, pages)"] = {
        "rss_mb": rss_mb() - before,
        "seconds": time.perf_counter() - building,
    }
    result: dict[str, Any] = {
        "build_seconds": time.perf_counter() - started,
        "interpreter_rss_mb": INTERPRETER_RSS,
        "at_start": parts,
        "rss_mb": rss_mb(),
        "modules": len(sys.modules),
        "loaded": loaded(),
    }
    if heap:
        snapshot = tracemalloc.take_snapshot()
        by_package: dict[str, int] = {}
        for stat in snapshot.statistics("filename"):
            filename = stat.traceback[0].filename
            name = "module code (unmarshalled by imports)" if "importlib" in filename else package_of(filename)
            by_package[name] = by_package.get(name, 0) + stat.size
        result["traced_mb"] = sum(by_package.values()) / 2**20
        result["heap_mb"] = {k: v / 2**20 for k, v in sorted(by_package.items(), key=lambda kv: -kv[1])}
        return result
    print(MARK, file=sys.stderr, flush=True)  # the import times after this line are the first-use part
    result["first_use"] = add(FIRST_USE)
    return result


def local(kv: str) -> dict[str, Any]:
    sys.path.insert(0, os.getcwd())
    import inspect

    from providers.local import LocalProvider, default_model_path

    async def load() -> dict[str, Any]:
        options: dict[str, Any] = {"context": 4096, "places": 2}
        if "kv_cache" in inspect.signature(LocalProvider).parameters:
            options["kv_cache"] = kv
        provider = LocalProvider(default_model_path(), **options)
        before = rss_mb()
        loading = provider.start()
        assert loading is not None
        await loading
        after = rss_mb()
        rates = [await decode_rate(provider) for _ in range(4)][1:]  # the first warms up
        await provider.aclose()
        return {
            "kv_cache": options.get("kv_cache", "f16"),
            "before_mb": before,
            "loaded_mb": after,
            "tokens_per_second": sorted(rates)[len(rates) // 2],
        }

    return asyncio.run(load())


async def decode_rate(provider: Any) -> float:
    """Tokens per second of one greedy 64-token reply, from its first text to its last (prompt time excluded)."""
    from providers.base import ChatMessage, GenerationParams, TextDelta, Usage

    question = [ChatMessage("user", "Write a short story about a lighthouse keeper.")]
    times: list[float] = []
    tokens = 0
    async for event in provider.stream(question, provider.model_name, GenerationParams(temperature=0, max_tokens=64)):
        if isinstance(event, TextDelta):
            times.append(time.perf_counter())
        elif isinstance(event, Usage):
            tokens = event.completion_tokens or len(times)
    return (tokens - 1) / (times[-1] - times[0])


def serve() -> None:
    out = os.environ["CHATUI_BENCH_MEMORY_OUT"]

    def dump(*_: object) -> None:
        Path(out).write_text(json.dumps({"modules": len(sys.modules), "loaded": loaded()}))

    signal.signal(signal.SIGUSR1, dump)
    sys.argv = ["main.py", *sys.argv[2:]]
    runpy.run_path("main.py", run_name="__main__")


INTERPRETER_RSS = rss_mb()


def main() -> None:
    sys.path[0] = os.getcwd()  # the measured checkout, not this folder (bench/ would shadow top-level names)
    mode = sys.argv[1]
    if mode == "serve":
        serve()
    elif mode == "build":
        print(json.dumps(build(heap=sys.argv[2:3] == ["--heap"])))
    elif mode == "local":
        print(json.dumps(local(sys.argv[2])))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
