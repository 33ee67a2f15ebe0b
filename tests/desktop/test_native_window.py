"""`chatui --native` under Xvfb: a window of its own that shows the chat, where it was last left, and closing it
stops chatui within 5 s, with the reply being written stored as `interrupted` with its text.

The window is pywebview on GTK/WebKit (the `desktop` extra). GTK's Python bindings (PyGObject) come from Debian
(`python3-gi`; pip would build them from source), so the test makes a venv for the window: the locked dependencies
and the checkout through `.pth` lines (as tests/package does), Debian's `gi` package linked in alone, and pywebview
at the version below. It skips, saying why, only when GTK/WebKit or Xvfb are not installed here; CI installs them.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image
from websockets.asyncio.client import connect

from testing.fakes.server import Script, free_port
from testing.live import ROOT
from testing.venvs import fresh_venv
from testing.x11 import Window, Xvfb

pytestmark = pytest.mark.slow

DEBIAN_PACKAGES = Path("/usr/lib/python3/dist-packages")
DESKTOP_PINS = ("pywebview==6.2.1", "bottle==0.13.5", "proxy_tools==0.1.0")
"""pywebview and its own dependencies on Linux (it is not in requirements.lock: the lock's venv has no GTK)."""
APT = "apt-get install xvfb x11-utils python3-gi python3-gi-cairo gir1.2-gtk-3.0 gir1.2-webkit2-4.1"
PRIMARY = (11, 87, 208)  # chatui's blue (chatui.css --q-primary): the New chat and Send buttons


@pytest.fixture(scope="module")
def desktop_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not shutil.which("Xvfb") or not shutil.which("xwininfo"):
        pytest.skip(f"Xvfb or xwininfo is not installed: {APT}")
    if not (DEBIAN_PACKAGES / "gi").is_dir():
        pytest.skip(f"GTK's Python bindings are not installed: {APT}")
    root = tmp_path_factory.mktemp("desktop")
    gi_only = root / "debian"  # Debian's GTK bindings, without the rest of its Python packages
    gi_only.mkdir()
    for name in ("gi", "cairo"):
        if (DEBIAN_PACKAGES / name).exists():
            (gi_only / name).symlink_to(DEBIAN_PACKAGES / name)
    python = fresh_venv(root / "venv", DESKTOP_PINS, extra_paths=[ROOT, gi_only])
    probe = "import gi; gi.require_version('Gtk', '3.0'); gi.require_version('WebKit2', '4.1')"
    if subprocess.run([python, "-c", probe], capture_output=True, timeout=60).returncode != 0:
        pytest.skip(f"GTK 3 or WebKit2GTK 4.1 is not installed: {APT}")
    return python


@pytest.fixture
def display() -> Iterator[Xvfb]:
    screen = Xvfb(1280, 800)
    yield screen
    screen.stop()


def chatui_window(screen: Xvfb) -> Window | None:
    """The window (GTK's 10x10 group leader is named after the program too, so the size tells them apart)."""
    return next((w for w in screen.windows() if w.title.endswith("chatui") and w.width > 100), None)


def primary_pixels(image: Image.Image, window: Window) -> int:
    area = image.convert("RGB").crop((window.x, window.y, window.x + window.width, window.y + window.height))
    return sum(count for count, colour in area.getcolors(1 << 24) or [] if colour == PRIMARY)


async def until(check, seconds: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := await asyncio.to_thread(check):
            return result
        await asyncio.sleep(0.2)
    raise AssertionError(f"not within {seconds} s: {what}")


async def test_the_window_shows_the_chat_and_closing_it_stops_chatui_keeping_the_reply(
    desktop_python: Path, display: Xvfb, tmp_path: Path, fake_ollama
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    (data_dir / "window.json").write_text(json.dumps({"width": 1000, "height": 720, "x": 40, "y": 30}))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "NICEGUI_", "CHATUI_SINGLE"))}
    env.update(DISPLAY=display.display, CHATUI_ENV_FILE="", OLLAMA_BASE_URL=fake_ollama.url, CHATUI_AI_TITLES="false")
    log = (tmp_path / "chatui.log").open("wb")
    process = subprocess.Popen(  # noqa: ASYNC220 (started once; the waits below are awaited in a thread)
        [desktop_python, "-m", "chatui", "--native", "--port", str(port), "--data-dir", str(data_dir)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        window = await until(lambda: chatui_window(display), 30, "a window titled … chatui")
        assert (window.width, window.height) == (1000, 720)  # the size it was left at
        shot = tmp_path / "window.png"
        # The chat drawn: a screenshot with chatui's blue buttons in the window (a blank or unstyled page has none).
        await until(lambda: primary_pixels(display.screenshot(shot), window) > 500, 30, "the chat drawn")
        assert len(Image.open(shot).getcolors(1 << 24) or []) > 50  # text and controls, not a flat colour

        # A reply streams (no sign-in: the window is single-user mode), then the window is closed mid-reply.
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert (await client.get("/api/auth/me")).json()["username"] == "local"
            conversation = (await client.post("/api/conversations", json={})).json()["id"]
        fake_ollama.then(Script(tokens=[f"w{i} " for i in range(2000)], delay=0.01))
        received = []
        async with connect(f"ws://127.0.0.1:{port}/ws/{conversation}", close_timeout=1) as ws:
            await ws.send(json.dumps({"type": "message", "content": "write a lot"}))
            started = time.monotonic()
            while time.monotonic() - started < 1.5:  # past the first checkpoint (1 s)
                frame = json.loads(await ws.recv())
                if frame["type"] == "token":
                    received.append(frame["token"])
            display.close(window.id)
            closed_at = time.monotonic()
            await asyncio.to_thread(process.wait, 10)
            stopped_in = time.monotonic() - closed_at
        assert stopped_in < 5
        assert process.returncode == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()
    output = (tmp_path / "chatui.log").read_text()
    assert "Traceback" not in output, output

    with sqlite3.connect(data_dir / "database.db") as db:
        status, content = db.execute("SELECT status, content FROM messages WHERE role = 'assistant'").fetchone()
    assert status == "interrupted"
    streamed = "".join(received)
    assert streamed and content.startswith(streamed)  # what was written when the window closed, stored whole
    remembered = json.loads((data_dir / "window.json").read_text())
    assert (remembered["width"], remembered["height"]) == (1000, 720)
