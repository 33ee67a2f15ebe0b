"""Issue 28's attacks on import at their real sizes, before and after, side by side in one run.

    /work/bin/bench .venv/bin/python -m bench.import_attacks --code /work/wt/imports-old --code .

For each `--code` (a checkout: its `main.py` runs) and each case, a fresh server starts (SQLite, the fake Ollama);
one account uploads the case's file through `POST /api/import` and follows the job to its end (or `--limit`
seconds), while a thread polls `/api/health` every 20 ms and samples the server's RSS and its children's
(`testing.probe`). Reported per case: the upload's answer and time, the job's end, the health checks' p50/p95/max,
the server's RSS growth and the largest child's RSS (the import's own process, after).

Cases (files built once in `--files`, kept between runs):

- `nested`: `[[[…]]]` 200,000 deep (400 KB).
- `chatgpt-huge` / `openwebui-huge`: 150 MB, a first conversation holding one 150 MB message, then 3 more.
- `chatui-150mb`: a 150 MB chatui/1 export (conversations of 40 messages of 2,000 characters).
- `zip-bomb`: 3.6 MB of zip whose conversations.json inflates to 3.5 GB.
- `parallel`: 8 uploads of one 5 MB ChatGPT file at once by one user (how many start).
- `page-4.8mb`: not an import: `GET /chat/{id}` of a conversation holding a 4.8 MB message (seeded), 5 times.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench._clients import create_accounts
from bench._report import markdown_table, save
from bench._servers import ChatServer, FakeProvider, seed_database
from testing.exports import (
    chatgpt_conversation,
    write_chatui_export,
    write_huge_first_message,
    write_json,
    write_nested,
    write_zip_bomb,
)
from testing.probe import Felt, HealthProbe
from testing.seed import seed_conversation

MB = 1024 * 1024
BUILDERS: dict[str, tuple[str, Callable[[Path], object]]] = {
    "nested": ("nested.json", lambda p: write_nested(p, 200_000)),
    "chatgpt-huge": ("chatgpt-huge.json", lambda p: write_huge_first_message(p, 150 * MB, "chatgpt")),
    "openwebui-huge": ("openwebui-huge.json", lambda p: write_huge_first_message(p, 150 * MB, "openwebui")),
    "chatui-150mb": ("chatui-150mb.json", lambda p: write_chatui_export(p, 150 * MB)),
    "zip-bomb": ("bomb.zip", lambda p: write_zip_bomb(p, 3500 * MB)),
    "parallel": ("parallel.json", lambda p: write_json(p, [chatgpt_conversation(f"c{i}") for i in range(1200)])),
}
PAGE_MESSAGE_CHARS = 4_800_000


def build(files: Path, case: str) -> Path:
    name, builder = BUILDERS[case]
    path = files / name
    if not path.exists():
        files.mkdir(parents=True, exist_ok=True)
        print(f"building {path} …", flush=True)
        builder(path)
    return path


class ChildWatch:
    """The largest RSS of the server's child processes (the import's own process), sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0

    async def run(self) -> None:
        while True:
            total = 0
            for child in self.process.children(recursive=True):
                try:
                    total = max(total, child.memory_info().rss)
                except psutil.Error:
                    continue
            self.peak = max(self.peak, total)
            await asyncio.sleep(0.05)


async def upload(client: httpx.AsyncClient, path: Path) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    with path.open("rb") as file:
        response = await client.post("/api/import", files={"file": (path.name, file, "application/octet-stream")})
    return response, time.perf_counter() - started


async def follow(client: httpx.AsyncClient, job_id: str, limit: float) -> dict[str, Any]:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        state = (await client.get(f"/api/import/{job_id}")).json()
        if state["status"] != "running":
            return dict(state)
        await asyncio.sleep(0.25)
    return {"status": f"still running after {limit:.0f} s"}


def outcome(state: dict[str, Any]) -> str:
    if state.get("status") == "done":
        return f"done: {state['conversations']} conv., {state.get('cut', '-')} cut, {len(state['errors'])} errors"
    reason = state.get("reason") or (state.get("errors") or [""])[0][:60]
    return f"{state.get('status')}: {reason}" + (f" ({state['status_code']})" if state.get("status_code") else "")


async def import_case(server: ChatServer, cookie: str, path: Path, limit: float) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url, cookies={"chatui_session": cookie}, timeout=limit) as client:
        response, took = await upload(client, path)
        answer = f"{response.status_code} in {took:.2f} s"
        if response.status_code != 202:
            return {"upload": answer, "end": response.json().get("detail", "")[:70]}
        started = time.perf_counter()
        state = await follow(client, response.json()["job_id"], limit)
        return {"upload": answer, "end": outcome(state), "job s": round(time.perf_counter() - started, 1)}


