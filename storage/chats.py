"""Conversations and their messages. Every read and write of a conversation names its owner."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, bindparam, delete, select, update
from sqlalchemy.orm import Session as OrmSession

from storage.database import Repository, transaction
from storage.models import Conversation, Message, MessageStatus, new_id, utcnow


class ConversationGone(Exception):
    """The conversation was deleted (or never belonged to this user)."""


@dataclass(frozen=True, slots=True)
class Exchange:
    """A new turn: the user's message, the assistant's (still streaming) reply, and everything said before."""

    user_message: Message
    assistant_message: Message
    conversation: Conversation
    history: list[Message]
    """The conversation's messages before this turn, in order."""


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
    def list_conversations(self, s: OrmSession, user_id: str) -> list[Conversation]:
        """The user's conversations, most recently active first."""
        return list(
            s.scalars(
                select(Conversation)
                .where(Conversation.user_id == user_id)
                .order_by(Conversation.updated_at.desc(), Conversation.created_at.desc())
            )
        )

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
    def start_exchange(
        self,
        s: OrmSession,
        user_id: str,
        conversation_id: str,
        content: str,
        model: str | None,
        title_if_untitled: str,
    ) -> Exchange:
        """Save the user's message and an empty `streaming` assistant message, in one transaction.

        Also moves the conversation to the top of the list, remembers the model (None keeps the conversation's) and
        gives an untitled conversation its title. Raises `ConversationGone` if the conversation is not the user's.
        """
        conversation = s.scalars(_owned(user_id, conversation_id)).one_or_none()
        if conversation is None:
            raise ConversationGone(conversation_id)
        history = _messages(s, conversation_id)
        now = utcnow()
        model = model or conversation.model
        user_message = Message(
            id=new_id(),
            conversation_id=conversation_id,
            role="user",
            content=content,
            status=MessageStatus.DONE,
            created_at=now,
        )
        assistant_message = Message(
            id=new_id(),
            conversation_id=conversation_id,
            role="assistant",
            content="",
            status=MessageStatus.STREAMING,
            model=model,
            created_at=now + timedelta(microseconds=1),
        )
        s.add_all([user_message, assistant_message])
        conversation.updated_at = now
        conversation.model = model
        if conversation.title is None:
            conversation.title = title_if_untitled
        return Exchange(user_message, assistant_message, conversation, history)

    @transaction
    def checkpoint(self, s: OrmSession, contents: Mapping[str, str]) -> None:
        """Write the text so far of several streaming replies at once (a finished or deleted reply is skipped)."""
        if not contents:
            return
        table = Message.__table__
        statement = (
            update(table)
            .where(table.c.id == bindparam("message_id"), table.c.status == MessageStatus.STREAMING)
            .values(content=bindparam("text"))
        )
        s.connection().execute(statement, [{"message_id": k, "text": v} for k, v in contents.items()])

    @transaction
    def finish_message(
        self,
        s: OrmSession,
        message_id: str,
        *,
        content: str,
        status: str,
        tokens: int | None,
        prompt_tokens: int | None = None,
        error: str | None = None,
    ) -> None:
        """Write a reply's final state, once."""
        s.execute(
            update(Message)
            .where(Message.id == message_id)
            .values(content=content, status=status, tokens=tokens, prompt_tokens=prompt_tokens, error=error)
        )


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
