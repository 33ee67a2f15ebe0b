"""Pages are built a few at a time (`chatui.web.page_builds`): a burst of page loads takes turns, the API and the
assets never wait, and a slot is free again as soon as a page's response starts."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from chatui.ui.routes import PAGE_PATHS
from chatui.web.page_builds import PageBuildLimit
from testing.waiting import until


class SlowApp:
    """An ASGI app that answers each request once `release` is set, counting the requests inside it."""

    def __init__(self) -> None:
        self.inside = 0
        self.entered = 0
        self.release = asyncio.Event()
        self.body = asyncio.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.inside += 1
        self.entered += 1
        try:
            await self.release.wait()
            await send({"type": "http.response.start", "status": 200, "headers": []})
        finally:
            self.inside -= 1
        await self.body.wait()
        await send({"type": "http.response.body", "body": b"ok"})


async def get(app: Any, path: str) -> list[dict]:
    scope = {"type": "http", "method": "GET", "path": path, "headers": [], "query_string": b""}
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


async def test_a_burst_of_page_loads_is_built_two_at_a_time_and_every_page_is_answered():
    inner = SlowApp()
    limited = PageBuildLimit(inner, PAGE_PATHS, at_once=2)
    loads = [asyncio.create_task(get(limited, f"/chat/{index}")) for index in range(5)]
    await until(lambda: inner.entered == 2, what="two pages building")
    await asyncio.sleep(0)  # the others had their turn to enter, and did not
    assert inner.entered == 2
    inner.release.set()
    inner.body.set()
    answers = await asyncio.gather(*loads)
    assert inner.entered == 5 and all(answer[-1]["body"] == b"ok" for answer in answers)


async def test_the_api_and_assets_never_wait_for_a_page_slot():
    inner = SlowApp()
    limited = PageBuildLimit(inner, PAGE_PATHS, at_once=1)
    paths = ["/chat/1", "/api/conversations", "/_nicegui/3.18.0/static/quasar.js", "/api/models", "/chat/2"]
    loads = [asyncio.create_task(get(limited, path)) for path in paths]
    await until(lambda: inner.entered == 4, what="the page, the API calls and the asset inside")
    inner.release.set()
    inner.body.set()
    await asyncio.gather(*loads)
    assert inner.entered == 5


async def test_a_slot_is_free_once_the_response_starts():
    inner = SlowApp()
    limited = PageBuildLimit(inner, PAGE_PATHS, at_once=1)
    first = asyncio.create_task(get(limited, "/"))
    inner.release.set()  # the first page's response starts, its body still to come
    await until(lambda: inner.entered == 1 and inner.inside == 0, what="the first response started")
    second = asyncio.create_task(get(limited, "/settings"))
    await until(lambda: inner.entered == 2, what="the second page let in while the first still sends")
    inner.body.set()
    await asyncio.gather(first, second)


def test_every_page_the_app_registers_is_one_that_takes_turns():
    source = (Path(__file__).parents[2] / "chatui" / "ui" / "routes.py").read_text()
    registered = re.findall(r'@(?:ui\.page\(|signed_in_page\(guard, )"([^"]+)"', source)
    assert sorted(registered) == sorted(PAGE_PATHS)
