"""Conversations and their message trees (see `storage.tree` for how paths are read)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, String, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session as OrmSession

from storage.database import Database, Repository, grouped, statements, transaction
from storage.models import Conversation, Message, MessageStatus, User, new_id, utcnow
from storage.tree import (
    UNBOUNDED,
    PathPage,
    PathSegments,
    load_messages,
    newest_leaf_under,
    path_turns,
    sibling_ids,
    walk_up,
)


class ConversationGone(Exception):
    """The conversation was deleted (or never belonged to this user)."""


class MessageGone(Exception):
    """The message is not in this conversation (or not the kind the operation needs, or not on the active path)."""


class NothingToRegenerate(Exception):
    """The active path ends in no user message to answer again (the conversation is empty)."""


class Anchor(StrEnum):
    """Where a new reply goes in the tree."""

    SEND = "send"
    """A new user message after the active leaf, then its reply."""
    REGENERATE = "regenerate"
    """A new reply (a sibling of the last one) to the user message that ends the active path."""
    EDIT = "edit"
    """A new version of a user message (beside it, under its parent), then its reply."""


@dataclass(frozen=True, slots=True)
class ReplyContext:
    """What a new reply is built from, read in one transaction."""

    model: str
    system_prompt: str | None
    temperature: float | None
    parent_id: str | None
    """SEND/EDIT: the parent of the new user message; REGENERATE: the user message the reply answers."""
    turns: list[tuple[str, str]]
    """(role, text) from the root (or the oldest that fits the prompt's budget) down to `parent_id`."""


UNSET: Any = object()
"""Leave-unchanged default of an optional argument whose None means "clear it" (one sentinel for every layer)."""
INTERRUPTED_NOTE = "The server stopped before this reply was complete."


def _owned(user_id: str, conversation_id: str):  # type: ignore[no-untyped-def]
    return select(Conversation).where(Conversation.id == conversation_id, Conversation.user_id == user_id)


def _owned_or_gone(s: OrmSession, user_id: str, conversation_id: str) -> Conversation:
    conversation = s.scalars(_owned(user_id, conversation_id)).one_or_none()
    if conversation is None:
        raise ConversationGone(conversation_id)
    return conversation


class ConversationRepository(Repository):
    """Conversations and their message trees. Each method is one transaction; the ones that take a `user_id` answer
    only for that user's conversations (someone else's looks exactly like a missing one)."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.segments = PathSegments()
        """Long stretches of active paths already walked (paging down from an old message)."""

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
        return s.scalars(_owned(user_id, conversation_id)).one_or_none()

    @grouped
    def current_title(self, c: Connection, user_id: str, conversation_id: str) -> str | None:
        """The conversation's title (None: untitled, or not the user's), read after every first reply."""
        return c.execute(_TITLE_OF, {"cid": conversation_id, "uid": user_id}).scalar()

    @grouped
    def conversation_owner(self, c: Connection, conversation_id: str) -> str | None:
        """The id of the account the conversation belongs to (None: no such conversation). The check of every `/ws`
        handshake: a prepared statement in a shared transaction, read alongside the session (one trip for both)."""
        return c.execute(_OWNER, {"cid": conversation_id}).scalar()

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
        conversation = s.scalars(_owned(user_id, conversation_id)).one_or_none()
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
        return result.rowcount > 0  # type: ignore[attr-defined,no-any-return]

    @transaction
    def messages(self, s: OrmSession, conversation_id: str) -> list[Message]:
        """Every message of the conversation (all branches) in the order they were written."""
        return _messages(s, conversation_id)

    # -- the tree -------------------------------------------------------------------------------------------------

    @transaction
    def path_page(
        self,
        s: OrmSession,
        user_id: str,
        conversation_id: str,
        *,
        limit: int | None = None,
        before: str | None = None,
        after: str | None = None,
        around: str | None = None,
    ) -> PathPage:
        """The active path (root → leaf), or a page of it: the `limit` newest messages, the `limit` messages just
        above `before` (any message of the conversation), just below `after`, or `around` one (it included, about
        half before it) — those two on the active path. `ConversationGone`, or `MessageGone` for a `before`,
        `after` or `around` that does not fit."""
        conversation = _owned_or_gone(s, user_id, conversation_id)
        leaf = conversation.active_message_id
        bound = UNBOUNDED if limit is None else limit
        has_before = has_after = False
        if around is not None:
            walked = self.segments.walk_to(s, conversation_id, leaf, around) if leaf is not None else []
            if not walked or walked[-1] != around:
                raise MessageGone(around)
            half = max(1, bound // 2) if limit is not None else UNBOUNDED
            above = walk_up(s, conversation_id, around, max_depth=half)  # `around` and up to `half` above it
            has_before = len(above) > half
            above = above[:half][::-1]
            below = walked[:-1][::-1]
            room = max(0, bound - len(above))
            ids, has_after = above + below[:room], len(below) > room
        elif after is not None:
            if leaf is None:
                raise MessageGone(after)
            walked = self.segments.walk_to(s, conversation_id, leaf, after)
            if not walked or walked[-1] != after:
                raise MessageGone(after)
            below = walked[:-1][::-1]
            ids, has_before, has_after = below[:bound], True, len(below) > bound
        else:
            if before is not None:
                anchor = s.scalar(
                    select(Message.parent_id).where(Message.id == before, Message.conversation_id == conversation_id)
                )
                if anchor is None and not s.scalar(
                    select(func.count()).where(Message.id == before, Message.conversation_id == conversation_id)
                ):
                    raise MessageGone(before)
                start, has_after = anchor, True
            else:
                start = leaf
            walked = walk_up(s, conversation_id, start, max_depth=bound) if start is not None else []
            has_before = len(walked) > bound
            ids = walked[:bound][::-1]
        messages = load_messages(s, ids)
        return PathPage(messages, sibling_ids(s, conversation_id, messages), has_before, has_after)

    @transaction
    def tree(self, s: OrmSession, user_id: str, conversation_id: str) -> PathPage:
        """Every message of the conversation (all versions), in the order written, with its versions."""
        _owned_or_gone(s, user_id, conversation_id)
        messages = _messages(s, conversation_id)
        return PathPage(messages, sibling_ids(s, conversation_id, messages))

    @transaction
    def set_active(self, s: OrmSession, user_id: str, conversation_id: str, message_id: str) -> str:
        """Make the path through `message_id` active, down to its newest leaf; returns that leaf's id."""
        conversation = _owned_or_gone(s, user_id, conversation_id)
        leaf = newest_leaf_under(s, conversation_id, message_id)
        if leaf is None:
            raise MessageGone(message_id)
        conversation.active_message_id = leaf
        return leaf

    @grouped
    def replace_title(self, c: Connection, conversation_id: str, expected: str, title: str) -> bool:
        """Set the title only if it is still `expected` (nobody renamed the conversation meanwhile)."""
        result = c.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.title == expected)
            .values(title=title)
        )
        return result.rowcount > 0

    @transaction
    def default_system_prompt(self, s: OrmSession, user_id: str) -> str | None:
        """The system prompt new conversations of this user start with."""
        return s.scalar(select(User.default_system_prompt).where(User.id == user_id))

    @transaction
    def set_default_system_prompt(self, s: OrmSession, user_id: str, prompt: str | None) -> None:
        s.execute(update(User).where(User.id == user_id).values(default_system_prompt=prompt))

    # -- replies (prepared statements: on every message's path) ---------------------------------------------------

    @grouped
    def reply_context(
        self,
        c: Connection,
        user_id: str,
        conversation_id: str,
        anchor: Anchor,
        message_id: str | None = None,
        *,
        max_chars: int | None = None,
    ) -> ReplyContext:
        """Where a new reply goes and what it is asked with (see `Anchor`; `message_id` is the edited message).

        `max_chars` bounds the turns to the newest that fit (`storage.tree.path_turns`); None reads the whole path.

        `ConversationGone`, `MessageGone` (EDIT of a message that is not a user message of this conversation) or
        `NothingToRegenerate`.
        """
        row = c.execute(_CONVERSATION_OF, {"cid": conversation_id, "uid": user_id}).one_or_none()
        if row is None:
            raise ConversationGone(conversation_id)
        if anchor is Anchor.SEND:
            parent = row.active_message_id
        elif anchor is Anchor.EDIT:
            edited = c.execute(_MESSAGE, {"mid": message_id or "", "cid": conversation_id}).one_or_none()
            if edited is None or edited.role != "user":
                raise MessageGone(message_id)
            parent = edited.parent_id
        else:
            leaf = c.execute(_MESSAGE, {"mid": row.active_message_id or "", "cid": conversation_id}).one_or_none()
            parent = leaf.parent_id if leaf is not None and leaf.role == "assistant" else getattr(leaf, "id", None)
            if parent is None:
                raise NothingToRegenerate(conversation_id)
        turns = path_turns(c, conversation_id, parent, max_chars=max_chars)
        return ReplyContext(row.model, row.system_prompt, row.temperature, parent, turns)

    @grouped
    def start_exchange(
        self,
        c: Connection,
        user_id: str,
        conversation_id: str,
        content: str | None,
        model: str,
        title_if_untitled: str | None,
        *,
        parent_id: str | None = None,
        remember_model: bool = True,
        user_message_id: str | None = None,
        assistant_message_id: str | None = None,
    ) -> tuple[str | None, str]:
        """Save the user's message (unless `content` is None: a new reply to `parent_id`) and an empty `streaming`
        assistant message under it, make that reply the active leaf; returns their ids.

        Also moves the conversation to the top of the list, remembers the model (with `remember_model`) and gives
        an untitled conversation its title. Raises `ConversationGone` if the conversation is not the user's (any
        more).
        """
        now = utcnow()
        reply_id = assistant_message_id or new_id()
        touched = c.execute(
            _TOUCH,
            {
                "cid": conversation_id,
                "uid": user_id,
                "now": now,
                "model": model if remember_model else None,
                "title": title_if_untitled,
                "leaf": reply_id,
            },
        )
        if touched.rowcount == 0:
            raise ConversationGone(conversation_id)
        common = {"conversation_id": conversation_id, "completion_tokens": None, "prompt_tokens": None, "error": None}
        rows = []
        question_id = None
        if content is not None:
            question_id = user_message_id or new_id()
            rows.append(
                {
                    **common,
                    "id": question_id,
                    "parent_id": parent_id,
                    "role": "user",
                    "content": content,
                    "status": MessageStatus.DONE,
                    "model": None,
                    "created_at": now,
                }
            )
        rows.append(
            {
                **common,
                "id": reply_id,
                "parent_id": question_id or parent_id,
                "role": "assistant",
                "content": "",
                "status": MessageStatus.STREAMING,
                "model": model,
                "created_at": now + timedelta(microseconds=1),
            }
        )
        c.execute(_INSERT_MESSAGE, rows)
        return question_id, reply_id

    @statements
    def checkpoint(self, c: Connection, contents: Mapping[str, str]) -> None:
        """Write the text so far of several streaming replies at once (a finished or deleted reply is skipped)."""
        if contents:
            c.execute(_CHECKPOINT, [{"mid": k, "text": v} for k, v in contents.items()])

    @grouped
    def finish_message(
        self,
        c: Connection,
        message_id: str,
        *,
        content: str,
        status: str,
        completion_tokens: int | None,
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
                "completion_tokens": completion_tokens,
                "prompt_tokens": prompt_tokens,
                "error": error,
            },
        )


