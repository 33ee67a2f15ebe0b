"""Delete a page's client only once its last message has left: NiceGUI's outbox tells this page when it sent it.

What it relies on: deleting a NiceGUI client stops its outbox at once, dropping whatever is still queued, and the
outbox says nothing when it has sent. A page whose session ended must still receive its navigation to `/login`
before its client is deleted (`chatui.ui.guard`). So `delete_after` takes the message that navigation queued (the
last of `Outbox.messages`) and wraps this one outbox's `_emit`, which the outbox's loop awaits for each message it
sends: once `_emit` has sent that very message, the client is deleted (or after `patience` seconds, if the page
never takes it: its socket is gone).

Counting instead does not hold: an earlier version computed where `Outbox.next_message_id` would be once everything
queued had gone, but a batch the loop has already taken off its queues and is still sending is in no queue: the
count was reached while that batch went out, the client was deleted, and its stopped outbox never took the
navigation (seen once in CI, on a loaded machine, right after a page connected; `tests/pages/test_delete_after.py`
holds such a batch in flight, and fails on the count).

What breaks on upgrade: a navigation that queues no message, or an outbox that sends without `_emit`, deletes the
client only after `patience` (`tests/test_framework_contract.py` names both; `tests/security/
test_revoked_pages.py` waits for the navigation).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from nicegui import Client, background_tasks
from nicegui.outbox import Message


def delete_after(client: Client, last_message: Callable[[], None], patience: float = 3.0) -> None:
    """Run `last_message` in the page's context (it queues ONE message, such as a navigation), then delete the
    page's client once its outbox has sent that message (or after `patience` seconds)."""
    outbox = client.outbox
    queued_before = len(outbox.messages)
    with client:
        last_message()
    sent = asyncio.Event()
    if len(outbox.messages) > queued_before:
        message = outbox.messages[-1]
        emit = outbox._emit

        async def emit_and_note(queued: Message) -> None:
            await emit(queued)
            if queued is message:
                sent.set()

        outbox._emit = emit_and_note  # type: ignore[method-assign]  # this page's outbox only; it is deleted next
    # Else nothing was queued (NiceGUI's simulated `user` of the tests navigates without the outbox): the client is
    # deleted after `patience`, once the page's own handler has surely finished with it.
    background_tasks.create(_delete_when_sent(client, sent, patience), name=f"drop page {client.id}")


async def _delete_when_sent(client: Client, sent: asyncio.Event, patience: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(patience):
            await sent.wait()
    if not client.is_deleted and client.id in Client.instances:
        client.delete()
