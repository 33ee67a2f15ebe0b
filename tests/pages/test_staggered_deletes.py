"""Pages whose sockets close together are deleted one after another, `SPACING` apart, not all in one turn of the
event loop (`chatui/_patches/staggered_deletes.py`): NiceGUI's own disconnect handling, on real clients."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from nicegui import Client, core
from nicegui.page import page

from chatui._patches.staggered_deletes import SPACING, stagger_page_deletions

TIMEOUT = 0.05


@pytest.fixture(autouse=True)
async def nicegui_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """NiceGUI's background tasks run on `core.loop`, which only a served app sets: this test's loop."""
    monkeypatch.setattr(core, "loop", asyncio.get_running_loop())


def connected(route: page, number: int) -> Client:
    """A client of `route` as NiceGUI holds it once one socket connected (what `handle_connect` records)."""
    client = Client(route)
    client._socket_to_document_id[f"socket-{number}"] = f"document-{number}"
    client._num_connections[f"document-{number}"] = 1
    return client


async def test_pages_closed_together_are_deleted_apart_and_none_before_its_reconnect_timeout() -> None:
    stagger_page_deletions()
    loop = asyncio.get_running_loop()
    route = page("/staggered-deletes", reconnect_timeout=TIMEOUT)
    clients = [connected(route, n) for n in range(6)]
    deleted: dict[str, float] = {}
    all_deleted = asyncio.Event()

    def note(client: Client) -> None:
        deleted.setdefault(client.id, loop.time())
        if len(deleted) == len(clients):
            all_deleted.set()

    for client in clients:
        client.on_delete(lambda c=client: note(c))
    closed = loop.time()
    for number, client in enumerate(clients):  # six tabs closed in the same instant
        client.handle_disconnect(f"socket-{number}")
    async with asyncio.timeout(5):
        await all_deleted.wait()
    times = sorted(deleted.values())
    assert times[0] - closed >= TIMEOUT
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= SPACING / 2, gaps  # each in a turn of its own (a late wake-up may shorten one gap)
    assert all(client.is_deleted for client in clients)


async def test_a_page_that_reconnects_in_time_is_kept_and_other_readers_get_the_plain_timeout() -> None:
    stagger_page_deletions()
    route = page("/staggered-kept", reconnect_timeout=TIMEOUT)
    client = connected(route, 0)
    client.handle_disconnect("socket-0")
    client._num_connections["document-0"] += 1  # the browser came back (what `handle_handshake` counts)
    await asyncio.sleep(TIMEOUT + 5 * SPACING)
    assert not client.is_deleted
    assert route.resolve_reconnect_timeout() == TIMEOUT  # the outbox's reading, outside a deletion task
    client.delete()
