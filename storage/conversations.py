"""Conversations: create, list (keyset pages), read, change and delete. `ConversationRepository` is also where the
message tree is read (`storage.paging`) and where replies are written (`storage.replies`): one repository for the
callers, one module per job."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session as OrmSession

from storage.database import rows_changed, transaction
from storage.errors import owned
from storage.models import Conversation, User, new_id, utcnow
from storage.paging import PathPaging
from storage.replies import Replies

UNSET: Any = object()
"""Leave-unchanged default of an optional argument whose None means "clear it" (one sentinel for every layer)."""


@dataclass
class ConversationPage:
    conversations: list[Conversation]
    next_cursor: str | None
    """Pass it back as `cursor` for the next page; None on the last page."""


class ConversationRepository(PathPaging, Replies):
    """Conversations and their message trees. Each method is one transaction; the ones that take a `user_id` answer
    only for that user's conversations (someone else's looks exactly like a missing one)."""

    @transaction
    def create_conversation(
        self,
        s: OrmSession,
        user_id: str,
        model: str,
        title: str | None = None,
        *,
        system_prompt: str | None = UNSET,
        temperature: float | None = None,
    ) -> Conversation:
        """A new, empty conversation; without a `system_prompt` it takes the user's default one."""
        if system_prompt is UNSET:
            system_prompt = s.scalar(select(User.default_system_prompt).where(User.id == user_id))
        now = utcnow()
        conversation = Conversation(
            id=new_id(),
            user_id=user_id,
            title=title,
            model=model,
            created_at=now,
            updated_at=now,
            system_prompt=system_prompt,
            temperature=temperature,
        )
        s.add(conversation)
        return conversation

    @transaction
    def list_conversations(
        self,
        s: OrmSession,
        user_id: str,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        title_contains: str | None = None,
    ) -> ConversationPage:
        """The user's conversations, most recently active first: all of them, or `limit` after `cursor`.

        Keyset pagination on (updated_at, id), served by the index of the same shape: a page costs the same however
        many conversations the account holds, and a conversation that moves to the top meanwhile is not shown twice
        on later pages. `title_contains` keeps those whose title holds the text (case-insensitive).
        `ValueError` for a cursor this function did not make.
        """
        query = select(Conversation).where(Conversation.user_id == user_id)
        if cursor is not None:
            updated_at, conversation_id = decode_cursor(cursor)
            query = query.where(
                or_(
                    Conversation.updated_at < updated_at,
                    and_(Conversation.updated_at == updated_at, Conversation.id < conversation_id),
                )
            )
        if title_contains:
            pattern = "%" + title_contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            query = query.where(func.lower(Conversation.title).like(pattern.lower(), escape="\\"))
        query = query.order_by(Conversation.updated_at.desc(), Conversation.id.desc())
        if limit is None:
            return ConversationPage(list(s.scalars(query)), None)
        rows = list(s.scalars(query.limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        return ConversationPage(rows, encode_cursor(rows[-1]) if more and rows else None)

    @transaction
    def get_conversation(self, s: OrmSession, user_id: str, conversation_id: str) -> Conversation | None:
        """The conversation if it exists *and* belongs to `user_id`; otherwise None (the two are not told apart)."""
        return s.scalars(owned(user_id, conversation_id)).one_or_none()

    @transaction
    def update_conversation(
        self,
        s: OrmSession,
        user_id: str,
        conversation_id: str,
        *,
        title: str | None = UNSET,
        model: str = UNSET,
        system_prompt: str | None = UNSET,
        temperature: float | None = UNSET,
    ) -> Conversation | None:
        """Change what is given (leave out what stays); None if the conversation is not the user's."""
        conversation = s.scalars(owned(user_id, conversation_id)).one_or_none()
        if conversation is None:
            return None
        for name, value in (
            ("title", title),
            ("model", model),
            ("system_prompt", system_prompt),
            ("temperature", temperature),
        ):
            if value is not UNSET:
                setattr(conversation, name, value)
        return conversation

    @transaction
    def delete_conversation(self, s: OrmSession, user_id: str, conversation_id: str) -> bool:
        """Delete the conversation and (by the foreign key's cascade) its messages."""
        result = s.execute(
            delete(Conversation).where(Conversation.id == conversation_id, Conversation.user_id == user_id)
        )
        return rows_changed(result) > 0


def encode_cursor(conversation: Conversation) -> str:
    """An opaque cursor: where the next page of conversations starts."""
    raw = f"{conversation.updated_at.isoformat()}|{conversation.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, conversation_id = raw.split("|", 1)
        updated_at = datetime.fromisoformat(stamp)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError("not a cursor of this list") from exc
    if updated_at.tzinfo is None:
        raise ValueError("not a cursor of this list")
    return updated_at, conversation_id
