"""Replies left `streaming` in a database that several instances share, for the sweep that finds those whose owner
is gone (`chatui.coordination.redis`). One process marks them all at start-up instead (`chats.mark_interrupted`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, select, update

from storage.chats import INTERRUPTED_NOTE
from storage.database import Repository, statements
from storage.models import Message, MessageStatus


class StreamingReplies(Repository):
    @statements
    def all(self, c: Connection) -> list[tuple[str, datetime]]:
        """Every reply whose status is `streaming`: its id and when it started."""
        rows = c.execute(select(Message.id, Message.created_at).where(Message.status == MessageStatus.STREAMING))
        return [(message_id, created_at) for message_id, created_at in rows]

    @statements
    def interrupt(self, c: Connection, message_ids: Sequence[str]) -> int:
        """Mark these replies `interrupted`, keeping their checkpointed text (those that ended meanwhile stay)."""
        result = c.execute(
            update(Message)
            .where(Message.id.in_(list(message_ids)), Message.status == MessageStatus.STREAMING)
            .values(status=MessageStatus.INTERRUPTED, error=INTERRUPTED_NOTE)
        )
        return int(result.rowcount)