# Statements on every message's path, built once.
_conversations, _messages_table = Conversation.__table__, Message.__table__
_CONVERSATION_OF = select(
    _conversations.c.model,
    _conversations.c.system_prompt,
    _conversations.c.temperature,
    _conversations.c.active_message_id,
).where(_conversations.c.id == bindparam("cid"), _conversations.c.user_id == bindparam("uid"))
_TITLE_OF = select(_conversations.c.title).where(
    _conversations.c.id == bindparam("cid"), _conversations.c.user_id == bindparam("uid")
)
_OWNER = select(_conversations.c.user_id).where(_conversations.c.id == bindparam("cid"))
_MESSAGE = select(_messages_table.c.id, _messages_table.c.parent_id, _messages_table.c.role).where(
    _messages_table.c.id == bindparam("mid"), _messages_table.c.conversation_id == bindparam("cid")
)
_TOUCH = (
    update(_conversations)
    .where(_conversations.c.id == bindparam("cid"), _conversations.c.user_id == bindparam("uid"))
    .values(
        updated_at=bindparam("now"),
        model=func.coalesce(bindparam("model", type_=String), _conversations.c.model),
        title=func.coalesce(_conversations.c.title, bindparam("title", type_=String)),
        active_message_id=bindparam("leaf"),
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
        completion_tokens=bindparam("completion_tokens"),
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
