"""Share links: a read-only snapshot of a conversation's active path, reachable by a secret token (issue 26).

One row per shared conversation (`shares.conversation_id` is unique): sharing again replaces the snapshot and keeps
the row, so the link stays the same. The snapshot is the path as it was at that moment, as JSON (`snapshot`): the
page reads it whole and never changes part of it, and a later edit, regenerate or Continue in the conversation does
not reach the people who hold the link. It names the files its messages carried; those stay alive because the row
dies with its conversation (foreign key, cascade) and a conversation's messages, so its file parts, live as long as
it does (PARTS.md).

The token itself is never stored. The caller derives it from `seed` with a key the database does not hold (HMAC with
the app's secret) and stores `token_hash` to find the row: a copy of the database alone opens no link, while the
owner can still be shown their link again. Revoking deletes the row, so every instance answers 404 at once.

"Continue this chat" (`continue_share`) copies the snapshot into another account: a new conversation, its messages
and parts under new ids, and the files copied too (bytes are deduplicated per user, never across users, so the
viewer gets blobs of their own, counted against their quota).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    ForeignKey,
    Integer,
    String,
    Text,
    bindparam,
    delete,
    false,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from storage.database import Repository, rows_changed, statements
from storage.files import QuotaExceeded, attachments_of
from storage.models import (
    Base,
    Blob,
    BlobChunk,
    Conversation,
    File,
    Message,
    MessageStatus,
    PartKind,
    User,
    UTCDateTime,
    new_id,
    utcnow,
)
from storage.parts import Part, parts_rows, reasoning_of, write_parts
from storage.tree import path_rows


class Share(Base):
    """A conversation's share link: who shared it, the snapshot, and until when it opens (None: until revoked)."""

    __tablename__ = "shares"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), unique=True, index=True
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    seed: Mapped[str] = mapped_column(String(64))
    """Random; the token is an HMAC of it under the app's secret (never stored)."""
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str | None] = mapped_column(String(200))
    model: Mapped[str] = mapped_column(String(200))
    snapshot: Mapped[str] = mapped_column(Text)
    """The messages of the path, root first, as JSON (`snapshot_messages` writes it)."""
    messages: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    """When the snapshot was taken (the last time it was shared)."""
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


@dataclass(frozen=True, slots=True)
class ShareInfo:
    """A share link as its lists show it (no snapshot); `username` is the owner's (the administrator's list)."""

    id: str
    conversation_id: str
    user_id: str
    username: str
    seed: str
    title: str | None
    messages: int
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class SharedConversation:
    """What a link shows: the snapshot's messages (dicts, see `snapshot_messages`) and whose files they name."""

    id: str
    user_id: str
    title: str | None
    model: str
    shared_at: datetime
    expires_at: datetime | None
    messages: list[dict[str, Any]]

    def file_ids(self) -> set[str]:
        return {f["id"] for m in self.messages for f in m.get("files", [])}


_shares, _users, _messages = Share.__table__, User.__table__, Message.__table__
_conversations, _files, _blobs, _chunks = Conversation.__table__, File.__table__, Blob.__table__, BlobChunk.__table__


def snapshot_messages(c: Connection, conversation_id: str, leaf: str | None) -> list[dict[str, Any]]:
    """The path root → `leaf` as plain JSON-able dicts: what a reader sees of each message. Left out: errors'
    wording (internal), token counts of the prompt, tool steps (the answer's text is kept) and the system prompt."""
    if leaf is None:
        return []
    rows = path_rows(c, conversation_id, leaf, _messages, _messages.c.id)
    ids = [m.id for m in rows]
    files, reasoning = attachments_of(c, ids), reasoning_of(c, ids)
    shown = []
    for m in rows:
        thought = reasoning.get(m.id)
        seconds = thought.data.get("seconds") if thought is not None and thought.data else None
        shown.append(
            {
                "role": m.role,
                "content": m.content,
                "status": MessageStatus.CANCELLED if m.status == MessageStatus.STREAMING else m.status,
                "model": m.model,
                "completion_tokens": m.completion_tokens,
                "cut_off": bool(m.cut_off),
                "created_at": m.created_at.isoformat(),
                "reasoning": thought.text if thought is not None else None,
                "reasoning_seconds": seconds if isinstance(seconds, int | float) else None,
                "files": [
                    {
                        "id": f.id,
                        "name": f.name,
                        "media_type": f.media_type,
                        "size": f.size,
                        "width": f.width,
                        "height": f.height,
                    }
                    for f in files.get(m.id, [])
                ],
            }
        )
    return shown


