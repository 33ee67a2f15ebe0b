"""Tables: users, their sessions, conversations and one row per message (never a whole chat in one blob)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def new_id() -> str:
    """A random UUID in its canonical text form (the same on SQLite and PostgreSQL)."""
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone, so it is restored on the way out)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    __table__: ClassVar[Table]
    """Each model maps one table (declarative types it as any `FromClause`; Core's insert and update want a table)."""


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(100))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    theme: Mapped[str] = mapped_column(String(8), default="system", server_default="system")
    """The colour theme the person chose: `system` (follow the device), `light` or `dark`."""
    default_system_prompt: Mapped[str | None] = mapped_column(Text)
    """Given to each new conversation of this user as its own system prompt (account settings)."""

    __table_args__ = (Index("ix_users_username_lower", func.lower(username), unique=True),)


class Session(Base):
    """A server-side sign-in. The cookie holds a random token; only its keyed hash is stored here.

    A sign-in first creates the row with a short-lived one-time *ticket* (the UI redeems it through an HTTP response
    that sets the cookie); `token_hash` is filled when the ticket is redeemed, or at once for the JSON API.
    """

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    ticket_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    ticket_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str | None] = mapped_column(String(200))
    model: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    active_message_id: Mapped[str | None] = mapped_column(String(36))
    """The leaf of the active path (root → leaf: what the page shows and the model is sent). No foreign key: the
    two tables would then point at each other, and a message is only ever deleted with its conversation."""
    system_prompt: Mapped[str | None] = mapped_column(Text)
    temperature: Mapped[float | None] = mapped_column(Float)
    """None: the provider's default."""

    # The sidebar pages through a user's conversations newest first, keyed on (updated_at, id).
    __table_args__ = (Index("ix_conversations_user_updated_id", "user_id", "updated_at", "id"),)


class MessageStatus(StrEnum):
    """Where an assistant message stands; user messages are always `done`.

    `deleted` is never stored: it is how a reply ends whose conversation was deleted under it.
    """

    DONE = "done"
    STREAMING = "streaming"
    CANCELLED = "cancelled"
    ERROR = "error"
    INTERRUPTED = "interrupted"
    DELETED = "deleted"


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    """The message this one follows (None for the first). Versions of a message are siblings: same parent."""
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=MessageStatus.DONE)
    model: Mapped[str | None] = mapped_column(String(200))
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    """The provider's own count of the reply's tokens (not the number of deltas streamed)."""
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_messages_conversation_created", "conversation_id", "created_at"),
        Index("ix_messages_parent_created", "parent_id", "created_at"),
        Index("ix_messages_status", "status"),
    )


class ConversationSource(Base):
    """Where an imported conversation came from (`chatgpt:<id>`, `openwebui:<id>`, `chatui:<id>`).

    Importing the same file again finds its conversations here and creates nothing. Deleting the conversation
    deletes this row too, so a later import brings it back.
    """

    __tablename__ = "conversation_sources"

    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(300))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("user_id", "source", name="uq_conversation_sources_user_source"),)


class DeletedConversation(Base):
    """A conversation just deleted, kept for a few seconds so its owner can undo the deletion (`storage.undo`).

    Kept in the database rather than in one process's memory, so the undo works from whichever instance serves the
    page that asks. `record` is the whole conversation as JSON; rows past `expires_at` are swept.
    """

    __tablename__ = "deleted_conversations"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    record: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
