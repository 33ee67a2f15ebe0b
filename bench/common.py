"""What every benchmark shares: the fake provider and the chatui server as subprocesses, accounts, one reply over
`/ws` or straight to the provider, a sampler of process CPU and memory, percentiles and result files.

Everything listens on 127.0.0.1 only. Every wait has a deadline; every loop has a bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import httpx
import psutil
from sqlalchemy import Connection
from websockets.asyncio.client import ClientConnection

from providers import ChatMessage, TextDelta
from providers.ollama import OllamaProvider
from testing.fakes.server import free_port
from testing.seed import into_sqlite

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
MODEL = "llama3.2:3b"
PASSWORD = "bench-password-123"

# -- processes ----------------------------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """In a child before exec: get SIGTERM when the benchmark process dies, however it dies (Linux only)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def spawn(command: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, preexec_fn=_die_with_parent, **kwargs)


def _wait_http(url: str, process: subprocess.Popen[bytes], what: str, log: Path, seconds: float = 30) -> None:
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


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


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
        _wait_http(f"{self.url}/bench/stats", self.process, "the fake provider", self.log_path)
        return self

    def script(
        self, tokens: Sequence[str], delay: float = 0.0, by_prompt: dict[str, tuple[Sequence[str], float]] | None = None
    ) -> None:
        spec = {
            "default": {"tokens": list(tokens), "delay": delay},
            "by_prompt": {p: {"tokens": list(t), "delay": d} for p, (t, d) in (by_prompt or {}).items()},
        }
        httpx.put(f"{self.url}/bench/script", json=spec, timeout=30).raise_for_status()

    def stats(self) -> dict[str, int]:
        return dict(httpx.get(f"{self.url}/bench/stats", timeout=5).json())

    def stop(self) -> None:
        _stop(self.process)


