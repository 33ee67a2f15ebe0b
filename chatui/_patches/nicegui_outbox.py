"""A page's first update goes out the moment its socket connects, not up to 100 ms later.

NiceGUI's outbox (one loop per page) looks for the page's socket every 100 ms until it is there (`Outbox.loop`:
`await asyncio.sleep(0.1)` while `client.has_socket_connection` is false), and a new loop starts in that state. So
whatever a page sends once connected — the model list, a restored draft, the first tokens of a reply that was
already streaming — waited 0-100 ms after the handshake: 62 ms median when opening a conversation
(`bench.long_chat`'s server open: 38 ms of HTML, 4 ms of socket.io handshake, then 62 ms of nothing).

`send_on_connect()` makes each new loop wait for the handshake itself (`Client._connected`, the event NiceGUI sets
when the socket is in) and only then run NiceGUI's own loop, which finds the socket there and sends at once. It does
not call `client.connected()`: that also tells the page builder that the page awaits its socket, and NiceGUI then
serves a page before it is built. A reconnecting page keeps NiceGUI's polling (the loop is already running then).

`stop_outboxes_at_shutdown(app)` ends every page's loop at shutdown before NiceGUI's teardown cancels it. On Python
3.11, `asyncio.wait_for` drops a cancellation that lands in the turn where what it waits for completes, and NiceGUI's
loop waits on `wait_for(enqueue_event.wait(), 1.0)` while the teardown deletes pages (which sets that event): the
loop then ran on, and the teardown gave up on it after its 2 s timeout — every stop of a server with pages open, and
the teardown of a page test (2 s each in `pytest --durations`). `Outbox.stop()` (public) makes the loop end itself.

What breaks on upgrade: it replaces `nicegui.outbox.Outbox.loop` and reads the private `Outbox._should_stop` and
`Client._connected`. Renamed, they would raise `AttributeError` inside every page's outbox task (pages stop
updating, and only the browser tests would see it), so `tests/test_framework_contract.py` names each of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable, Coroutine
from typing import Any

from nicegui import App, Client
from nicegui.outbox import Outbox

from chatui._patches.marks import marked, replace

WAKE_CHECK_SECONDS = 1.0
"""How often a page that never connects looks whether it was deleted meanwhile (deletion also wakes it)."""


def send_on_connect() -> None:
    """Install the wait before NiceGUI's outbox loop (once: `create_app` runs for every test of the `user` fixture)."""
    if marked(Outbox.loop, "waits_for_connection"):
        return
    replace(Outbox, "loop", _after_connection(Outbox.loop), "waits_for_connection")


def _after_connection(loop: Callable[[Outbox], Coroutine[Any, Any, None]]) -> Callable[[Outbox], Any]:
    @functools.wraps(loop)  # NiceGUI's loop stays reachable as `__wrapped__` (the contract test reads it)
    async def loop_after_connection(outbox: Outbox) -> None:
        while not outbox._should_stop:  # set by Outbox.stop() when the client is deleted
            try:
                client = outbox.client
            except RuntimeError:  # the client is gone
                return
            if client.has_socket_connection:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(client._connected.wait(), WAKE_CHECK_SECONDS)
            del client  # hold no reference while the next check may find the client deleted
        await loop(outbox)

    return loop_after_connection


def stop_outboxes_at_shutdown(app: App) -> None:
    """Register, before NiceGUI's start adds its task teardown, a shutdown handler that stops every page's outbox."""
    app.on_shutdown(_stop_every_outbox)


def _stop_every_outbox() -> None:
    for client in list(Client.instances.values()):
        client.outbox.stop()
