"""Tables: users, their sessions, conversations and one row per message (never a whole chat in one blob); each
message's ordered parts, and the users' files (bytes chunked, stored once per user). See storage/PARTS.md."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    func,
    true,
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
    is_approved: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    """False while an account signed up under `CHATUI_SIGNUP=approval` waits for an administrator: it can sign in to
    nothing. Accounts made before sign-up modes existed are approved."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    theme: Mapped[str] = mapped_column(String(8), default="system", server_default="system")
    """The colour theme the person chose: `system` (follow the device), `light` or `dark`."""
    default_system_prompt: Mapped[str | None] = mapped_column(Text)
    """Given to each new conversation of this user as its own system prompt (account settings)."""
    default_tools: Mapped[list[str] | None] = mapped_column(JSON)
    """The tools (`server:tool`, `server:*`) each new conversation of this user starts with; None: none."""
    dismissed_fallback: Mapped[str | None] = mapped_column(String(200))
    """The `DEFAULT_MODEL` whose "new chats start on another model" note this person dismissed: the note stays away
    until the default changes (and is unavailable again)."""

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
    """None: the provider's default (so for the three below)."""
    max_tokens: Mapped[int | None] = mapped_column(Integer)
    """The longest reply, in tokens (each provider's own name for it: `num_predict`, `max_tokens`...)."""
    top_p: Mapped[float | None] = mapped_column(Float)
    seed: Mapped[int | None] = mapped_column(BigInteger)
    """The sampler's seed (Anthropic's API has none: it is not sent there)."""
    reasoning_effort: Mapped[str | None] = mapped_column(String(8))
    """The Think control: "low", "medium" or "high" for a model that can think; None leaves it to the model."""
    tools: Mapped[list[str] | None] = mapped_column(JSON)
    """The tools the model may call in this chat (`server:tool` or `server:*`, chatui.tools); None or empty: none."""
    knowledge: Mapped[list[str] | None] = mapped_column(JSON)
    """The knowledge collections attached (ids): their passages are retrieved for each reply (issue 25)."""
    pinned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Pinned conversations head the list."""
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Archived ones leave the list (the Archived view lists them; search still finds them)."""
    folder_id: Mapped[str | None] = mapped_column(String(36))
    """The folder it is filed in (None: none). No foreign key (SQLite adds none to an existing table): deleting the
    folder moves it out in the same transaction (`storage.organize`)."""
    preset_id: Mapped[str | None] = mapped_column(String(36))
    """The preset (`storage.presets`) it started from; no foreign key: a deleted preset leaves its chats as they are."""

    # The sidebar pages through a user's conversations newest first, keyed on (updated_at, id); the list proper
    # (not archived, pinned first) and a folder's list have indexes of their own order.
    __table_args__ = (
        Index("ix_conversations_user_updated_id", "user_id", "updated_at", "id"),
        Index("ix_conversations_user_list", "user_id", "archived", "pinned", "updated_at", "id"),
        Index("ix_conversations_user_folder_list", "user_id", "folder_id", "archived", "pinned", "updated_at", "id"),
    )


class Folder(Base):
    """A user's folder of conversations: top level, or inside one top-level folder (one level of nesting)."""

    __tablename__ = "folders"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("folders.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    """Where it sits among its siblings (lower first; equal ones by name)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConversationTag(Base):
    """One tag of a conversation (tags are lower-cased words the user chose; `user_id` serves the tag filter)."""

    __tablename__ = "conversation_tags"

    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    tag: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))

    __table_args__ = (
        PrimaryKeyConstraint("conversation_id", "tag", name="pk_conversation_tags"),
        Index("ix_conversation_tags_user_tag", "user_id", "tag"),
    )


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
    cut_off: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """The reply ended because it reached the token limit (the provider said so), not because it was complete:
    **Continue** carries it on."""

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


class PartKind(StrEnum):
    """What one part of a message is (storage/PARTS.md has the whole shape and which columns each kind uses)."""

    TEXT = "text"
    FILE = "file"
    REASONING = "reasoning"
    TOOL_CALL = "tool_call"
    TOOL_RESULT = "tool_result"
    SOURCES = "sources"


class MessagePart(Base):
    """One part of a message, in order: its text, an attached file, and (issue 24) reasoning, tool calls and results.

    `messages.content` stays the message's text (its text parts joined), so every reader of text (REST, `/ws`,
    search, export) needs no join; the parts are read where the order or the other kinds matter. A message with no
    part rows is one text part, its `content` (a reply while it streams: its parts are written once, at its end).
    """

    __tablename__ = "message_parts"

    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)
    """text, reasoning: the words; tool_result: the tool's output (untrusted text)."""
    file_id: Mapped[str | None] = mapped_column(
        ForeignKey("files.id", deferrable=True, initially="DEFERRED"), index=True
    )
    """file: the attached file (a file in use cannot be deleted; the message's deletion frees it). Checked at
    commit: deleting a user cascades to their files and, by another path, to the messages using them."""
    call_id: Mapped[str | None] = mapped_column(String(100))
    """tool_call, tool_result: the provider's id pairing a result with its call."""
    data: Mapped[dict[str, object] | None] = mapped_column(JSON)
    """What else a kind keeps: tool_call {"name", "arguments"}; tool_result {"name", "is_error"}; reasoning
    {"signature", "seconds"}; file {"truncated"} once its text was cut for a prompt."""

    __table_args__ = (PrimaryKeyConstraint("message_id", "position", name="pk_message_parts"),)


class Blob(Base):
    """A user's stored bytes, once per distinct content (SHA-256): two uploads of the same file share one blob.

    Per user, never across users: whether someone else holds a file must not be learnable from an upload.
    """

    __tablename__ = "blobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("user_id", "sha256", name="uq_blobs_user_sha256"),)


class BlobChunk(Base):
    """A blob's bytes in order, a chunk a row: read and written a chunk at a time, never the whole file in memory,
    and kept in the database so every instance and every backup has them."""

    __tablename__ = "blob_chunks"

    blob_id: Mapped[str] = mapped_column(ForeignKey("blobs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (PrimaryKeyConstraint("blob_id", "seq", name="pk_blob_chunks"),)


class File(Base):
    """An upload: its name and checked type, and the blob holding its bytes.

    `attached_at` is set when a message first uses it: a file never attached is swept a day after its upload; an
    attached one is deleted when no message uses it any more (its conversations deleted).
    """

    __tablename__ = "files"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    blob_id: Mapped[str] = mapped_column(ForeignKey("blobs.id", deferrable=True, initially="DEFERRED"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    """The type found by reading the bytes (never the one the browser declared)."""
    size: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    pages: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_files_user_created", "user_id", "created_at"),)


class Invite(Base):
    """An invitation link an administrator made: single-use, expiring. Only an HMAC of its token is stored."""

    __tablename__ = "invites"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class AppSetting(Base):
    """A setting an administrator changed in the app (the sign-up mode), shared by every instance; it wins over the
    environment's value from then on."""

    __tablename__ = "app_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