class ChatServer:
    """`python main.py --no-browser` on a free port with its own data folder, talking to the fake provider."""

    def __init__(
        self, workdir: Path, provider_url: str, env: dict[str, str] | None = None, trace: Path | None = None
    ) -> None:
        self.port = free_port()
        self.trace = trace
        self.data_dir = workdir / "data"
        self.log_path = workdir / "server.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("CHATUI_", "OPENAI_", "ANTHROPIC_"))},
            **{k: v for k, v in os.environ.items() if k.startswith("CHATUI_BENCH_")},  # e.g. the trace file
            "CHATUI_ENV_FILE": "",
            "OLLAMA_BASE_URL": provider_url,
            "CHATUI_MESSAGES_PER_MINUTE": "1000000",
            "CHATUI_LOGIN_ATTEMPTS": "1000000",
            "CHATUI_REGISTRATIONS_PER_HOUR": "1000000",
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
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

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
            self.process = spawn(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        _wait_http(f"{self.url}/api/health", self.process, "chatui", self.log_path)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_count(self, text: str) -> int:
        return self.log().count(text)

    def stop(self) -> None:
        _stop(self.process)


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
) -> Iterator[tuple[FakeProvider, ChatServer]]:
    """A fake provider and a chatui server in a temporary folder; both stopped, the server log kept in results.

    With `trace`, the server runs under `bench.trace_server` and its trace is kept as `results/<name>-trace.jsonl`.
    With `profile` ("busy", "idle" or "native"), py-spy samples the server (100 Hz, per thread, without pausing it;
    "idle" also samples threads that wait; "native" also C frames, pausing the server at each sample) until it
    stops, into `results/<name>-pyspy.txt` (collapsed stacks; summarize with `python -m bench.pyspy_summary FILE`).
    With `server_cpu_share`, the server runs under a `CpuCap` once started.
    With `workdir`, the server's data folder is that folder's `data` and is kept (to run again on the same data).
    """
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` below stops the servers
    keep = workdir is not None
    if workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix=f"chatui-bench-{name}-"))
    workdir.mkdir(parents=True, exist_ok=True)
    provider = FakeProvider(workdir)
    server = ChatServer(workdir, provider.url, server_env, trace=RESULTS / f"{name}-trace.jsonl" if trace else None)
    if server.trace:
        RESULTS.mkdir(parents=True, exist_ok=True)
        server.trace.unlink(missing_ok=True)
    spy: subprocess.Popen[bytes] | None = None
    cap = CpuCap(server_cpu_share) if server_cpu_share else None
    try:
        provider.start()
        server.start()
        if cap is not None:
            cap.add(server.ps.pid)
        if profile:
            RESULTS.mkdir(parents=True, exist_ok=True)
            assert server.process is not None
            py_spy = Path(sys.executable).with_name("py-spy")
            output = RESULTS / f"{name}-pyspy.txt"
            command = [str(py_spy), "record", "-p", str(server.process.pid), "-r", "100", "--threads", "--nonblocking"]
            command += ["-f", "raw", *(["--idle"] if profile == "idle" else [])]
            if profile == "native":  # C frames need the process paused at each sample: it runs slower
                command = [c for c in command if c != "--nonblocking"] + ["--native"]
            spy = spawn([*command, "-o", str(output)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
            time.sleep(1)
        yield provider, server
    finally:
        server.stop()
        if cap is not None:
            cap.remove()
        if spy is not None:
            spy.wait(30)
        provider.stop()
        RESULTS.mkdir(parents=True, exist_ok=True)
        if server.log_path.exists():
            shutil.copy(server.log_path, RESULTS / f"{name}-server.log")
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


# -- measuring processes ------------------------------------------------------------------------------------------


@dataclass
class Usage:
    rss_start_mb: float
    rss_peak_mb: float
    rss_end_mb: float
    cpu_seconds: float
    wall_seconds: float
    peak_cpu_percent: float = 0.0
    """The highest CPU % over any 0.5 s window of the sampled period."""

    @property
    def cpu_percent(self) -> float:
        """CPU time over wall time, in % of one core (200 % = both cores of this machine)."""
        return 100 * self.cpu_seconds / self.wall_seconds if self.wall_seconds else 0.0

    def as_dict(self) -> dict[str, float]:
        return {
            "rss_start_mb": round(self.rss_start_mb, 1),
            "rss_peak_mb": round(self.rss_peak_mb, 1),
            "rss_end_mb": round(self.rss_end_mb, 1),
            "rss_growth_mb": round(self.rss_end_mb - self.rss_start_mb, 1),
            "cpu_seconds": round(self.cpu_seconds, 2),
            "cpu_percent": round(self.cpu_percent, 1),
            "peak_cpu_percent": round(self.peak_cpu_percent, 1),
        }


def machine_busy_seconds() -> float:
    """CPU seconds all processes of this machine have used since boot (every field but idle and iowait)."""
    times = psutil.cpu_times()
    total = sum(getattr(times, f) for f in times._fields if f not in ("guest", "guest_nice"))
    return total - times.idle - getattr(times, "iowait", 0.0)


def wait_quiet(threshold: float = 25.0, limit: float = 60.0, window: float = 2.0) -> float:
    """Wait (at most `limit` s) until the machine's CPU use over `window` s is below `threshold` % of one core, so
    that other work on the machine (a test suite, say) does not colour the figures. Returns the last reading."""
    busy = float("inf")
    for attempt in range(int(limit / window) + 1):
        start, t0 = machine_busy_seconds(), time.perf_counter()
        time.sleep(window)
        busy = 100 * (machine_busy_seconds() - start) / (time.perf_counter() - t0)
        if busy < threshold:
            break
        if attempt == 0:
            print(f"waiting for a quiet machine (CPU in use: {busy:.0f} % of one core)...", flush=True)
    return round(busy, 1)


class Sampler:
    """Samples RSS and CPU time of some processes every `interval` seconds in a thread, between start and stop."""

    def __init__(self, processes: dict[str, psutil.Process], interval: float = 0.1) -> None:
        self.processes = processes
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._peak = dict.fromkeys(processes, 0)
        self._start: dict[str, tuple[int, float]] = {}
        self._series: dict[str, list[tuple[float, float]]] = {name: [] for name in processes}
        self._t0 = 0.0

    @staticmethod
    def _read(process: psutil.Process) -> tuple[int, float]:
        with process.oneshot():
            times = process.cpu_times()
            return process.memory_info().rss, times.user + times.system

    def _run(self) -> None:
        for _ in range(int(3600 / self.interval)):  # bounded: an hour at most
            for name, process in self.processes.items():
                with contextlib.suppress(psutil.Error):
                    rss, cpu = self._read(process)
                    self._peak[name] = max(self._peak[name], rss)
                    self._series[name].append((time.perf_counter(), cpu))
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> Sampler:
        self._machine0 = machine_busy_seconds()
        self._t0 = time.perf_counter()
        self._start = {name: self._read(p) for name, p in self.processes.items()}
        self._peak = {name: rss for name, (rss, _) in self._start.items()}
        self._thread.start()
        return self

    def cpu_seconds_between(self, name: str, start: float, end: float) -> float:
        """CPU seconds process `name` used between two `time.perf_counter()` instants (to the nearest samples)."""
        inside = [(t, cpu) for t, cpu in self._series[name] if start <= t <= end]
        return inside[-1][1] - inside[0][1] if len(inside) > 1 else 0.0

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)
        wall = time.perf_counter() - self._t0
        machine = machine_busy_seconds() - self._machine0
        self.usage: dict[str, Usage] = {}
        for name, process in self.processes.items():
            rss, cpu = self._read(process)
            rss0, cpu0 = self._start[name]
            mb = 1024 * 1024
            peak = _peak_rate(self._series[name], 0.5)
            self.usage[name] = Usage(rss0 / mb, max(self._peak[name], rss) / mb, rss / mb, cpu - cpu0, wall, peak)
        ours = sum(u.cpu_seconds for u in self.usage.values())
        self.machine_cpu_percent = round(100 * machine / wall, 1)
        """All processes of the machine, in % of one core (this machine has os.cpu_count() cores)."""
        self.others_cpu_percent = round(100 * max(0.0, machine - ours) / wall, 1)
        """Processes other than the sampled ones (the probe's small share included)."""


def _peak_rate(series: list[tuple[float, float]], window: float) -> float:
    """Highest CPU % (CPU seconds per wall second) over any `window` seconds of a (time, cpu seconds) series."""
    best, j = 0.0, 0
    for i in range(len(series)):
        while j < len(series) and series[j][0] - series[i][0] < window:
            j += 1
        if j == len(series):
            break
        best = max(best, (series[j][1] - series[i][1]) / (series[j][0] - series[i][0]))
    return 100 * best


# -- accounts -----------------------------------------------------------------------------------------------------


@dataclass
class Account:
    username: str
    cookie: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Cookie": f"chatui_session={self.cookie}"}


async def create_accounts(base_url: str, count: int, prefix: str = "bench", concurrency: int = 8) -> list[Account]:
    """`count` accounts, each registered and signed in through the JSON API."""
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> Account:
        username = f"{prefix}{index:04d}"
        credentials = {"username": username, "password": PASSWORD}
        async with gate, httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            response = await client.post("/api/auth/register", json=credentials)
            assert response.status_code in (201, 409), response.text
            response = await client.post("/api/auth/login", json=credentials)
            assert response.status_code == 200, response.text
            return Account(username, response.cookies["chatui_session"])

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def create_conversations(base_url: str, accounts: Sequence[Account], concurrency: int = 8) -> list[str]:
    """One new conversation per account, in the same order."""
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:

        async def one(account: Account) -> str:
            async with gate:
                response = await client.post("/api/conversations", json={}, headers=account.headers)
                assert response.status_code == 201, response.text
                return str(response.json()["id"])

        return list(await asyncio.gather(*(one(a) for a in accounts)))


# -- one reply ----------------------------------------------------------------------------------------------------


@dataclass
class Reply:
    """Timings (time.perf_counter) and text of one reply, however it was obtained."""

    sent: float = 0.0
    first: float | None = None
    done: float | None = None
    tokens: list[str] = field(default_factory=list)
    status: str | None = None
    error: str | None = None

    @property
    def ttft(self) -> float | None:
        return None if self.first is None else self.first - self.sent

    @property
    def total(self) -> float | None:
        return None if self.done is None else self.done - self.sent


async def ws_reply(ws: ClientConnection, content: str, reply: Reply, limit: float = 60) -> Reply:
    """Send a message over an open `/ws` socket and read frames until its `done` (or an error without one)."""
    reply.sent = time.perf_counter()
    await ws.send(json.dumps({"type": "message", "content": content}))
    return await read_reply(ws, reply, limit)


async def aiohttp_ws_reply(ws: aiohttp.ClientWebSocketResponse, content: str, reply: Reply, limit: float = 60) -> Reply:
    """`ws_reply` on aiohttp's client, whose frame reader is compiled: cheaper per frame than `websockets`."""

    async def texts() -> AsyncIterator[str]:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                return
            yield message.data

    reply.sent = time.perf_counter()
    await ws.send_str(json.dumps({"type": "message", "content": content}))
    return await read_reply(texts(), reply, limit)


async def read_reply(frames: AsyncIterable[str | bytes], reply: Reply, limit: float) -> Reply:
    """Token frames into `reply` until its `done` (or an error without one), within `limit` seconds."""
    try:
        async with asyncio.timeout(limit):
            async for raw in frames:
                now = time.perf_counter()
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "token":
                    if reply.first is None:
                        reply.first = now
                    reply.tokens.append(frame["token"])
                elif kind == "done":
                    reply.done, reply.status = now, frame["status"]
                    return reply
                elif kind == "error":
                    reply.error = frame.get("code")
                    if reply.error != "provider_error":  # only a provider error is followed by `done`
                        return reply
    except TimeoutError:
        reply.error = reply.error or "client_timeout"
    return reply


async def direct_reply(client: httpx.AsyncClient, provider_url: str, content: str, reply: Reply) -> Reply:
    """The same request chatui makes, straight to the fake provider: `POST /api/chat`, NDJSON lines until done."""
    body = {"model": MODEL, "messages": [{"role": "user", "content": content}], "stream": True}
    reply.sent = time.perf_counter()
    async with client.stream("POST", f"{provider_url}/api/chat", json=body) as response:
        async for line in response.aiter_lines():
            if take_ndjson_line(reply, line):
                break
    return reply


def take_ndjson_line(reply: Reply, line: str | bytes) -> bool:
    """One line of Ollama's NDJSON stream into `reply` (its first token's time, its text); True at the last line."""
    if not line.strip():
        return False
    now = time.perf_counter()
    chunk = json.loads(line)
    text = (chunk.get("message") or {}).get("content") or ""
    if text:
        reply.first = reply.first or now
        reply.tokens.append(text)
    if chunk.get("done"):
        reply.done, reply.status = now, "done"
        return True
    return False


async def provider_reply(provider: OllamaProvider, content: str, reply: Reply) -> Reply:
    """The same stream read by chatui's own Ollama client (`OllamaProvider`), with nothing of chatui around it."""
    reply.sent = time.perf_counter()
    async for event in provider.stream([ChatMessage("user", content)], MODEL):
        now = time.perf_counter()
        if isinstance(event, TextDelta):
            if reply.first is None:
                reply.first = now
            reply.tokens.append(event.text)
        else:
            reply.done, reply.status = now, "done"
    return reply


def lost_tokens(expected: Sequence[str], received: Sequence[str]) -> int:
    """Tokens of the script that did not arrive (counted as a multiset; order is checked separately)."""
    return sum((Counter(expected) - Counter(received)).values())


# -- figures ------------------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def machine() -> dict[str, Any]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "ram_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def save(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), "when": time.strftime("%Y-%m-%d %H:%M:%S"), **data}, indent=2))
    return path


def markdown_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def trace_summary(trace: Path, start: float = float("-inf"), end: float = float("inf")) -> dict[str, dict[str, float]]:
    """Per step of a `bench.trace_server` trace, duration count/p50/p99/max (ms) of the calls that began in
    [start, end]. perf_counter is CLOCK_MONOTONIC on Linux, so client and server times compare."""
    durations: dict[str, list[float]] = {}
    for line in trace.read_text().splitlines():
        event = json.loads(line)
        if start <= event["start"] <= end:
            durations.setdefault(event["name"], []).append((event["end"] - event["start"]) * 1000)
    return {
        name: {
            "count": len(values),
            "p50": round(percentile(values, 50), 2),
            "p99": round(percentile(values, 99), 2),
            "max": round(max(values), 2),
            "total": round(sum(values), 1),
        }
        for name, values in sorted(durations.items())
    }


class PySpy:
    """py-spy sampling one process (100 Hz, per thread, without pausing it) for the duration of a `with` block."""

    def __init__(self, pid: int, name: str, idle: bool = False) -> None:
        self.output = RESULTS / f"{name}-pyspy.txt"
        self.command = [str(Path(sys.executable).with_name("py-spy")), "record", "-p", str(pid), "-r", "100"]
        self.command += [
            "--threads",
            "--nonblocking",
            "-f",
            "raw",
            "-o",
            str(self.output),
            *(["--idle"] if idle else []),
        ]
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> PySpy:
        RESULTS.mkdir(parents=True, exist_ok=True)
        self.process = spawn(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        time.sleep(1)  # py-spy attaches
        return self

    def __exit__(self, *_: object) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
            self.process.wait(30)


def parse_env(pairs: Sequence[str]) -> dict[str, str]:
    """`KEY=VALUE` strings (the `--server-env` option) as a dict."""
    return dict(pair.split("=", 1) for pair in pairs)


class Probe:
    """`bench.probe` in its own process for the duration of a `with` block; then `.samples` = [(sent, latency)]."""

    def __init__(self, url: str, name: str, interval: float = 0.05, limit: float = 600) -> None:
        self.url = url
        self.interval = interval
        self.limit = limit
        self.path = Path(tempfile.mkdtemp(prefix="chatui-bench-probe-")) / f"{name}.jsonl"
        self.process: subprocess.Popen[bytes] | None = None
        self.samples: list[tuple[float, float]] = []

    def __enter__(self) -> Probe:
        command = [sys.executable, "-m", "bench.probe", "--url", self.url, "--interval", str(self.interval)]
        command += ["--duration", str(self.limit), "--out", str(self.path)]
        self.process = spawn(command, cwd=ROOT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (self.path.exists() and self.path.stat().st_size):
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(10)
        self.samples = [tuple(json.loads(line)) for line in self.path.read_text().splitlines() if line]  # type: ignore[misc]
        shutil.rmtree(self.path.parent, ignore_errors=True)

    def latencies(self, start: float = float("-inf"), end: float = float("inf")) -> list[float]:
        """Latencies (s) of the requests sent in [start, end]; failed requests count as 30 s."""
        return [lat if lat >= 0 else 30.0 for sent, lat in self.samples if start <= sent <= end]

    def figures(self, start: float = float("-inf"), end: float = float("inf")) -> dict[str, float]:
        values = self.latencies(start, end)
        return {
            "count": len(values),
            "p50_ms": ms(percentile(values, 50)),
            "p99_ms": ms(percentile(values, 99)),
            "max_ms": ms(max(values)) if values else float("nan"),
        }