async def parallel_case(server: ChatServer, cookie: str, path: Path, limit: float) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url, cookies={"chatui_session": cookie}, timeout=limit) as client:
        answers = await asyncio.gather(*(upload(client, path) for _ in range(8)))
        codes = sorted(response.status_code for response, _ in answers)
        jobs = [response.json()["job_id"] for response, _ in answers if response.status_code == 202]
        states = await asyncio.gather(*(follow(client, job, limit) for job in jobs))
    return {
        "upload": " ".join(str(c) for c in codes),
        "end": f"{len(jobs)} ran: " + "; ".join(outcome(s) for s in states)[:90],
    }


async def page_case(server: ChatServer, cookie: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url, cookies={"chatui_session": cookie}, timeout=120) as client:
        user_id = (await client.get("/api/auth/me")).json()["id"]
        text = ("All work and no play makes a long message. " * (PAGE_MESSAGE_CHARS // 43 + 1))[:PAGE_MESSAGE_CHARS]
        conversation_id, _ = seed_database(
            server, lambda c: seed_conversation(c, user_id, 2, title="Giant", text=lambda i: text if i == 0 else "ok")
        )
        times = []
        for _ in range(5):
            started = time.perf_counter()
            response = await client.get(f"/chat/{conversation_id}")
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code
    return {"upload": f"GET /chat ×5: median {statistics.median(times):.2f} s", "end": f"{len(response.content):,} B"}


async def run_case(server: ChatServer, case: str, path: Path | None, limit: float) -> dict[str, Any]:
    [account] = await create_accounts(server.url, 1, prefix="attacker")
    assert server.process is not None
    watch = ChildWatch(server.process.pid)
    watcher = asyncio.create_task(watch.run())
    felt: Felt
    with HealthProbe(server.url, server.process.pid) as felt:
        if case == "page-4.8mb":
            row = await page_case(server, account.cookie)
        elif case == "parallel":
            assert path is not None
            row = await parallel_case(server, account.cookie, path, limit)
        else:
            assert path is not None
            row = await import_case(server, account.cookie, path, limit)
    watcher.cancel()
    lat = sorted(felt.latencies)
    health = f"{statistics.median(lat) * 1000:.0f} / {felt.p95 * 1000:.0f} / {felt.worst * 1000:.0f}" if lat else "-"
    return {
        **row,
        "health p50/p95/max ms": health,
        "checks": len(lat),
        "RSS + MB": round(felt.rss_growth / MB),
        "child MB": round(watch.peak / MB),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--code", type=Path, action="append", help="a checkout to run (repeatable; default: this)")
    parser.add_argument("--case", action="append", choices=[*BUILDERS, "page-4.8mb"], help="default: all")
    parser.add_argument("--files", type=Path, default=Path(tempfile.gettempdir()) / "chatui-import-attacks")
    parser.add_argument("--limit", type=float, default=180, help="seconds an import may take here (default 180)")
    args = parser.parse_args()
    codes: list[Path] = args.code or [Path(".")]
    cases: list[str] = args.case or [*BUILDERS, "page-4.8mb"]
    paths = {case: build(args.files, case) if case in BUILDERS else None for case in cases}
    rows = []
    for case in cases:
        for code in codes:
            workdir = Path(tempfile.mkdtemp(prefix="chatui-bench-import-"))
            provider = FakeProvider(workdir).start()
            server = ChatServer(workdir, provider.url, root=code.resolve())
            try:
                server.start()
                row = asyncio.run(run_case(server, case, paths[case], args.limit))
            except Exception as exc:  # one case's failure (the old server dying) is a result too
                row = {"end": f"error: {type(exc).__name__}: {str(exc)[:80]}"}
            finally:
                alive = server.process is not None and server.process.poll() is None
                server.stop()
                provider.stop()
            rows.append({"case": case, "code": str(code), **row, "server alive": "yes" if alive else "NO"})
            print(json.dumps(rows[-1]), flush=True)
    columns = ["case", "code", "upload", "end", "job s", "health p50/p95/max ms", "checks", "RSS + MB", "child MB"]
    print(markdown_table(rows, [*columns, "server alive"]))
    save("import_attacks", {"rows": rows})


if __name__ == "__main__":
    main()
