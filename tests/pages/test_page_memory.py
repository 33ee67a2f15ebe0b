"""A closed chat page is freed the moment it closes (reference counting), not left in cycles for a full garbage
collection: with 100 pages closed, that collection stopped the server for 300-375 ms (BENCHMARKS.md §4). And so a
page frozen out of the collector while open (`chatui/bootstrap/collector.py`) is freed all the same: nothing of it
is left in the permanent generation, where no collection would find it. (The page's socket: `test_socket_memory`.)"""

from __future__ import annotations

import asyncio
import gc
import weakref

import pytest
from nicegui import Client
from nicegui.testing import User

from chatui.bootstrap.collector import Collector
from chatui.ui.chat.view import ChatView
from testing.fakes.server import Script
from tests.pages.test_chat_flow import register_and_sign_in, send

pytestmark = pytest.mark.usefixtures("app_env")

REPLY = ["## Streams\n\n", "A first", " paragraph.\n\n", "- one\n", "- two\n\n", "```python\nx = 1\n```\n\n", "End."]


def close(client: Client) -> list[weakref.ref[object]]:
    """Close the page as a closed tab does (NiceGUI deletes its client); weak references to its client, its view,
    every element it had and their props, style and classes. Also undone: the simulated browser's own cycle (the
    `user` fixture wraps each page's `Outbox._emit` in a closure over the bound original), which no real page
    has."""
    views = [v for v in gc.get_objects() if isinstance(v, ChatView) and v.client is client]
    elements = list(client.elements.values())
    collections = [c for e in elements for c in (e._props, e._style, e._classes)]  # each its own cycle, unbroken
    refs: list[weakref.ref[object]] = [weakref.ref(o) for o in [client, *views, *elements, *collections]]
    client.delete()
    vars(client.outbox).pop("_emit", None)
    return refs


async def still_alive(refs: list[weakref.ref[object]], within: float = 5.0) -> list[object]:
    """What `refs` still point to once all are freed or `within` seconds have passed (the pages' tasks end first)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while (left := [thing for ref in refs if (thing := ref()) is not None]) and loop.time() < deadline:
        del left
        await asyncio.sleep(0.05)
    return left


async def test_closed_chat_pages_are_freed_without_the_cyclic_collector(user: User, fake_ollama) -> None:
    await register_and_sign_in(user)
    closed: list[weakref.ref[object]] = []
    gc.collect()
    gc.disable()  # from here only reference counting frees anything
    try:
        for _ in range(2):  # a streamed reply: its bubble's elements are replaced as the blocks arrive
            fake_ollama.then(Script(tokens=REPLY, delay=0.01))
            await user.open("/")
            await send(user, "Write some Markdown.")
            await user.should_see("End.", retries=50)
            closed += close(user.client)
        conversation_id = (await user.http_client.get("/api/conversations")).json()[0]["id"]
        for _ in range(3):  # stored messages: the sidebar, the picker, the message list
            await user.open(f"/chat/{conversation_id}")
            await user.should_see("End.", retries=20)
            closed += close(user.client)
        await user.open("/")  # the simulated browser holds on to its current page: a live one
        assert len(closed) > 5 * 50
        left = await still_alive(closed)
        assert left == [], f"{len(left)} objects of closed pages wait for the cyclic collector, e.g. {left[:5]}"
    finally:
        gc.enable()


def frozen(thing: object) -> bool:
    """Tracked by the collector but in none of its generations: in the permanent one, which no collection walks."""
    return gc.is_tracked(thing) and not any(other is thing for other in gc.get_objects())


async def test_pages_the_collector_froze_are_freed_when_they_close(user: User, fake_ollama) -> None:
    await register_and_sign_in(user)
    collector = Collector()
    collector.start()  # as the server does: survivors of every full collection are frozen
    closed: list[weakref.ref[object]] = []
    try:
        for _ in range(3):
            fake_ollama.then(Script(tokens=REPLY, delay=0.01))
            await user.open("/")
            await send(user, "Write some Markdown.")
            await user.should_see("End.", retries=50)
            gc.collect()  # a full collection, as the thresholds start them
            views = [v for v in gc.get_objects() if isinstance(v, ChatView)]  # none: frozen, with their client
            assert views == [] and frozen(user.client) and frozen(next(iter(user.client.elements.values())))
            closed += close(user.client)
        await user.open("/")
        left = await still_alive(closed)  # no collection can free a frozen object: only reference counting
        assert left == [], f"{len(left)} objects of closed pages stay frozen for good, e.g. {left[:5]}"
    finally:
        collector.stop()
        gc.unfreeze()  # the test process's own state again: what lives frozen, as `tests/conftest.py` left it
        gc.collect()
        gc.freeze()
