"""Conversations and their messages. Every read and write of a conversation names its owner."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.database import Database
from storage.models import Conversation, Message, MessageStatus, new_id, utcnow


class ConversationGone(Exception):
    """The conversation was deleted (or never belonged to this user)."""


@dataclass(frozen=True, slots=True)
class Exchange:
    """The two rows a new turn creates: the user's message and the assistant's (still streaming) reply."""

    user_message: Message
    assistant_message: Message
    conversation: Conversation


_UNSET = object()
INTERRUPTED_NOTE = "The server stopped before this reply was complete."


class ChatRepository:
    def __init__(self, db: Database) -> None:
        self._sessions = db.sessions

    async def create_conversation(self, user_id: str, model: str, title: str | None = None) -> Conversation:
        now = utcnow()
        conversation = Conversation(
            id=new_id(), user_id=user_id, title=title, model=model, created_at=now, updated_at=now
        )
        async with self._sessions() as s, s.begin():
            s.add(conversation)
        return conversation

    async def list_conversations(self, user_id: str) -> list[Conversation]:
        """The user's conversations, most recently active first."""
        async with self._sessions() as s:
            result = await s.execute(
                select(Conversation)
                .where(Conversation.user_id == user_id)
                .order_by(Conversation.updated_at.desc(), Conversation.created_at.desc())
            )
            return list(result.scalars())

    async def get_conversation(self, user_id: str, conversation_id: str) -> Conversation | None:
        """The conversation if it exists *and* belongs to `user_id`; otherwise None (the two are not told apart)."""
        async with self._sessions() as s:
            result = await s.execute(
                select(Conversation).where(Conversation.id == conversation_id, Conversation.user_id == user_id)
            )
            return result.scalar_one_or_none()

    async def update_conversation(
        self, user_id: str, conversation_id: str, *, title: object = _UNSET, model: object = _UNSET
    ) -> Conversation | None:
        values: dict[str, object] = {}
        if title is not _UNSET:
            values["title"] = title
        if model is not _UNSET:
            values["model"] = model
        async with self._sessions() as s, s.begin():
            if values:
                await s.execute(
                    update(Conversation)
                    .where(Conversation.id == conversation_id, Conversation.user_id == user_id)
                    .values(**values)
                )
            result = await s.execute(
                select(Conversation).where(Conversation.id == conversation_id, Conversation.user_id == user_id)
            )
            return result.scalar_one_or_none()

    async def delete_conversation(self, user_id: str, conversation_id: str) -> bool:
        """Delete the conversation and (by the foreign key's cascade) its messages."""
        async with self._sessions() as s, s.begin():
            result = await s.execute(
                delete(Conversation).where(Conversation.id == conversation_id, Conversation.user_id == user_id)
            )
            return result.rowcount > 0  # type: ignore[attr-defined,no-any-return]

    async def messages(self, conversation_id: str) -> list[Message]:
        """Messages in the order they were written."""
        async with self._sessions() as s:
            result = await s.execute(
                select(Message).where(Message.conversation_id == conversation_id).order_by(Message.created_at)
            )
            return list(result.scalars())

    async def start_exchange(
        self, user_id: str, conversation_id: str, content: str, model: str, title_if_untitled: str
    ) -> Exchange:
        """Save the user's message and an empty `streaming` assistant message in one transaction.

        Also moves the conversation to the top of the list, remembers the model and gives an untitled conversation
        its title. Raises `ConversationGone` if the conversation is not the user's (any more).
        """
        now = utcnow()
        async with self._sessions() as s, s.begin():
            conversation = (
                await s.execute(
                    select(Conversation).where(Conversation.id == conversation_id, Conversation.user_id == user_id)
                )
            ).scalar_one_or_none()
            if conversation is None:
                raise ConversationGone(conversation_id)
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
        return Exchange(user_message, assistant_message, conversation)

    async def checkpoint(self, contents: Mapping[str, str]) -> None:
        """Write the text so far of several streaming replies in one transaction (a missing row is skipped)."""
        if not contents:
            return
        table = Message.__table__
        statement = (
            update(table)
            .where(table.c.id == bindparam("message_id"), table.c.status == MessageStatus.STREAMING)
            .values(content=bindparam("text"))
        )
        rows = [{"message_id": k, "text": v} for k, v in contents.items()]
        async with self._sessions() as s, s.begin():
            connection = await s.connection()
            await connection.execute(statement, rows)

    async def finish_message(
        self,
        message_id: str,
        *,
        content: str,
        status: str,
        tokens: int | None,
        prompt_tokens: int | None = None,
        error: str | None = None,
    ) -> None:
        """Write a reply's final state, once."""
        async with self._sessions() as s, s.begin():
            await s.execute(
                update(Message)
                .where(Message.id == message_id)
                .values(content=content, status=status, tokens=tokens, prompt_tokens=prompt_tokens, error=error)
            )


async def mark_interrupted(connection: AsyncConnection) -> int:
    """At start-up: replies left `streaming` by a crash keep their text and become `interrupted`."""
    result = await connection.execute(
        update(Message)
        .where(Message.status == MessageStatus.STREAMING)
        .values(status=MessageStatus.INTERRUPTED, error=INTERRUPTED_NOTE)
    )
    return result.rowcount
