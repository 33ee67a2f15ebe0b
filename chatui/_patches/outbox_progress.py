"""Delete a page's client only once its last message has left: read from the counters of NiceGUI's outbox.

What it relies on: deleting a NiceGUI client stops its outbox at once, dropping whatever is still queued, and the
outbox says nothing when it has sent. A page whose session ended must still receive its navigation to `/login`
before its client is deleted (`chatui.ui.guard`), so this counts where the outbox will be once everything queued
now, plus that one message, has gone out: `Outbox.next_message_id` (the id of the next message to send) plus the
queued `messages`, plus one message for pending element `updates` (they go out together), plus one. Then it looks
every 50 ms, for at most `patience` seconds, whether `next_message_id` got there.

What breaks on upgrade: renamed counters are an `AttributeError` when a session ends (`tests/security/
test_revoked_pages.py`, and `tests/test_framework_contract.py` names them); counters that mean something else would
delete the client late (after `patience`) or early (the page is not sent to `/login` but its events are still
refused).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from nicegui import Client, background_tasks

POLL_SECONDS = 0.05


def delete_after(client: Client, last_message: Callable[[], None], patience: float = 3.0) -> None:
    """Run `last_message` in the page's context (it queues ONE message, such as a navigation), then delete the
    page's client once its outbox has sent that message (or after `patience` seconds)."""
    outbox = client.outbox
    sent_by = outbox.next_message_id + len(outbox.messages) + (1 if outbox.updates else 0) + 1
    with client:
        last_message()
    background_tasks.create(_delete_when_sent(client, sent_by, patience), name=f"drop page {client.id}")


async def _delete_when_sent(client: Client, sent_by: int, patience: float) -> None:
    for _ in range(int(patience / POLL_SECONDS)):
        if client.outbox.next_message_id >= sent_by or client.is_deleted:
            break
        await asyncio.sleep(POLL_SECONDS)
    if not client.is_deleted and client.id in Client.instances:
        client.delete()
