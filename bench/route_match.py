"""How long FastAPI takes to match a `/ws` handshake's path against chatui's API routers, with `/ws` included last or
first (chatui/app.py includes it first; BENCHMARKS.md §26).

    python -m bench.route_match
"""

from __future__ import annotations

import statistics
import time

from fastapi import FastAPI
from starlette.routing import Match

from chatui.api import ws
from chatui.app import API_MODULES

PATH = "/ws/0c0ffee0-0000-4000-8000-000000000000"


def match_microseconds(app: FastAPI, repeat: int = 3000) -> float:
    """Median time for the app's router to find the route that fully matches a `/ws` handshake."""
    times = []
    for _ in range(repeat):
        scope = {"type": "websocket", "path": PATH, "root_path": "", "headers": [], "query_string": b""}
        started = time.perf_counter()
        for route in app.router.routes:
            if route.matches(scope)[0] == Match.FULL:
                break
        times.append((time.perf_counter() - started) * 1e6)
    return statistics.median(times)


def main() -> None:
    others = [module for module in API_MODULES if module is not ws]
    for label, order in (("/ws last", [*others, ws]), ("/ws first", [ws, *others])):
        app = FastAPI()
        for module in order:
            app.include_router(module.router)
        print(f"{label}: {match_microseconds(app):.1f} µs to match a handshake's path")


if __name__ == "__main__":
    main()
