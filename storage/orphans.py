"""Replies left `streaming` in a database that several instances share, for the sweep that finds those whose owner
is gone (`chatui.coordination.redis`). One process marks them all at start-up instead (`mark_interrupted`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, select, update

from storage.database import Repository, statements
from storage.models import Message, MessageStatus

INTERRUPTED_NOTE = "The server stopped before this reply was complete."


class StreamingReplies(Repository):
    @statements
    def all(self, c: Connection) -> list[tuple[str, datetime]]:
        """Every reply whose status is `streaming`: its id and when it started."""
        rows = c.execute(select(Message.id, Message.created_at).where(Message.status == MessageStatus.STREAMING))
        return [(message_id, created_at) for message_id, created_at in rows]

    @statements
    def interrupt(self, c: Connection, message_ids: Sequence[str]) -> int:
        """Mark these replies `interrupted`, keeping their checkpointed text (those that ended meanwhile stay)."""
        return int(c.execute(_INTERRUPT.where(Message.id.in_(list(message_ids)))).rowcount)


def mark_interrupted(connection: Connection) -> int:
    """At start-up: replies left `streaming` by a crash keep their text and become `interrupted`."""
    return int(connection.execute(_INTERRUPT).rowcount)


_INTERRUPT = (
    update(Message)
    .where(Message.status == MessageStatus.STREAMING)
    .values(status=MessageStatus.INTERRUPTED, error=INTERRUPTED_NOTE)
)
