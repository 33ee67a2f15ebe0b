"""A page whose session ends gets its navigation to `/login` before its client is deleted, even when its outbox is
in the middle of sending an earlier batch (`chatui/_patches/outbox_progress.py`): NiceGUI's own outbox loop, on a
real client, with socket.io's `emit` recorded (and the first one held, as a slow socket would)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from nicegui import Client, core, ui
from nicegui.functions.navigate import navigate
from nicegui.page import page

from chatui._patches import delete_after


@pytest.fixture(autouse=True)
async def nicegui_as_served(monkeypatch: pytest.MonkeyPatch) -> None:
    """NiceGUI's background tasks run on `core.loop`, which only a served app sets: this test's loop. And its own
    `ui.navigate`: the `user` fixture of an earlier page test in this process leaves its simulated one there."""
    monkeypatch.setattr(core, "loop", asyncio.get_running_loop())
    monkeypatch.setattr(ui, "navigate", navigate)


class Socket:
    """What socket.io was asked to send, in order; the first send waits until `release`d, and each takes a while
    (longer than the 50 ms an earlier version of `delete_after` polled in)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.first_taken = asyncio.Event()
        self.release = asyncio.Event()

    async def emit(self, event: str, data: dict[str, Any], room: str) -> None:
        if not self.first_taken.is_set():
            self.first_taken.set()
            await self.release.wait()
        await asyncio.sleep(0.1)
        self.sent.append((event, data))


async def test_the_navigation_leaves_before_the_client_is_deleted_with_a_batch_in_flight(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    socket = Socket()
    monkeypatch.setattr(core.sio, "emit", socket.emit)
    monkeypatch.setattr(core.app.config, "message_history_length", 1000, raising=False)  # what `ui.run` sets
    client = Client(page("/delete-after", reconnect_timeout=3.0))
    with client:
        ui.label("before")
        client.run_javascript("document.title")  # a batch of two: the page's first update, then this message
    client.tab_id = "tab"  # a socket is connected (what `handle_handshake` sets): the outbox sends
    deleted = asyncio.Event()
    client.on_delete(deleted.set)
    async with asyncio.timeout(5):
        await socket.first_taken.wait()  # the loop took that batch off its queues and is sending it
    delete_after(client, lambda: ui.navigate.to("/login"))
    socket.release.set()
    async with asyncio.timeout(5):
        await deleted.wait()
    assert [event for event, _ in socket.sent] == ["update", "run_javascript", "open"]
    assert socket.sent[-1][1]["path"] == "/login"


async def test_a_page_that_never_sends_is_deleted_after_the_patience() -> None:
    client = Client(page("/delete-after-silent"))  # no socket: the outbox never sends
    deleted = asyncio.Event()
    client.on_delete(deleted.set)
    delete_after(client, lambda: ui.navigate.to("/login"), patience=0.05)
    async with asyncio.timeout(5):
        await deleted.wait()
    assert client.is_deleted
