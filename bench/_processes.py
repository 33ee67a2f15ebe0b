"""Child processes of a benchmark: each one dies with it, waits have deadlines, stops are polite first."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx


def _die_with_parent() -> None:
    """In a child before exec: get SIGTERM when the benchmark process dies, however it dies (Linux only)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def spawn(command: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, preexec_fn=_die_with_parent, **kwargs)


def wait_http(url: str, process: subprocess.Popen[bytes], what: str, log: Path, seconds: float = 30) -> None:
    """Until `url` answers 200; `RuntimeError` with the process's log if it exits or does not answer in time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited at start:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start within {seconds} s:\n{log.read_text(errors='replace')}")


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    """SIGINT (a server shuts down cleanly), then SIGKILL after 15 s."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)
