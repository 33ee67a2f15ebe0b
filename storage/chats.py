"""Conversations and their messages. Every read and write of a conversation names its owner."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session as OrmSession

from storage.database import Repository, statements, transaction
from storage.models import Conversation, Message, MessageStatus, new_id, utcnow


class ConversationGone(Exception):
    """The conversation was deleted (or never belonged to this user)."""


_UNSET = object()
INTERRUPTED_NOTE = "The server stopped before this reply was complete."


def _owned(user_id: str, conversation_id: str):  # type: ignore[no-untyped-def]
    return select(Conversation).where(Conversation.id == conversation_id, Conversation.user_id == user_id)


class ChatRepository(Repository):
    @transaction
    def create_conversation(self, s: OrmSession, user_id: str, model: str, title: str | None = None) -> Conversation:
        now = utcnow()
        conversation = Conversation(
            id=new_id(), user_id=user_id, title=title, model=model, created_at=now, updated_at=now
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
        return s.scalars(_owned(user_id, conversation_id)).one_or_none()

    @transaction
    def update_conversation(
        self, s: OrmSession, user_id: str, conversation_id: str, *, title: object = _UNSET, model: object = _UNSET
    ) -> Conversation | None:
        conversation = s.scalars(_owned(user_id, conversation_id)).one_or_none()
        if conversation is None:
            return None
        if title is not _UNSET:
            conversation.title = title  # type: ignore[assignment]
        if model is not _UNSET:
            conversation.model = model  # type: ignore[assignment]
        return conversation

    @transaction
    def delete_conversation(self, s: OrmSession, user_id: str, conversation_id: str) -> bool:
        """Delete the conversation and (by the foreign key's cascade) its messages."""
        result = s.execute(
            delete(Conversation).where(Conversation.id == conversation_id, Conversation.user_id == user_id)
        )
        return result.rowcount > 0  # type: ignore[attr-defined,no-any-return]

    @transaction
    def messages(self, s: OrmSession, conversation_id: str) -> list[Message]:
        """Messages in the order they were written."""
        return _messages(s, conversation_id)

    @transaction
    def message_page(
        self,
        s: OrmSession,
        conversation_id: str,
        limit: int,
        *,
        before: str | None = None,
        after: str | None = None,
        around: str | None = None,
    ) -> MessagePage:
        """At most `limit` messages in written order: the last ones, those just `before` or `after` a message id, or
        those `around` one (it included, about half before it). Keyset on (created_at, id), served by the index on
        (conversation_id, created_at): the cost of a page does not grow with the conversation.

        An id that is not in this conversation gives an empty page.
        """
        if around is not None:
            target = _position(s, conversation_id, around)
            if target is None:
                return MessagePage([], False, False)
            older = _page(s, conversation_id, limit // 2, before=target)
            newer = _page(s, conversation_id, limit - len(older.messages), after=target, inclusive=True)
            return MessagePage(older.messages + newer.messages, older.has_older, newer.has_newer)
        if before is not None or after is not None:
            key = _position(s, conversation_id, before or after)  # type: ignore[arg-type]
            if key is None:
                return MessagePage([], False, False)
            return _page(s, conversation_id, limit, before=key if before else None, after=key if after else None)
        return _page(s, conversation_id, limit)

    @statements
    def prompt_history(self, c: Connection, user_id: str, conversation_id: str) -> tuple[str, list[tuple[str, str]]]:
        """The conversation's model and its turns as (role, text), in order — what a new reply is built from.

        `ConversationGone` if the conversation is not the user's.
        """
        model = c.execute(_MODEL_OF, {"cid": conversation_id, "uid": user_id}).scalar_one_or_none()
        if model is None:
            raise ConversationGone(conversation_id)
        return model, [(role, content) for role, content in c.execute(_TURNS, {"cid": conversation_id})]

    @statements
    def start_exchange(
        self,
        c: Connection,
        user_id: str,
        conversation_id: str,
        content: str,
        model: str,
        title_if_untitled: str,
        *,
        user_message_id: str | None = None,
        assistant_message_id: str | None = None,
    ) -> tuple[str, str]:
        """Save the user's message and an empty `streaming` assistant message; returns their ids.

        Also moves the conversation to the top of the list, remembers the model and gives an untitled conversation
        its title. Raises `ConversationGone` if the conversation is not the user's (any more).
        """
        now = utcnow()
        touched = c.execute(
            _TOUCH, {"cid": conversation_id, "uid": user_id, "now": now, "model": model, "title": title_if_untitled}
        )
        if touched.rowcount == 0:
            raise ConversationGone(conversation_id)
        ids = (user_message_id or new_id(), assistant_message_id or new_id())
        common = {"conversation_id": conversation_id, "tokens": None, "prompt_tokens": None, "error": None}
        c.execute(
            _INSERT_MESSAGE,
            [
                {
                    **common,
                    "id": ids[0],
                    "role": "user",
                    "content": content,
                    "status": MessageStatus.DONE,
                    "model": None,
                    "created_at": now,
                },
                {
                    **common,
                    "id": ids[1],
                    "role": "assistant",
                    "content": "",
                    "status": MessageStatus.STREAMING,
                    "model": model,
                    "created_at": now + timedelta(microseconds=1),
                },
            ],
        )
        return ids

    @statements
    def checkpoint(self, c: Connection, contents: Mapping[str, str]) -> None:
        """Write the text so far of several streaming replies at once (a finished or deleted reply is skipped)."""
        if contents:
            c.execute(_CHECKPOINT, [{"mid": k, "text": v} for k, v in contents.items()])

    @statements
    def finish_message(
        self,
        c: Connection,
        message_id: str,
        *,
        content: str,
        status: str,
        tokens: int | None,
        prompt_tokens: int | None = None,
        error: str | None = None,
    ) -> None:
        """Write a reply's final state, once."""
        c.execute(
            _FINISH,
            {
                "mid": message_id,
                "content": content,
                "status": status,
                "tokens": tokens,
                "prompt_tokens": prompt_tokens,
                "error": error,
            },
        )


# Statements on every message's path, built once.
_conversations, _messages_table = Conversation.__table__, Message.__table__
_MODEL_OF = select(_conversations.c.model).where(
    _conversations.c.id == bindparam("cid"), _conversations.c.user_id == bindparam("uid")
)
_TURNS = (
    select(_messages_table.c.role, _messages_table.c.content)
    .where(_messages_table.c.conversation_id == bindparam("cid"))
    .order_by(_messages_table.c.created_at)
)
_TOUCH = (
    update(_conversations)
    .where(_conversations.c.id == bindparam("cid"), _conversations.c.user_id == bindparam("uid"))
    .values(
        updated_at=bindparam("now"),
        model=bindparam("model"),
        title=func.coalesce(_conversations.c.title, bindparam("title")),
    )
)
_INSERT_MESSAGE = insert(_messages_table)
_CHECKPOINT = (
    update(_messages_table)
    .where(_messages_table.c.id == bindparam("mid"), _messages_table.c.status == MessageStatus.STREAMING)
    .values(content=bindparam("text"))
)
_FINISH = (
    update(_messages_table)
    .where(_messages_table.c.id == bindparam("mid"))
    .values(
        content=bindparam("content"),
        status=bindparam("status"),
        tokens=bindparam("tokens"),
        prompt_tokens=bindparam("prompt_tokens"),
        error=bindparam("error"),
    )
)


@dataclass
class ConversationPage:
    conversations: list[Conversation]
    next_cursor: str | None
    """Pass it back as `cursor` for the next page; None on the last page."""


@dataclass
class MessagePage:
    messages: list[Message]
    has_older: bool
    has_newer: bool


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


_Key = tuple[datetime, str]


def _position(s: OrmSession, conversation_id: str, message_id: str) -> _Key | None:
    row = s.execute(
        select(Message.created_at, Message.id).where(
            Message.id == message_id, Message.conversation_id == conversation_id
        )
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def _page(
    s: OrmSession,
    conversation_id: str,
    limit: int,
    *,
    before: _Key | None = None,
    after: _Key | None = None,
    inclusive: bool = False,
) -> MessagePage:
    query = select(Message).where(Message.conversation_id == conversation_id)
    if after is not None:
        same = Message.id >= after[1] if inclusive else Message.id > after[1]
        query = query.where(or_(Message.created_at > after[0], and_(Message.created_at == after[0], same)))
        rows = list(s.scalars(query.order_by(Message.created_at, Message.id).limit(limit + 1)))
        return MessagePage(rows[:limit], True, len(rows) > limit)
    if before is not None:
        query = query.where(
            or_(Message.created_at < before[0], and_(Message.created_at == before[0], Message.id < before[1]))
        )
    rows = list(s.scalars(query.order_by(Message.created_at.desc(), Message.id.desc()).limit(limit + 1)))
    return MessagePage(rows[:limit][::-1], len(rows) > limit, before is not None)


def _messages(s: OrmSession, conversation_id: str) -> list[Message]:
    return list(
        s.scalars(select(Message).where(Message.conversation_id == conversation_id).order_by(Message.created_at))
    )


def mark_interrupted(connection: Connection) -> int:
    """At start-up: replies left `streaming` by a crash keep their text and become `interrupted`."""
    result = connection.execute(
        update(Message)
        .where(Message.status == MessageStatus.STREAMING)
        .values(status=MessageStatus.INTERRUPTED, error=INTERRUPTED_NOTE)
    )
    return result.rowcount
