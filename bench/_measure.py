"""Measuring processes: CPU and memory sampled in a thread, the machine's own load (and waiting for it to be quiet),
and the latency probe (`bench.probe`) in a process of its own."""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench._processes import spawn
from bench._report import ROOT, ms, percentile


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
