"""Process control for the benchmarks: the fake provider and the chatui server as subprocesses on free loopback
ports, both stopped when the benchmark ends (however it ends), optionally under a CPU cap or py-spy.

Everything listens on 127.0.0.1 only. Every wait has a deadline; every loop has a bound.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import httpx
import psutil
from sqlalchemy import Connection

from bench._processes import spawn, stop_process, wait_http
from bench._profile import PySpy
from bench._report import RESULTS, ROOT
from testing.fakes.server import free_port
from testing.live import Loopback
from testing.seed import into_sqlite

T = TypeVar("T")


class FakeProvider:
    """`python -m bench.fake_provider` on a free port; `script()` sets what the next replies stream."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.log_path = workdir / "fake-provider.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeProvider:
        with self.log_path.open("ab") as log:
            self.process = spawn(
                [sys.executable, "-m", "bench.fake_provider", "--port", str(self.port)],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_http(f"{self.url}/bench/stats", self.process, "the fake provider", self.log_path)
        return self

    def script(
        self,
        tokens: Sequence[str],
        delay: float = 0.0,
        by_prompt: dict[str, tuple[Sequence[str], float]] | None = None,
        thinking: Sequence[str] = (),
    ) -> None:
        spec = {
            "default": {"tokens": list(tokens), "delay": delay, "thinking": list(thinking)},
            "by_prompt": {p: {"tokens": list(t), "delay": d} for p, (t, d) in (by_prompt or {}).items()},
        }
        httpx.put(f"{self.url}/bench/script", json=spec, timeout=30).raise_for_status()

    def stats(self) -> dict[str, int]:
        return dict(httpx.get(f"{self.url}/bench/stats", timeout=5).json())

    def stop(self) -> None:
        stop_process(self.process)


class ChatServer(Loopback):
    """`python main.py --no-browser` on a free port with its own data folder, talking to the fake provider."""

    def __init__(
        self,
        workdir: Path,
        provider_url: str,
        env: dict[str, str] | None = None,
        trace: Path | None = None,
        root: Path = ROOT,
    ) -> None:
        self.port = free_port()
        self.trace = trace
        self.root = root
        """The checkout whose `main.py` runs (another worktree: the code before a change, for a before/after)."""
        self.data_dir = workdir / "data"
        self.log_path = workdir / "server.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("CHATUI_", "OPENAI_", "ANTHROPIC_"))},
            **{k: v for k, v in os.environ.items() if k.startswith("CHATUI_BENCH_")},  # e.g. the trace file
            "CHATUI_ENV_FILE": "",
            "OLLAMA_BASE_URL": provider_url,
            "CHATUI_MESSAGES_PER_MINUTE": "1000000",
            "CHATUI_CONVERSATIONS_PER_MINUTE": "1000000",
            "CHATUI_LOGIN_ATTEMPTS": "1000000",
            "CHATUI_REGISTRATIONS_PER_HOUR": "1000000",
            "CHATUI_SIGNUP": "open",  # the benchmarks sign many accounts up
            "CHATUI_BCRYPT_ROUNDS": "4",
            "CHATUI_PROVIDER_RETRIES": "0",
            "NICEGUI_STORAGE_PATH": str(workdir / "nicegui-storage"),
            **(env or {}),
        }
        for name in ("DATABASE_URL", "DEFAULT_MODEL", "NICEGUI_USER_SIMULATION", "PYTEST_CURRENT_TEST"):
            if name not in (env or {}):  # a benchmark may ask for PostgreSQL
                self.env.pop(name, None)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def ps(self) -> psutil.Process:
        assert self.process is not None
        return psutil.Process(self.process.pid)

    def start(self) -> ChatServer:
        patched = self.trace or any(k.startswith("CHATUI_BENCH_") for k in self.env)
        program = ["-m", "bench.trace_server"] if patched else ["main.py"]
        command = [sys.executable, *program, "--port", str(self.port), "--no-browser", "--data-dir", str(self.data_dir)]
        if self.trace:
            self.env["CHATUI_BENCH_TRACE"] = str(self.trace)
        with self.log_path.open("ab") as log:
            self.process = spawn(command, cwd=self.root, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        wait_http(f"{self.url}/api/health", self.process, "chatui", self.log_path)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_count(self, text: str) -> int:
        return self.log().count(text)

    def stop(self) -> None:
        stop_process(self.process)


def seed_database(server: ChatServer, work: Callable[[Connection], T]) -> T:
    """Run `work` on the server's SQLite file (for histories too long to build through the API)."""
    return into_sqlite(server.data_dir / "database.db", work)


class CpuCap:
    """Hold one process to `share` of a core, to see how the server fares on a slower machine (Linux cgroup v1, root).

    In every 10 ms the process may run for `share` × 10 ms. The short period keeps each throttling pause under
    10 ms, so the process behaves roughly like one on a CPU `1 / share` times slower (it is not exact: the fake
    provider and the client keep their full speed). With the share at 0.36, the code of 2026-11-25 (a3a1e63) gave
    the same UI lag on this machine as on the slower machine of that day.
    """

    ROOT = Path("/sys/fs/cgroup/cpu")
    PERIOD_US = 10_000

    def __init__(self, share: float) -> None:
        if not (self.ROOT / "cgroup.procs").exists():
            raise SystemExit(f"--server-cpu-share needs cgroup v1's cpu controller at {self.ROOT} (and root)")
        self.group = self.ROOT / f"chatui-bench-{os.getpid()}"
        self.group.mkdir(exist_ok=True)
        (self.group / "cpu.cfs_period_us").write_text(str(self.PERIOD_US))
        (self.group / "cpu.cfs_quota_us").write_text(str(round(share * self.PERIOD_US)))

    def add(self, pid: int) -> None:
        (self.group / "cgroup.procs").write_text(str(pid))

    def remove(self) -> None:
        """After the process has exited (a cgroup with members cannot be removed)."""
        with contextlib.suppress(OSError):
            self.group.rmdir()


@contextlib.contextmanager
def environment(
    name: str,
    server_env: dict[str, str] | None = None,
    trace: bool = False,
    profile: str | None = None,
    server_cpu_share: float | None = None,
    workdir: Path | None = None,
    root: Path | None = None,
) -> Iterator[tuple[FakeProvider, ChatServer]]:
    """A fake provider and a chatui server in a temporary folder; both stopped, the server log kept in results.

    In `server_env`, "{provider}" stands for the fake provider's URL (`OPENAI_BASE_URL={provider}/v1`).
    With `trace`, the server runs under `bench.trace_server` and its trace is kept as `results/<name>-trace.jsonl`.
    With `profile` ("busy", "idle" or "native": see `bench._profile.PySpy`), py-spy samples the server until it
    stops, into `results/<name>-pyspy.txt`.
    With `server_cpu_share`, the server runs under a `CpuCap` once started.
    With `workdir`, the server's data folder is that folder's `data` and is kept (to run again on the same data).
    With `root`, the server runs that checkout's `main.py` with this virtualenv (the code before a change, for a
    before/after by the same benchmark in the same hour: `--code DIR`, see `code_option`).
    """
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` below stops the servers
    keep = workdir is not None
    if workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix=f"chatui-bench-{name}-"))
    workdir.mkdir(parents=True, exist_ok=True)
    provider = FakeProvider(workdir)
    server_env = {k: v.replace("{provider}", provider.url) for k, v in (server_env or {}).items()}
    trace_file = RESULTS / f"{name}-trace.jsonl" if trace else None
    server = ChatServer(workdir, provider.url, server_env, trace=trace_file, root=(root or ROOT).resolve())
    if server.trace:
        RESULTS.mkdir(parents=True, exist_ok=True)
        server.trace.unlink(missing_ok=True)
    spy: PySpy | None = None
    cap = CpuCap(server_cpu_share) if server_cpu_share else None
    try:
        provider.start()
        server.start()
        if cap is not None:
            cap.add(server.ps.pid)
        if profile:
            spy = PySpy(server.ps.pid, name, profile).start()
        yield provider, server
    finally:
        server.stop()
        if cap is not None:
            cap.remove()
        if spy is not None:
            spy.stop()
        provider.stop()
        RESULTS.mkdir(parents=True, exist_ok=True)
        if server.log_path.exists():
            shutil.copy(server.log_path, RESULTS / f"{name}-server.log")
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


def parse_env(pairs: Sequence[str]) -> dict[str, str]:
    """`KEY=VALUE` strings (the `--server-env` option) as a dict."""
    return dict(pair.split("=", 1) for pair in pairs)


def code_option(parser: argparse.ArgumentParser) -> None:
    """`--code DIR`: run that checkout's server instead of this one's (a before/after in one run, BENCHMARKS.md)."""
    parser.add_argument("--code", type=Path, help="the checkout whose main.py runs (default: this one)")
