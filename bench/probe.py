"""Event-loop lag of the server, seen from outside: `GET /api/health` every 50 ms, one request at a time.

    python -m bench.probe --url http://127.0.0.1:8001 --interval 0.05 --duration 60 --out probe.jsonl

Runs in its own process (so the benchmark client's own event loop does not colour the figures) over one kept-alive
HTTP/1.1 connection. Each line of the output is `[sent, latency]` in seconds (time.perf_counter, CLOCK_MONOTONIC, so
comparable with the other processes' clocks). `/api/health` does no I/O, so its latency is the time the request
waits for the server's event loop plus a small constant (the idle latency, measured before the load). A request
that takes longer than the interval delays the next one (no pile-up). Stops after `duration` or on SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import http.client
import signal
import time
from urllib.parse import urlsplit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--interval", type=float, default=0.05)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    stop = False

    def on_signal(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    parts = urlsplit(args.url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=30)
    start = time.perf_counter()
    with open(args.out, "w", buffering=1) as out:
        for index in range(int(args.duration / args.interval)):
            if stop:
                break
            delay = start + index * args.interval - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sent = time.perf_counter()
            try:
                connection.request("GET", "/api/health")
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
            out.write(f"[{sent}, {time.perf_counter() - sent if ok else -1}]\n")


if __name__ == "__main__":
    main()
