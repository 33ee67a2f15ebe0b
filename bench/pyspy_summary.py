"""Summarize py-spy's collapsed stacks (`py-spy record -f raw --threads`) of the chatui server.

    python -m bench.pyspy_summary bench/results/concurrent_ws-profile-pyspy.txt [--top 25]

Prints the samples per thread, then for the busiest thread (the event loop): the share of samples by area of code
(each sample goes to the innermost frame that belongs to an area, so shares add up to 100 %) and the functions
with the most self samples. "event loop (C)" is time with no Python frame above `Runner.run`: uvloop's own C code
(polling, callbacks, transports).
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

AREAS = {  # checked from the innermost frame outwards; the first frame that matches any area takes the sample
    "json encode/decode": ("json/", "orjson"),
    "Markdown rendering (markdown-it, chatui/ui/rendering.py)": ("markdown_it/", "chatui/ui/rendering.py"),
    "database (sqlalchemy + sqlite3/psycopg + storage/)": ("sqlalchemy/", "sqlite3/", "psycopg/", "storage/"),
    "websocket protocol (wsproto + uvicorn wsproto_impl)": ("wsproto/", "wsproto_impl.py"),
    "socket.io / engine.io": ("socketio/", "engineio/"),
    "NiceGUI (outbox, elements, bindings, client)": ("nicegui/",),
    "provider client (httpx/httpcore/anyio, providers/)": ("httpx/", "httpcore/", "anyio/", "providers/", "h11/"),
    "chat page (chatui/ui)": ("chatui/ui/",),
    "/ws handler (chatui/api/ws.py)": ("chatui/api/ws.py",),
    "engine (chatui/engine/engine.py, generation.py)": ("chatui/engine/engine.py", "chatui/engine/generation.py"),
    "HTTP serving (uvicorn http, starlette, fastapi)": ("httptools_impl.py", "starlette/", "fastapi/", "uvicorn/"),
    "asyncio (Python part)": ("asyncio/",),
}


def area_of(frames: list[str]) -> str:
    if "Runner.run" in frames[-1] or "run_until_complete" in frames[-1]:
        return "event loop (C)"
    for frame in reversed(frames):
        for area, needles in AREAS.items():
            if any(n in frame for n in needles):
                return area
    return "other"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    threads: Counter[str] = Counter()
    stacks: list[tuple[str, list[str], int]] = []
    for line in args.file.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        threads[frames[0]] += int(count)
        stacks.append((frames[0], frames[1:], int(count)))
    print("samples per thread:")
    for thread, count in threads.most_common(8):
        print(f"  {count:7d}  {thread}")
    loop_thread = threads.most_common(1)[0][0]
    total = threads[loop_thread]
    by_area: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for thread, frames, count in stacks:
        if thread != loop_thread or not frames:
            continue
        by_area[area_of(frames)] += count
        own[frames[-1]] += count
    print(f"\nbusiest thread {loop_thread}: {total} samples (100 Hz: {total / 100:.1f} s of CPU)")
    print("share by area (innermost matching frame):")
    for area, count in by_area.most_common():
        print(f"  {100 * count / total:5.1f} %  {area}")
    print(f"\ntop {args.top} functions by self samples:")
    for frame, count in own.most_common(args.top):
        print(f"  {100 * count / total:5.1f} %  {frame}")


if __name__ == "__main__":
    main()
