"""What the package and the desktop window cost a person: build, install, `--version`, start, and closing the window.

    python -m bench.packaging [--runs 5]

Each figure is the median (min–max) of `--runs` runs:
- `python -m build --no-isolation` (sdist, then the wheel from it) and the wheel's size;
- a fresh venv holding the wheel (uv, `--no-deps`, the locked dependencies through a `.pth` line, as
  tests/package does: not a registry download, which depends on the network);
- `chatui --version` (must not import NiceGUI) and `chatui` from an empty folder until `/api/health` answers;
- with `--window` (GTK/WebKit and Xvfb installed): `chatui --native` until its window is mapped, and from the
  window's close (WM_DELETE_WINDOW, as a window manager sends it) to the process's exit, with a reply streaming.
  Unfinished: a close sent right after the window is mapped (before its page loaded) was not acted on within 30 s
  in the one run made; tests/desktop closes it once the chat is drawn, and that stops chatui in under a second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

from testing.fakes.ollama import FakeOllama, ollama_app
from testing.fakes.server import Script, ThreadedServer, free_port
from testing.live import ROOT
from testing.venvs import fresh_venv
from testing.x11 import Window, Xvfb

DEBIAN_PACKAGES = Path("/usr/lib/python3/dist-packages")
DESKTOP_PINS = ("pywebview==6.2.1", "bottle==0.13.5", "proxy_tools==0.1.0")


def figure(samples: list[float]) -> str:
    return f"{statistics.median(samples):.2f} s ({min(samples):.2f}–{max(samples):.2f})"


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def wait_for_health(port: int, process: subprocess.Popen[bytes]) -> None:
    while process.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.02)
    raise RuntimeError("chatui exited")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "NICEGUI_"))}
    return {**env, "CHATUI_ENV_FILE": "", "CHATUI_LOCAL_MODEL": "off", **extra}


def start_and_stop(command: list[str], cwd: Path, env: dict[str, str], port: int) -> float:
    process = subprocess.Popen([*command, "--port", str(port)], cwd=cwd, env=env, stdout=subprocess.DEVNULL)
    try:
        return timed(lambda: wait_for_health(port, process))
    finally:
        process.terminate()
        process.wait(10)


def mapped_window(screen: Xvfb) -> Window:
    while not (found := [w for w in screen.windows() if w.title.endswith("chatui") and w.width > 100]):
        time.sleep(0.02)
    return found[0]


async def native_run(
    python: Path, screen: Xvfb, ollama: FakeOllama, ollama_url: str, data: Path
) -> tuple[float, float]:
    port = free_port()
    env = clean_env(DISPLAY=screen.display, OLLAMA_BASE_URL=ollama_url)
    started = time.perf_counter()
    command = [python, "-m", "chatui", "--native", "--port", str(port), "--data-dir", str(data)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)  # noqa: ASYNC220
    window = await asyncio.to_thread(mapped_window, screen)
    shown = time.perf_counter() - started
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        conversation = (await client.post("/api/conversations", json={})).json()["id"]
    ollama.then(Script(tokens=[f"w{i} " for i in range(2000)], delay=0.01))
    async with connect(f"ws://127.0.0.1:{port}/ws/{conversation}", close_timeout=1) as ws:
        await ws.send(json.dumps({"type": "message", "content": "write a lot"}))
        for _ in range(50):
            await ws.recv()
        screen.close(window.id)
        closing = time.perf_counter()
        await asyncio.to_thread(process.wait, 30)
        closed = time.perf_counter() - closing
    return shown, closed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--window", action="store_true", help="also the native window (see the docstring)")
    options = parser.parse_args()
    runs = options.runs
    work = Path(tempfile.mkdtemp(prefix="bench-packaging-"))
    rows: list[tuple[str, str]] = []

    builds = [
        timed(
            lambda i=i: subprocess.run(  # type: ignore[misc]
                [sys.executable, "-m", "build", "--no-isolation", "-o", str(work / f"dist{i}"), str(ROOT)],
                check=True,
                capture_output=True,
            )
        )
        for i in range(runs)
    ]
    wheel = next((work / "dist0").glob("*.whl"))
    rows += [
        ("python -m build (sdist + wheel)", figure(builds)),
        ("wheel size", f"{wheel.stat().st_size / 1e6:.2f} MB"),
    ]
    installs = [timed(lambda i=i: fresh_venv(work / f"venv{i}", [wheel], offline=True)) for i in range(runs)]  # type: ignore[misc]
    rows.append(("fresh venv + the wheel (uv, --no-deps)", figure(installs)))
    chatui = str(work / "venv0" / "bin" / "chatui")
    home = work / "home"
    home.mkdir()
    versions = [
        timed(lambda: subprocess.run([chatui, "--version"], check=True, capture_output=True)) for _ in range(runs)
    ]
    rows.append(("chatui --version", figure(versions)))
    starts = [
        start_and_stop([chatui, "--no-browser"], home, clean_env(XDG_DATA_HOME=str(work / f"xdg{i}")), free_port())
        for i in range(runs)
    ]
    rows.append(("chatui (installed) until /api/health, first start", figure(starts)))

    if options.window and (DEBIAN_PACKAGES / "gi").is_dir():
        gi_only = work / "debian"
        gi_only.mkdir()
        for name in ("gi", "cairo"):
            (gi_only / name).symlink_to(DEBIAN_PACKAGES / name)
        python = fresh_venv(work / "desktop", DESKTOP_PINS, extra_paths=[ROOT, gi_only])
        ollama = FakeOllama()
        server = ThreadedServer(ollama_app(ollama)).start()
        ollama.reset()
        screen = Xvfb()
        try:
            results = [
                asyncio.run(native_run(python, screen, ollama, server.url, work / f"native{i}")) for i in range(runs)
            ]
        finally:
            screen.stop()
            server.stop()
        rows.append(("chatui --native until its window is mapped", figure([shown for shown, _ in results])))
        rows.append(("window closed mid-reply until the process exited", figure([closed for _, closed in results])))

    print("| what | time |\n|---|---|")
    for what, value in rows:
        print(f"| {what} | {value} |")


if __name__ == "__main__":
    main()
