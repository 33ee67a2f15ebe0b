"""What a start leaves out and what it turns back on (issue 28, BENCHMARKS.md §12): NiceGUI and httpx are imported
without the Redis and HTTP clients that socketio, NiceGUI's storage and httpx's command line would load
(`chatui._patches.lean_imports`), and the garbage collector, off while the launcher builds the app, is on again with
start-up's objects frozen by the time the server answers. Each check is a fresh interpreter; the last is a real
`main.py` server asked, through a signal, what it holds."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from chatui.bootstrap.collector import FULL_AFTER
from testing.live import ROOT, LiveApp
from testing.waiting import until_sync

LEAN = """
import json, sys
import chatui._patches
import socketio
from nicegui import optional_features
held = [name for name in ("redis", "requests", "urllib3", "rich") if name in sys.modules]
import redis
print(json.dumps({
    "held": held,
    "server": socketio.AsyncServer.__name__,
    "nicegui_redis": optional_features.has("redis"),
    "redis_after": hasattr(redis, "Redis"),
}))
"""

PROBE = """
import gc, json, os, runpy, signal, sys
from pathlib import Path

def report(*_):
    Path(os.environ["CHATUI_TEST_PROBE_OUT"]).write_text(json.dumps({
        "collecting": gc.isenabled(),
        "frozen": gc.get_freeze_count(),
        "threshold": gc.get_threshold(),
        "held": [name for name in ("redis", "requests", "rich") if name in sys.modules],
    }))

signal.signal(signal.SIGUSR1, report)
sys.argv = ["main.py", *sys.argv[1:]]
runpy.run_path("main.py", run_name="__main__")
"""


def run(code: str, **env: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.slow  # two fresh interpreters importing NiceGUI: ~3 s
def test_nicegui_is_imported_without_redis_requests_or_rich_and_redis_still_imports_afterwards() -> None:
    lean = run(LEAN)
    assert lean == {"held": [], "server": "AsyncServer", "nicegui_redis": False, "redis_after": True}
    # NiceGUI's Redis storage is what NICEGUI_REDIS_URL asks for: then redis is imported with it, as before.
    asked = run(LEAN, NICEGUI_REDIS_URL="redis://127.0.0.1:6379")
    assert asked["nicegui_redis"] is True and asked["held"] == ["redis"]


@pytest.mark.slow  # a real server start: ~3 s
def test_a_started_server_collects_garbage_again_with_start_ups_objects_frozen(tmp_path: Path) -> None:
    out = tmp_path / "probe.json"
    env = {"CHATUI_LOCAL_MODEL": "off", "OLLAMA_BASE_URL": "http://127.0.0.1:9", "CHATUI_TEST_PROBE_OUT": str(out)}
    app = LiveApp(tmp_path / "data", env, command=(sys.executable, "-c", PROBE)).start()
    try:
        assert app.process is not None
        app.process.send_signal(signal.SIGUSR1)
        until_sync(lambda: out.exists() and out.read_text(), what="the server's report")
        state = json.loads(out.read_text())
    finally:
        app.stop()
    assert state["collecting"] is True  # the launcher turned collection off while it built the app
    assert state["frozen"] > 50_000  # modules, classes, routes: out of every later collection
    assert state["threshold"][2] == FULL_AFTER  # and each full collection's survivors frozen (test_collector)
    assert state["held"] == []
