"""Figures and result files of the benchmarks: percentiles, the machine they ran on, JSON results, Markdown tables,
and the summary of a `bench.trace_server` trace."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


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