class ShareRepository(Repository):
    """Each method is one transaction; those that take a `user_id` answer only for that user's conversations."""

    @statements
    def share(
        self,
        c: Connection,
        user_id: str,
        conversation_id: str,
        *,
        seed: str,
        token_hash: str,
        expires_at: datetime | None,
    ) -> ShareInfo | None:
        """Snapshot the conversation's active path now; a conversation shared before keeps its row, seed and token
        (`seed`/`token_hash` are used for a first share only). None if the conversation is not the user's."""
        conversation = c.execute(
            select(_conversations).where(_conversations.c.id == conversation_id, _conversations.c.user_id == user_id)
        ).one_or_none()
        if conversation is None:
            return None
        messages = snapshot_messages(c, conversation_id, conversation.active_message_id)
        now = utcnow()
        values = {
            "title": conversation.title,
            "model": conversation.model,
            "snapshot": json.dumps(messages, ensure_ascii=False),
            "messages": len(messages),
            "updated_at": now,
            "expires_at": expires_at,
        }
        changed = c.execute(update(_shares).where(_shares.c.conversation_id == conversation_id).values(**values))
        if rows_changed(changed) == 0:
            try:
                with c.begin_nested():
                    c.execute(
                        insert(_shares).values(
                            id=new_id(),
                            conversation_id=conversation_id,
                            user_id=user_id,
                            seed=seed,
                            token_hash=token_hash,
                            created_at=now,
                            **values,
                        )
                    )
            except IntegrityError:  # shared at the same moment by another request: that row wins, with this snapshot
                c.execute(update(_shares).where(_shares.c.conversation_id == conversation_id).values(**values))
        return _infos(c, _shares.c.conversation_id == conversation_id)[0]

    @statements
    def revoke(self, c: Connection, user_id: str, conversation_id: str) -> bool:
        """Delete the conversation's link; False if it has none or is not the user's."""
        gone = delete(_shares).where(_shares.c.conversation_id == conversation_id, _shares.c.user_id == user_id)
        return rows_changed(c.execute(gone)) > 0

    @statements
    def revoke_any(self, c: Connection, share_id: str) -> bool:
        """An administrator's revocation of any link, by its id."""
        return rows_changed(c.execute(delete(_shares).where(_shares.c.id == share_id))) > 0

    @statements
    def of_user(self, c: Connection, user_id: str) -> list[ShareInfo]:
        """The user's links, newest snapshot first (expired ones too: they can be shared again or revoked)."""
        return _infos(c, _shares.c.user_id == user_id)

    @statements
    def everyone(self, c: Connection) -> list[ShareInfo]:
        return _infos(c, None)

    @statements
    def of_conversation(self, c: Connection, user_id: str, conversation_id: str) -> ShareInfo | None:
        found = _infos(c, (_shares.c.conversation_id == conversation_id) & (_shares.c.user_id == user_id))
        return found[0] if found else None

    @statements
    def open(self, c: Connection, token_hash: str, now: datetime) -> SharedConversation | None:
        """The snapshot behind a token, or None if there is none or it expired (the two are not told apart)."""
        row = c.execute(_OPEN, {"hash": token_hash, "now": now}).one_or_none()
        if row is None:
            return None
        return SharedConversation(
            row.id, row.user_id, row.title, row.model, row.updated_at, row.expires_at, json.loads(row.snapshot)
        )

    @statements
    def continue_share(
        self, c: Connection, token_hash: str, viewer_id: str, now: datetime, *, quota_bytes: int
    ) -> str | None:
        """Copy the snapshot into a new conversation of the viewer's (the newest in their list); its id, or None if
        the link does not open. `QuotaExceeded` (nothing written) if its files would not fit the viewer's quota."""
        row = c.execute(_OPEN, {"hash": token_hash, "now": now}).one_or_none()
        if row is None:
            return None
        messages: list[dict[str, Any]] = json.loads(row.snapshot)
        file_ids = _copy_files(c, row.user_id, viewer_id, messages, quota_bytes)
        viewer = c.execute(
            select(_users.c.default_system_prompt, _users.c.default_tools).where(_users.c.id == viewer_id)
        ).one()
        conversation_id, ids = new_id(), [new_id() for _ in messages]
        stamp = utcnow()
        c.execute(
            insert(_conversations).values(
                id=conversation_id,
                user_id=viewer_id,
                title=row.title,
                model=row.model,
                created_at=stamp,
                updated_at=stamp,
                active_message_id=ids[-1] if ids else None,
                system_prompt=viewer.default_system_prompt,
                tools=viewer.default_tools,
            )
        )
        if not messages:
            return conversation_id
        c.execute(
            insert(_messages),
            [
                {
                    "id": ids[i],
                    "conversation_id": conversation_id,
                    "parent_id": ids[i - 1] if i else None,
                    "role": m["role"],
                    "content": m["content"],
                    "status": m["status"],
                    "model": m.get("model"),
                    "completion_tokens": m.get("completion_tokens"),
                    "cut_off": bool(m.get("cut_off")),
                    "created_at": datetime.fromisoformat(m["created_at"]),
                }
                for i, m in enumerate(messages)
            ],
        )
        rows: list[dict[str, Any]] = []
        for message_id, m in zip(ids, messages, strict=True):
            rows += parts_rows(message_id, _parts_of(m, file_ids))
        write_parts(c, rows)
        return conversation_id


