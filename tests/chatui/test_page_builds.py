"""Pages are built a few at a time (`chatui.web.page_builds`): a burst of page loads takes turns, the API and the
assets never wait, and a slot is free again as soon as a page's response starts."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from nicegui import app
from nicegui.testing import User

from chatui.web.page_builds import PageBuildLimit
from testing.waiting import until

PAGES = ("/", "/chat/{conversation_id}", "/settings")


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
    limited = PageBuildLimit(inner, lambda: PAGES, at_once=2)
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
    limited = PageBuildLimit(inner, lambda: PAGES, at_once=1)
    paths = ["/chat/1", "/api/conversations", "/_nicegui/3.18.0/static/quasar.js", "/api/models", "/chat/2"]
    loads = [asyncio.create_task(get(limited, path)) for path in paths]
    await until(lambda: inner.entered == 4, what="the page, the API calls and the asset inside")
    inner.release.set()
    inner.body.set()
    await asyncio.gather(*loads)
    assert inner.entered == 5


async def test_a_slot_is_free_once_the_response_starts():
    inner = SlowApp()
    limited = PageBuildLimit(inner, lambda: PAGES, at_once=1)
    first = asyncio.create_task(get(limited, "/"))
    inner.release.set()  # the first page's response starts, its body still to come
    await until(lambda: inner.entered == 1 and inner.inside == 0, what="the first response started")
    second = asyncio.create_task(get(limited, "/settings"))
    await until(lambda: inner.entered == 2, what="the second page let in while the first still sends")
    inner.body.set()
    await asyncio.gather(first, second)


@pytest.mark.usefixtures("app_env")
async def test_the_app_takes_turns_for_the_pages_it_registers_and_nothing_else(user: User):
    await user.open("/login")  # the app has answered: Starlette has built its middleware stack
    layer: Any = app.middleware_stack
    while layer is not None and not isinstance(layer, PageBuildLimit):
        layer = getattr(layer, "app", None)
    assert isinstance(layer, PageBuildLimit)
    assert all(layer.takes_turns(path) for path in ("/", "/login", "/chat/0c0ffee0", "/s/abc", "/knowledge"))
    assert not any(layer.takes_turns(path) for path in ("/api/conversations", "/_nicegui/x/static/a.js", "/ws/1"))
