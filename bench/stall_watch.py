"""What holds the event loop when it stalls (diagnosis only; started by `bench.trace_server`).

    CHATUI_BENCH_STALLS=/tmp/stalls.jsonl python -m bench.ui_pages --n 100 --server-env ...
    python -m bench.stall_watch /tmp/stalls.jsonl

In the server, a heartbeat task sleeps 5 ms at a time and records how late each wake-up was: that lateness is the
event-loop lag itself, as a callback scheduled on the loop sees it. A thread watches the heartbeat; while it is more
than 20 ms overdue, the thread samples the loop thread's stack every 2 ms. Both go to the file: one line per second
of lag figures (`{"lag": [...ms]}`), one line per stack sample during a stall (`{"t", "age", "stack"}`) and one
per full garbage collection (`{"gc_ms", ...}`), and what the collector holds a second after start-up and at exit
(`{"start" | "exit": {"frozen", "walked"}}`: `frozen` counts the objects no collection walks).

The summary prints the lag percentiles and, for the stall samples, the functions that appear most often (each
counted once per sample), so one can see which code runs while the loop is late.
"""

from __future__ import annotations

import asyncio
import atexit
import gc
import json
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import TextIO

TICK = 0.005
STALL = 0.020
SAMPLE = 0.002


class StallWatch:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.beat = time.perf_counter()
        self.loop_thread = threading.get_ident()
        self.lags: list[float] = []

    async def heartbeat(self) -> None:
        await asyncio.sleep(1.0)  # the app's own start-up handlers have run (chatui's collector froze start-up)
        self.count("start")
        last_flush = time.perf_counter()
        while True:
            before = time.perf_counter()
            await asyncio.sleep(TICK)
            self.beat = now = time.perf_counter()
            self.lags.append((now - before - TICK) * 1000)
            if now - last_flush >= 1.0:
                self.out.write(json.dumps({"t": now, "lag": [round(x, 2) for x in self.lags]}) + "\n")
                self.lags, last_flush = [], now

    def on_gc(self, phase: str, info: dict[str, int]) -> None:
        """Time every collection of the oldest generation (the ones that can pause the loop for long)."""
        if info["generation"] != 2:
            return
        if phase == "start":
            self.gc_start = time.perf_counter()
        else:
            ms = (time.perf_counter() - self.gc_start) * 1000
            self.out.write(json.dumps({"t": time.perf_counter(), "gc_ms": round(ms, 1), **info}) + "\n")

    def count(self, when: str) -> None:
        """What the collector holds: frozen objects (no collection walks them) and the others. Only at start and at
        exit: counting the frozen ones walks their list (milliseconds with the loop held)."""
        self.out.write(json.dumps({when: {"frozen": gc.get_freeze_count(), "walked": len(gc.get_objects())}}) + "\n")

    def watch(self) -> None:
        while True:
            time.sleep(SAMPLE)
            age = time.perf_counter() - self.beat
            if age < STALL:
                continue
            frame = sys._current_frames().get(self.loop_thread)
            stack = []
            while frame is not None:
                code = frame.f_code
                stack.append(f"{code.co_name} ({Path(code.co_filename).name}:{frame.f_lineno})")
                frame = frame.f_back
            self.out.write(json.dumps({"t": time.perf_counter(), "age": round(age * 1000, 1), "stack": stack}) + "\n")


def start(path: str) -> None:
    """Call on the server's loop (a NiceGUI startup handler)."""
    watch = StallWatch(open(path, "a", buffering=1))  # noqa: SIM115 - open for the process's lifetime
    gc.callbacks.append(watch.on_gc)
    atexit.register(watch.count, "exit")
    threading.Thread(target=watch.watch, daemon=True, name="stall-watch").start()
    asyncio.get_running_loop().create_task(watch.heartbeat())


def _function(frame: str) -> str:
    return frame.split(" (")[0] + " (" + frame.split(" (")[1].split(":")[0] + ")"


def summarize(path: Path, top: int = 40) -> None:
    lags: list[float] = []
    samples = 0
    functions: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        event = json.loads(line)
        if "lag" in event:
            lags.extend(event["lag"])
            continue
        if "gc_ms" in event:
            print(f"full collection: {event['gc_ms']} ms, {event['collected']} collected")
            continue
        if "start" in event or "exit" in event:
            print(f"collector: {event}")
            continue
        samples += 1
        seen = {_function(f) for f in event["stack"]}
        functions.update(seen)
        if event["stack"]:
            leaves[_function(event["stack"][0])] += 1
    lags.sort()
    if lags:
        pick = lambda q: lags[min(len(lags) - 1, int(q * len(lags)))]  # noqa: E731
        print(f"heartbeat lag ms: n={len(lags)} p50={pick(0.5):.1f} p99={pick(0.99):.1f} max={lags[-1]:.1f}")
    print(f"stall samples: {samples}")
    print("\nfunctions on the stack during stalls (share of samples):")
    for name, count in functions.most_common(top):
        print(f"  {count / max(samples, 1):6.1%}  {name}")
    print("\nleaf functions:")
    for name, count in leaves.most_common(15):
        print(f"  {count / max(samples, 1):6.1%}  {name}")


if __name__ == "__main__":
    summarize(Path(sys.argv[1]))
