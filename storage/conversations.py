"""Conversations: create, list (keyset pages), read, change and delete. `ConversationRepository` is also where the
message tree is read (`storage.paging`), where replies are written (`storage.replies`) and where conversations are
forked (`storage.forks`): one repository for the callers, one module per job."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, String, delete, func, literal, select, tuple_
from sqlalchemy.orm import Session as OrmSession

from storage.database import rows_changed, transaction
from storage.errors import owned
from storage.feedback import Feedbacks
from storage.forks import Forks
from storage.models import (
    Conversation,
    ConversationSource,
    ConversationTag,
    Message,
    User,
    UTCDateTime,
    new_id,
    utcnow,
)
from storage.organize import Organizing, tags_by_conversation
from storage.paging import PathPaging
from storage.replies import Replies

UNSET: Any = object()
"""Leave-unchanged default of an optional argument whose None means "clear it" (one sentinel for every layer)."""


@dataclass
class ConversationPage:
    conversations: list[Conversation]
    next_cursor: str | None
    """Pass it back as `cursor` for the next page; None on the last page."""
    tags: dict[str, list[str]] = field(default_factory=dict)
    """Each listed conversation's tags (those without any are left out)."""


@dataclass(frozen=True)
class ListFilter:
    """Which of a user's conversations a list shows: the archived ones or the others, and optionally only a folder's
    (`folder_id`; "" for those in no folder), a tag's or the pinned ones."""

    archived: bool = False
    folder_id: str | None = None
    tag: str | None = None
    pinned: bool | None = None


class ConversationRepository(PathPaging, Replies, Forks, Organizing, Feedbacks):
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
        max_tokens: int | None = None,
        top_p: float | None = None,
        seed: int | None = None,
        reasoning_effort: str | None = None,
        tools: list[str] | None = UNSET,
        preset_id: str | None = None,
        knowledge: list[str] | None = None,
    ) -> Conversation:
        """A new, empty conversation; without a `system_prompt` (or `tools`) it takes the user's default one.
        `preset_id`: the preset it starts from (the caller has applied its settings)."""
        if system_prompt is UNSET:
            system_prompt = s.scalar(select(User.default_system_prompt).where(User.id == user_id))
        if tools is UNSET:
            tools = s.scalar(select(User.default_tools).where(User.id == user_id))
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
            max_tokens=max_tokens,
            top_p=top_p,
            seed=seed,
            reasoning_effort=reasoning_effort,
            tools=tools or None,
            preset_id=preset_id,
            knowledge=knowledge or None,
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
        only: ListFilter = ListFilter(),
    ) -> ConversationPage:
        """The user's conversations, pinned first, then most recently active first: all of them, or `limit` after
        `cursor`; `only` says which (by default the ones not archived).

        Keyset pagination on (pinned, updated_at, id), served by indexes of the same order (per user, per folder):
        a page costs the same however many conversations the account holds, and a conversation that moves to the
        top meanwhile is not shown twice on later pages. `title_contains` keeps those whose title holds the text
        (case-insensitive). `ValueError` for a cursor this function did not make.
        """
        query = select(Conversation).where(Conversation.user_id == user_id, Conversation.archived == only.archived)
        if only.folder_id is not None:
            query = query.where(
                Conversation.folder_id.is_(None) if only.folder_id == "" else Conversation.folder_id == only.folder_id
            )
        if only.pinned is not None:
            query = query.where(Conversation.pinned == only.pinned)
        if only.tag is not None:
            tagged = select(ConversationTag.conversation_id).where(
                ConversationTag.user_id == user_id, ConversationTag.tag == only.tag
            )
            query = query.where(Conversation.id.in_(tagged))
        if cursor is not None:
            # one row-value comparison: both databases read it as a range of the index
            pinned, updated_at, conversation_id = decode_cursor(cursor)
            key = tuple_(Conversation.pinned, Conversation.updated_at, Conversation.id)
            after = tuple_(
                literal(pinned, Boolean()), literal(updated_at, UTCDateTime()), literal(conversation_id, String())
            )
            query = query.where(key < after)
        if title_contains:
            pattern = "%" + title_contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            query = query.where(func.lower(Conversation.title).like(pattern.lower(), escape="\\"))
        query = query.order_by(Conversation.pinned.desc(), Conversation.updated_at.desc(), Conversation.id.desc())
        if limit is None:
            rows = list(s.scalars(query))
            return ConversationPage(rows, None, tags_by_conversation(s, [c.id for c in rows]))
        rows = list(s.scalars(query.limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        tags = tags_by_conversation(s, [c.id for c in rows])
        return ConversationPage(rows, encode_cursor(rows[-1]) if more and rows else None, tags)

    @transaction
    def get_conversation(self, s: OrmSession, user_id: str, conversation_id: str) -> Conversation | None:
        """The conversation if it exists *and* belongs to `user_id`; otherwise None (the two are not told apart)."""
        return s.scalars(owned(user_id, conversation_id)).one_or_none()

    @transaction
    def import_origin(self, s: OrmSession, user_id: str, conversation_id: str) -> tuple[bool, str | None]:
        """Whether the conversation was imported, and the model of its latest reply that names one (what it was
        written with: imported replies keep their model's name)."""
        imported = s.scalar(
            select(ConversationSource.conversation_id).where(
                ConversationSource.conversation_id == conversation_id, ConversationSource.user_id == user_id
            )
        )
        if imported is None:
            return False, None
        written_with = s.scalar(
            select(Message.model)
            .where(Message.conversation_id == conversation_id, Message.role == "assistant", Message.model.is_not(None))
            .order_by(Message.created_at.desc())
            .limit(1)
        )
        return True, written_with

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
        max_tokens: int | None = UNSET,
        top_p: float | None = UNSET,
        seed: int | None = UNSET,
        reasoning_effort: str | None = UNSET,
        tools: list[str] | None = UNSET,
        knowledge: list[str] | None = UNSET,
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
            ("max_tokens", max_tokens),
            ("top_p", top_p),
            ("seed", seed),
            ("reasoning_effort", reasoning_effort),
            ("tools", tools if tools is UNSET else (tools or None)),
            ("knowledge", knowledge if knowledge is UNSET else (knowledge or None)),
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
    raw = f"{int(conversation.pinned)}|{conversation.updated_at.isoformat()}|{conversation.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[bool, datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        pinned, stamp, conversation_id = raw.split("|", 2)
        updated_at = datetime.fromisoformat(stamp)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError("not a cursor of this list") from exc
    if updated_at.tzinfo is None or pinned not in ("0", "1"):
        raise ValueError("not a cursor of this list")
    return pinned == "1", updated_at, conversation_id