def _parts_of(message: dict[str, Any], file_ids: dict[str, str]) -> list[Part]:
    """A snapshot message's parts in the order PARTS.md gives: reasoning, text, then files (under the copy's ids)."""
    parts = []
    if message.get("reasoning"):
        seconds = message.get("reasoning_seconds")
        data = {"seconds": seconds} if seconds else None
        parts.append(Part(PartKind.REASONING, text=message["reasoning"], data=data))
    files = [Part.of_file(file_ids[f["id"]]) for f in message.get("files", []) if f["id"] in file_ids]
    if message["content"] or not files:
        parts.append(Part.of_text(message["content"]))
    return parts + files


def _copy_files(
    c: Connection, owner_id: str, viewer_id: str, messages: list[dict[str, Any]], quota_bytes: int
) -> dict[str, str]:
    """Copy the snapshot's files from the owner into the viewer's account: the owner's file id → the copy's id.
    Bytes the viewer already holds are shared (same SHA-256); the rest must fit the viewer's quota."""
    wanted = list(dict.fromkeys(f["id"] for m in messages for f in m.get("files", [])))
    if not wanted:
        return {}
    sources = c.execute(
        select(_files, _blobs.c.sha256)
        .join(_blobs, _blobs.c.id == _files.c.blob_id)
        .where(_files.c.user_id == owner_id, _files.c.id.in_(wanted))
    ).all()
    c.execute(select(_users.c.id).where(_users.c.id == viewer_id).with_for_update())  # as storing a file does
    held = dict(c.execute(select(_blobs.c.sha256, _blobs.c.id).where(_blobs.c.user_id == viewer_id)).tuples().all())
    new_blobs = {s.sha256: s for s in sources if s.sha256 not in held}
    needed = sum(s.size for s in new_blobs.values())
    used = int(c.execute(select(func.sum(_blobs.c.size)).where(_blobs.c.user_id == viewer_id)).scalar() or 0)
    if needed and used + needed > quota_bytes:
        raise QuotaExceeded(used, needed, quota_bytes)
    now = utcnow()
    for sha256, source in new_blobs.items():
        blob_id = new_id()
        c.execute(insert(_blobs).values(id=blob_id, user_id=viewer_id, sha256=sha256, size=source.size, created_at=now))
        c.execute(_COPY_CHUNKS, {"new": blob_id, "old": source.blob_id})
        held[sha256] = blob_id
    copies: dict[str, str] = {}
    for source in sources:
        copies[source.id] = new_id()
        values = {k: getattr(source, k) for k in ("name", "media_type", "size", "width", "height", "pages")}
        c.execute(
            insert(_files).values(
                id=copies[source.id],
                user_id=viewer_id,
                blob_id=held[source.sha256],
                created_at=now,
                attached_at=now,
                **values,
            )
        )
    return copies


def _infos(c: Connection, where: Any) -> list[ShareInfo]:
    query = select(
        _shares.c.id,
        _shares.c.conversation_id,
        _shares.c.user_id,
        _users.c.username,
        _shares.c.seed,
        _shares.c.title,
        _shares.c.messages,
        _shares.c.created_at,
        _shares.c.updated_at,
        _shares.c.expires_at,
    ).join(_users, _users.c.id == _shares.c.user_id)
    if where is not None:
        query = query.where(where)
    return [ShareInfo(**row._mapping) for row in c.execute(query.order_by(_shares.c.updated_at.desc(), _shares.c.id))]


_OPEN = (
    select(_shares)
    .join(_users, _users.c.id == _shares.c.user_id)
    .where(
        _shares.c.token_hash == bindparam("hash"),
        (_shares.c.expires_at.is_(None)) | (_shares.c.expires_at > bindparam("now", type_=UTCDateTime())),
        _users.c.is_disabled == false(),  # a disabled account's links close with it (and open again if enabled)
    )
)
_COPY_CHUNKS = insert(_chunks).from_select(
    ["blob_id", "seq", "data"],
    select(bindparam("new", type_=String()), _chunks.c.seq, _chunks.c.data).where(
        _chunks.c.blob_id == bindparam("old")
    ),
)
