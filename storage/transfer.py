"""Whole conversations in and out: read one (tree, settings, usage) for export, write one imported conversation.

Both sides use the same plain records, so an export read back by the importer gives the same conversation. An
import is one transaction per conversation (whole or not at all), and remembers where the conversation came from
(`conversation_sources`) so the same file imported again creates nothing. A message's files travel as
`AttachmentRecord`s: written back as its file parts (after its text, PARTS.md), only for files the user owns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select
from sqlalchemy.exc import IntegrityError

from storage.database import Repository, statements
from storage.files import attachments_of, mark_attached, owned_ids
from storage.models import Conversation, ConversationSource, Message, PartKind, new_id
from storage.organize import folder_at, folder_path, replace_tags, tags_by_conversation
from storage.parts import Part, message_parts, parts_rows, read_parts, sources_of, write_parts


@dataclass(slots=True)
class AttachmentRecord:
    """A file a message carries: its id (the source's own), name, type and size."""

    id: str
    name: str
    media_type: str
    size: int


@dataclass(slots=True)
class MessageRecord:
    """One message of a conversation's tree; `id` and `parent_id` are the source's own ids."""

    id: str
    parent_id: str | None
    role: str
    content: str
    created_at: datetime
    status: str = "done"
    model: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    error: str | None = None
    attachments: list[AttachmentRecord] = field(default_factory=list)
    tool_steps: list[dict[str, Any]] = field(default_factory=list)
    """A reply with tool steps: its parts in order, `{"kind", "text", "call_id", "data"}` (PARTS.md), written back
    as they were; empty for every other message (its text is its `content`)."""
    sources: list[dict[str, Any]] = field(default_factory=list)
    """A reply's knowledge passages (its `sources` part, PARTS.md), numbered as it cites them."""


@dataclass(slots=True)
class ConversationRecord:
    """A conversation with every message (parents before children) and its settings."""

    id: str
    title: str | None
    model: str
    created_at: datetime
    updated_at: datetime
    messages: list[MessageRecord] = field(default_factory=list)
    active_message_id: str | None = None
    system_prompt: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None
    seed: int | None = None
    reasoning_effort: str | None = None
    pinned: bool = False
    archived: bool = False
    folder: list[str] = field(default_factory=list)
    """The names of its folder, from the top level down (`[]`: in none): ids do not travel, names do."""
    tags: list[str] = field(default_factory=list)
    preset_id: str | None = None
    """The preset it started from: its id in the account the record was read from."""

    def active_path(self) -> list[MessageRecord]:
        """Root → active leaf: what the conversation shows."""
        by_id = {m.id: m for m in self.messages}
        path: list[MessageRecord] = []
        current = by_id.get(self.active_message_id or "")
        while current is not None and len(path) <= len(self.messages):
            path.append(current)
            current = by_id.get(current.parent_id or "")
        return path[::-1]


class TransferRepository(Repository):
    @statements
    def conversation_page(
        self, c: Connection, user_id: str, after: tuple[datetime, str] | None, limit: int
    ) -> list[tuple[datetime, str]]:
        """(created_at, id) of the user's next conversations, oldest first: an export walks the account by pages."""
        query = select(Conversation.created_at, Conversation.id).where(Conversation.user_id == user_id)
        if after is not None:
            query = query.where(
                (Conversation.created_at > after[0])
                | ((Conversation.created_at == after[0]) & (Conversation.id > after[1]))
            )
        rows = c.execute(query.order_by(Conversation.created_at, Conversation.id).limit(limit))
        return [(row[0], row[1]) for row in rows]

    @statements
    def export_conversation(self, c: Connection, user_id: str, conversation_id: str) -> ConversationRecord | None:
        """The conversation as a record, or None if it is not the user's."""
        return read_conversation(c, user_id, conversation_id)

    @statements
    def import_conversation(
        self, c: Connection, user_id: str, record: ConversationRecord, source: str, *, same_as: str | None = None
    ) -> str | None:
        """Write the conversation with new ids; its id, or None (and nothing written) if it is already here.

        Already here: `source` was imported before, or `same_as` names a conversation of this user (an export of
        this very account).
        """
        return write_conversation(c, user_id, record, source, same_as=same_as, presets={})  # no preset travels

    @statements
    def refresh_statistics(self, c: Connection) -> None:
        """After a large import on PostgreSQL: the planner's word frequencies (search plans by them) are renewed now
        rather than whenever autovacuum gets to it. Nothing to do on SQLite."""
        if c.dialect.name == "postgresql":
            c.exec_driver_sql("ANALYZE messages, conversations")


# -- one conversation, inside a transaction of the caller's (the export, the import, and the undo of a deletion) ------


def read_conversation(c: Connection, user_id: str, conversation_id: str) -> ConversationRecord | None:
    """The conversation as a record, or None if it is not the user's."""
    conversation = c.execute(
        select(Conversation).where(Conversation.id == conversation_id, Conversation.user_id == user_id)
    ).one_or_none()
    if conversation is None:
        return None
    rows = c.execute(
        select(Message).where(Message.conversation_id == conversation_id).order_by(Message.created_at, Message.id)
    ).all()
    record = _record(conversation, rows)
    record.folder = folder_path(c, conversation.folder_id)
    record.tags = tags_by_conversation(c, [conversation_id]).get(conversation_id, [])
    files = attachments_of(c, [m.id for m in record.messages])
    for message in record.messages:
        message.attachments = [AttachmentRecord(f.id, f.name, f.media_type, f.size) for f in files.get(message.id, [])]
    replies = {m.id: m.content for m in record.messages if m.role == "assistant"}
    for message_id, parts in read_parts(c, replies).items():
        if any(part.kind in TOOL_KINDS for part in parts):
            steps = [{"kind": str(p.kind), "text": p.text, "call_id": p.call_id, "data": p.data} for p in parts]
            next(m for m in record.messages if m.id == message_id).tool_steps = steps
    for message_id, given in sources_of(c, list(replies)).items():
        next(m for m in record.messages if m.id == message_id).sources = given
    return record


def write_conversation(
    c: Connection,
    user_id: str,
    record: ConversationRecord,
    source: str,
    *,
    same_as: str | None = None,
    presets: Mapping[str, str] | None = None,
) -> str | None:
    """Write the conversation with new ids; its id, or None (and nothing written) if it is already here.

    `presets` maps the record's preset ids to this account's (an import's: the presets of its file, as imported); a
    preset it does not name is left out, so an id never points into another account. None keeps the record's own
    (the undo of a deletion, in the account it was read from)."""
    known = select(ConversationSource.conversation_id).where(
        ConversationSource.user_id == user_id, ConversationSource.source == source
    )
    if c.execute(known).first() is not None:
        return None
    if same_as is not None:
        mine = select(Conversation.id).where(Conversation.id == same_as, Conversation.user_id == user_id)
        if c.execute(mine).first() is not None:
            return None
    conversation_id = new_id()
    ids = {m.id: new_id() for m in record.messages}
    try:
        with c.begin_nested():
            c.execute(
                insert(Conversation).values(
                    id=conversation_id,
                    user_id=user_id,
                    title=record.title,
                    model=record.model,
                    created_at=record.created_at,
                    updated_at=record.updated_at,
                    **_conversation_tree_values(record, ids),
                    pinned=record.pinned,
                    archived=record.archived,
                    folder_id=folder_at(c, user_id, record.folder),
                    preset_id=record.preset_id if presets is None else presets.get(record.preset_id or ""),
                )
            )
            replace_tags(c, user_id, conversation_id, record.tags)
            if record.messages:
                c.execute(insert(Message), [_message_values(m, conversation_id, ids) for m in record.messages])
                _write_files(c, user_id, record.messages, ids)
                _write_tool_steps(c, record.messages, ids)
            c.execute(
                insert(ConversationSource).values(
                    conversation_id=conversation_id, user_id=user_id, source=source, imported_at=record.updated_at
                )
            )
    except IntegrityError:  # the same source imported by a concurrent job a moment ago
        return None
    return conversation_id


TOOL_KINDS = (PartKind.TOOL_CALL, PartKind.TOOL_RESULT)
STEP_KINDS = {PartKind.TEXT, PartKind.REASONING, *TOOL_KINDS}


def _write_tool_steps(c: Connection, messages: Sequence[MessageRecord], ids: dict[str, str]) -> None:
    """The parts of replies with tool steps, as exported (kinds other than text, reasoning and tool steps are left
    out: a record never names a file through them), then their knowledge sources."""
    rows = []
    for message in messages:
        if message.role != "assistant" or message.attachments or not (message.tool_steps or message.sources):
            continue
        parts = [
            Part(PartKind(step["kind"]), text=step.get("text"), call_id=step.get("call_id"), data=step.get("data"))
            for step in message.tool_steps
            if step.get("kind") in STEP_KINDS
        ] or [Part.of_text(message.content)]
        if message.sources:
            parts.append(Part(PartKind.SOURCES, data={"sources": message.sources}))
        rows += parts_rows(ids[message.id], parts)
    write_parts(c, rows)


def _write_files(c: Connection, user_id: str, messages: Sequence[MessageRecord], ids: dict[str, str]) -> None:
    """The file parts of the messages that carry files the user owns (any other id is left out: a record never
    reaches someone else's file); the others keep no part rows, which reads as one text part (PARTS.md)."""
    wanted = [a.id for m in messages for a in m.attachments]
    if not wanted:
        return
    mine = owned_ids(c, user_id, wanted)
    rows = []
    for message in messages:
        file_ids = list(dict.fromkeys(a.id for a in message.attachments if a.id in mine))
        if file_ids:
            rows += parts_rows(ids[message.id], message_parts(message.content, file_ids))
    write_parts(c, rows)
    mark_attached(c, list(mine))


# -- the tree's columns -----------------------------------------------------------------------------------------------
# The only place that maps a conversation's tree (parent_id, the active leaf, its settings) to and from records.


def _record(conv: Row[Any], rows: Sequence[Row[Any]]) -> ConversationRecord:
    messages = [
        MessageRecord(
            id=message.id,
            parent_id=message.parent_id,
            role=message.role,
            content=message.content,
            created_at=message.created_at,
            status=message.status,
            model=message.model,
            prompt_tokens=message.prompt_tokens,
            completion_tokens=message.completion_tokens,
            error=message.error,
        )
        for message in rows
    ]
    return ConversationRecord(
        id=conv.id,
        title=conv.title,
        model=conv.model,
        created_at=conv.created_at,
        updated_at=conv.updated_at,
        messages=messages,
        active_message_id=conv.active_message_id,
        system_prompt=conv.system_prompt,
        temperature=conv.temperature,
        max_tokens=conv.max_tokens,
        top_p=conv.top_p,
        seed=conv.seed,
        reasoning_effort=conv.reasoning_effort,
        pinned=conv.pinned,
        archived=conv.archived,
        preset_id=conv.preset_id,
    )


def _conversation_tree_values(record: ConversationRecord, ids: dict[str, str]) -> dict[str, object]:
    """The new ids' active leaf (the record's, else its last message: parents come first, so that is a leaf)."""
    leaf = ids.get(record.active_message_id or "")
    if leaf is None and record.messages:
        leaf = ids[record.messages[-1].id]
    return {
        "active_message_id": leaf,
        "system_prompt": record.system_prompt,
        "temperature": record.temperature,
        "max_tokens": record.max_tokens,
        "top_p": record.top_p,
        "seed": record.seed,
        "reasoning_effort": record.reasoning_effort,
    }


def _message_values(message: MessageRecord, conversation_id: str, ids: dict[str, str]) -> dict[str, object]:
    return {
        "id": ids[message.id],
        "conversation_id": conversation_id,
        "parent_id": ids.get(message.parent_id) if message.parent_id is not None else None,
        "role": message.role,
        "content": message.content,
        "status": message.status,
        "model": message.model,
        "completion_tokens": message.completion_tokens,
        "prompt_tokens": message.prompt_tokens,
        "error": message.error,
        "created_at": message.created_at,
    }
