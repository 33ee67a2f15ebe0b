"""The conversation calls on every reply's path, as prepared Core statements built once (see `storage.database`
for why they run `grouped`): the `/ws` ownership check, where a new reply goes and what it is asked with, the write
of the new messages, checkpoints of streaming text, the reply's final write and the title written after it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, String, bindparam, func, insert, select, update

from storage.database import Repository, grouped, statements
from storage.errors import ConversationGone, MessageGone, NothingToRegenerate
from storage.models import Conversation, Message, MessageStatus, new_id, utcnow
from storage.tree import path_turns


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


class Replies(Repository):
    """The hot-path part of `ConversationRepository`."""

    @grouped
    def current_title(self, c: Connection, user_id: str, conversation_id: str) -> str | None:
        """The conversation's title (None: untitled, or not the user's), read after every first reply."""
        title: str | None = c.execute(_TITLE_OF, {"cid": conversation_id, "uid": user_id}).scalar()
        return title

    @grouped
    def conversation_owner(self, c: Connection, conversation_id: str) -> str | None:
        """The id of the account the conversation belongs to (None: no such conversation). The check of every `/ws`
        handshake: a prepared statement in a shared transaction, read alongside the session (one trip for both)."""
        owner: str | None = c.execute(_OWNER, {"cid": conversation_id}).scalar()
        return owner

    @grouped
    def replace_title(self, c: Connection, conversation_id: str, expected: str, title: str) -> bool:
        """Set the title only if it is still `expected` (nobody renamed the conversation meanwhile)."""
        result = c.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.title == expected)
            .values(title=title)
        )
        return result.rowcount > 0

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
        parent: str | None
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
        rows: list[dict[str, Any]] = []
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


_conversations, _messages = Conversation.__table__, Message.__table__
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
_MESSAGE = select(_messages.c.id, _messages.c.parent_id, _messages.c.role).where(
    _messages.c.id == bindparam("mid"), _messages.c.conversation_id == bindparam("cid")
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
_INSERT_MESSAGE = insert(_messages)
_CHECKPOINT = (
    update(_messages)
    .where(_messages.c.id == bindparam("mid"), _messages.c.status == MessageStatus.STREAMING)
    .values(content=bindparam("text"))
)
_FINISH = (
    update(_messages)
    .where(_messages.c.id == bindparam("mid"))
    .values(
        content=bindparam("content"),
        status=bindparam("status"),
        completion_tokens=bindparam("completion_tokens"),
        prompt_tokens=bindparam("prompt_tokens"),
        error=bindparam("error"),
    )
)
