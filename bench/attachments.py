"""Issue 23's figures for uploads: a 20 MB file's throughput, and what five 20 MB uploads at once cost everyone else.

    /work/bin/bench .venv/bin/python -m bench.attachments [--code CHECKOUT] [--rounds 3]

A fresh server (SQLite, the fake Ollama) per `--code`. Files are built once in a temporary folder: 20 MB of UTF-8
text, each copy with its own first line (the store keeps one copy of identical bytes per user, which would flatter
every upload after the first), and a ~19 MB JPEG of noise (Pillow opens and verifies it).

- `one`: `POST /api/files` of one 20 MB file, `--rounds` times in a row by one account (median and best MB/s).
- `five at once`: five accounts each upload a 20 MB text file at the same moment, while a thread polls
  `/api/health` every 20 ms and samples the server's RSS (`testing.probe`): the health p50/p95/max (target p95
  < 250 ms) and the RSS growth (target < 100 MB); a second thread polls another user's `GET /api/conversations`,
  which also waits for the database.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench._clients import create_accounts
from bench._report import markdown_table, save
from bench._servers import ChatServer, FakeProvider
from testing.probe import HealthProbe

MB = 1024 * 1024
SIZE = 20 * MB - 4096
"""Just under CHATUI_UPLOAD_MAX_MB's default (20 MB), multipart framing aside."""


def text_file(folder: Path, tag: str) -> Path:
    path = folder / f"notes-{tag}.txt"
    if not path.exists():
        line = b"The quick brown fox jumps over the lazy dog; 0123456789 and some more words.\n"
        body = line * (SIZE // len(line))
        path.write_bytes((f"copy {tag}\n".encode() + body)[:SIZE])
    return path


def jpeg_file(folder: Path) -> Path:
    path = folder / "noise.jpg"
    if not path.exists():
        from PIL import Image

        side = 2600
        while True:  # noise compresses poorly: find the largest square under SIZE
            image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
            out = io.BytesIO()
            image.save(out, "JPEG", quality=90)
            if out.tell() <= SIZE:
                break
            side -= 100
        path.write_bytes(out.getvalue())
    return path


async def upload(client: httpx.AsyncClient, path: Path) -> float:
    started = time.perf_counter()
    with path.open("rb") as file:
        response = await client.post("/api/files", files={"file": (path.name, file, "application/octet-stream")})
    took = time.perf_counter() - started
    assert response.status_code == 201, response.text
    return took


async def measure(server: ChatServer, folder: Path, rounds: int) -> list[dict[str, Any]]:
    accounts = await create_accounts(server.url, 6, prefix="uploader")
    rows: list[dict[str, Any]] = []
    clients = [
        httpx.AsyncClient(base_url=server.url, cookies={"chatui_session": a.cookie}, timeout=300) for a in accounts
    ]
    try:
        for kind, paths in (
            ("20 MB text", [text_file(folder, f"one-{n}") for n in range(rounds)]),
            ("19 MB JPEG", [jpeg_file(folder)] * 1),
        ):
            times = [await upload(clients[0], path) for path in paths]
            size = paths[0].stat().st_size / MB
            rows.append(
                {
                    "case": f"one {kind}, {len(times)}×",
                    "seconds (median)": f"{statistics.median(times):.2f}",
                    "MB/s (median / best)": f"{size / statistics.median(times):.0f} / {size / min(times):.0f}",
                }
            )
        paths = [text_file(folder, f"five-{n}") for n in range(5)]
        assert server.process is not None
        other = {"chatui_session": accounts[0].cookie}  # another user's list: it waits for the database too
        with (
            HealthProbe(server.url, server.process.pid) as felt,
            HealthProbe(server.url, server.process.pid, path="/api/conversations", cookies=other) as listing,
        ):
            started = time.perf_counter()
            times = await asyncio.gather(*(upload(c, p) for c, p in zip(clients[1:], paths, strict=True)))
            wall = time.perf_counter() - started
        lat = sorted(felt.latencies)
        rows.append(
            {
                "case": "five 20 MB text at once",
                "seconds (median)": f"{statistics.median(times):.2f} (all: {wall:.2f})",
                "MB/s (median / best)": f"{5 * SIZE / MB / wall:.0f} together",
                "health p50/p95/max ms": f"{statistics.median(lat) * 1000:.0f} / {felt.p95 * 1000:.0f} / "
                f"{felt.worst * 1000:.0f}",
                "checks": f"{len(lat)} ({felt.failures} failed)",
                "another user's list p95/max ms": f"{listing.p95 * 1000:.0f} / {listing.worst * 1000:.0f}",
                "RSS + MB": f"{felt.rss_growth / MB:.0f}",
            }
        )
    finally:
        for client in clients:
            await client.aclose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--code", type=Path, action="append", help="a checkout to run (repeatable; default: this)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--files", type=Path, default=Path(tempfile.gettempdir()) / "chatui-bench-attachments")
    args = parser.parse_args()
    args.files.mkdir(parents=True, exist_ok=True)
    rows = []
    for code in args.code or [Path(".")]:
        workdir = Path(tempfile.mkdtemp(prefix="chatui-bench-attach-"))
        provider = FakeProvider(workdir).start()
        server = ChatServer(workdir, provider.url, root=code.resolve())
        try:
            server.start()
            for row in asyncio.run(measure(server, args.files, args.rounds)):
                rows.append({"code": str(code), **row})
                print(json.dumps(rows[-1]), flush=True)
        finally:
            server.stop()
            provider.stop()
    columns = [
        "code",
        "case",
        "seconds (median)",
        "MB/s (median / best)",
        "health p50/p95/max ms",
        "checks",
        "another user's list p95/max ms",
        "RSS + MB",
    ]
    print(markdown_table(rows, columns))
    save("attachments", {"rows": rows})


if __name__ == "__main__":
    main()
