"""Thumbs up or down, with an optional comment, on an assistant's reply: one per message (rating again replaces it).

Part of `ConversationRepository` (a mixin). A message of someone else's conversation looks exactly like a missing one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, ForeignKey, String, Text, delete, select
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm import Session as OrmSession

from storage.database import Repository, statements, transaction
from storage.models import Base, Conversation, Message, UTCDateTime, utcnow
from storage.tree import path_rows


class MessageFeedback(Base):
    """A person's rating of one reply (`up` or `down`) and what they said about it."""

    __tablename__ = "message_feedback"

    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    rating: Mapped[str] = mapped_column(String(4))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def _owned_reply(s: OrmSession, user_id: str, message_id: str) -> bool:
    """Whether the message is an assistant's reply in one of the user's conversations (only those can be rated)."""
    owned = s.execute(
        select(Message.id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.id == message_id, Message.role == "assistant", Conversation.user_id == user_id)
    ).first()
    return owned is not None


class Feedbacks(Repository):
    @transaction
    def rate(
        self, s: OrmSession, user_id: str, message_id: str, rating: str, comment: str | None
    ) -> MessageFeedback | None:
        """Store (or replace) the rating of an assistant message of the user's; None if there is no such message."""
        if not _owned_reply(s, user_id, message_id):
            return None
        feedback = s.get(MessageFeedback, message_id) or MessageFeedback(message_id=message_id, user_id=user_id)
        feedback.rating, feedback.comment, feedback.created_at = rating, comment, utcnow()
        s.add(feedback)
        return feedback

    @transaction
    def unrate(self, s: OrmSession, user_id: str, message_id: str) -> bool:
        """Take back the user's rating of a message of theirs (a no-op when it had none); False if there is no such
        message of theirs, so that someone else's message looks like a missing one."""
        if not _owned_reply(s, user_id, message_id):
            return False
        s.execute(delete(MessageFeedback).where(MessageFeedback.message_id == message_id))
        return True

    @transaction
    def ratings_of(self, s: OrmSession, message_ids: list[str]) -> dict[str, MessageFeedback]:
        rows = s.scalars(select(MessageFeedback).where(MessageFeedback.message_id.in_(message_ids)))
        return {f.message_id: f for f in rows}

    @statements
    def all_feedback(self, c: Connection) -> list[dict[str, Any]]:
        """Every rating, oldest first, with the path (root → the rated reply) that produced it: an administrator's
        export, one record a rating."""
        records = []
        rows = c.execute(
            select(MessageFeedback.__table__, Message.conversation_id)
            .join(Message, Message.id == MessageFeedback.message_id)
            .order_by(MessageFeedback.created_at)
        ).all()
        messages = Message.__table__
        for row in rows:
            path = path_rows(c, row.conversation_id, row.message_id, messages, messages.c.id)
            records.append(
                {
                    "message_id": row.message_id,
                    "conversation_id": row.conversation_id,
                    "user_id": row.user_id,
                    "rating": row.rating,
                    "comment": row.comment,
                    "created_at": row.created_at.isoformat(),
                    "model": path[-1].model if path else None,
                    "path": [{"role": m.role, "content": m.content} for m in path],
                }
            )
        return records
