"""A few pages built at a time: a burst of page loads takes turns instead of holding the event loop all together.

Why: NiceGUI builds a page in Python on the event loop (its elements, then its HTML: a few milliseconds for a chat
page), after the awaits that read the page's data. When many pages open in the same moment (50 in
`python -m bench.ui_churn`; a team's first minute, a reconnect storm after a restart), their reads come back
together and their builds run one after the other in the same turn of the loop, so every reply streaming on another
page waited that long for its next token (lag max 120-260 ms, BENCHMARKS.md §26). Here a page request waits for one
of `AT_ONCE` slots before it reaches NiceGUI and gives it back when its response starts: a turn of the loop holds
at most a few builds, and the data reads of the next ones still overlap with them. A single page load never waits.

Only the pages' own routes (`GET` of a path NiceGUI registered with `@ui.page`, read at the first request, once
every page is registered) take a slot: not the API, NiceGUI's assets or its socket.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable

from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

AT_ONCE = 4
"""Pages built at the same time; each takes a few milliseconds of the loop once its data is read."""


class PageBuildLimit:
    def __init__(self, app: ASGIApp, paths: Callable[[], Iterable[str]], at_once: int = AT_ONCE) -> None:
        self.app = app
        self._paths = paths
        self._pages: list[re.Pattern[str]] | None = None
        self._slots = asyncio.Semaphore(at_once)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not self.takes_turns(scope["path"]):
            await self.app(scope, receive, send)
            return
        await self._slots.acquire()
        held = True

        def give_back() -> None:
            nonlocal held
            if held:
                held = False
                self._slots.release()

        async def send_then_give_back(message: Message) -> None:
            if message["type"] == "http.response.start":
                give_back()
            await send(message)

        try:
            await self.app(scope, receive, send_then_give_back)
        finally:
            give_back()

    def takes_turns(self, path: str) -> bool:
        """Whether a `GET` of `path` waits for a slot (a page's route)."""
        if self._pages is None:
            self._pages = [compile_path(page)[0] for page in self._paths()]
        return any(pattern.match(path) for pattern in self._pages)
