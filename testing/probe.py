"""What a server's other users feel while something heavy runs: `/api/health` polled from a thread of its own, and
the server's memory (RSS) sampled, for the attack tests (tests/transfer/test_import_attacks.py) and
`bench.import_attacks`.

The poller runs in a thread with a plain client, so the measurement does not depend on the event loop of whoever
drives the attack.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType

import httpx
import psutil

POLL_SECONDS = 0.02


@dataclass
class Felt:
    """Health-check latencies (seconds) and the server's RSS (bytes) over the probe."""

    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    rss_before: int = 0
    rss_peak: int = 0

    @property
    def p95(self) -> float:
        """Nearest rank: a latency that was measured (never above the worst)."""
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] if ordered else 0.0

    @property
    def worst(self) -> float:
        return max(self.latencies, default=0.0)

    @property
    def rss_growth(self) -> int:
        return max(0, self.rss_peak - self.rss_before)

    def summary(self) -> str:
        return (
            f"health p95 {self.p95 * 1000:.0f} ms, max {self.worst * 1000:.0f} ms over {len(self.latencies)} checks "
            f"({self.failures} failed); RSS +{self.rss_growth / 1024**2:.0f} MB"
        )


class HealthProbe:
    """`with HealthProbe(url, pid) as felt:` polls `url/api/health` (or `path`) and samples `pid`'s RSS until the
    block ends."""

    def __init__(
        self, base_url: str, pid: int, *, path: str = "/api/health", cookies: dict[str, str] | None = None
    ) -> None:
        self.base_url = base_url
        self.path = path
        """What is polled: `/api/health` (the event loop alone), or a signed-in user's route (`cookies`) that also
        waits for the database."""
        self.cookies = cookies
        self.process = psutil.Process(pid)
        self.felt = Felt()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="health-probe", daemon=True)

    def __enter__(self) -> Felt:
        self.felt.rss_before = self.felt.rss_peak = self.process.memory_info().rss
        self._thread.start()
        return self.felt

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(10)

    def _poll(self) -> None:
        felt = self.felt
        with httpx.Client(base_url=self.base_url, timeout=30, cookies=self.cookies) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    ok = client.get(self.path).status_code == 200
                except httpx.HTTPError:
                    ok = False
                felt.latencies.append(time.perf_counter() - started)
                felt.failures += not ok
                with contextlib.suppress(psutil.Error):  # the server is gone: the test will say so
                    felt.rss_peak = max(felt.rss_peak, self.process.memory_info().rss)
                self._stop.wait(POLL_SECONDS)
