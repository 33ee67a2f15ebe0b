"""The ordered parts of messages: written with a message, read where more than its text matters (PARTS.md).

`messages.content` stays the message's text, the text parts joined, so the many readers of text (the page, REST,
`/ws`, search, export) read one column as before. A message with no part rows is one text part, its `content`:
every message that is only text (its words are not stored twice), a reply while it streams (its parts are written
once, when it ends, never a write per token), or one a crash left (but a reply that thinks gets its reasoning and
text so far as parts at each checkpoint: a crash keeps its reasoning).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from storage.models import MessagePart, PartKind

_parts = MessagePart.__table__


@dataclass(frozen=True, slots=True)
class Part:
    """One part; which fields a kind uses is in storage/PARTS.md."""

    kind: PartKind
    text: str | None = None
    file_id: str | None = None
    call_id: str | None = None
    data: Mapping[str, Any] | None = field(default=None)

    @classmethod
    def of_text(cls, text: str) -> Part:
        return cls(PartKind.TEXT, text=text)

    @classmethod
    def of_file(cls, file_id: str) -> Part:
        return cls(PartKind.FILE, file_id=file_id)


def message_parts(content: str, file_ids: Sequence[str] = ()) -> list[Part]:
    """A user's message: its text, then its files in the order they were attached (an empty text is left out when
    files carry the message)."""
    parts = [Part.of_text(content)] if content or not file_ids else []
    return parts + [Part.of_file(file_id) for file_id in file_ids]


def text_of(parts: Iterable[Part]) -> str:
    """The message's `content`: its text parts, joined by a blank line (a reply has one; tool steps may split it)."""
    return "\n\n".join(part.text or "" for part in parts if part.kind is PartKind.TEXT)


def only_text(parts: Sequence[Part]) -> bool:
    """Whether `parts` are one text part: the message's `content` says it all, so it needs no rows."""
    return len(parts) == 1 and parts[0].kind is PartKind.TEXT and not parts[0].data


def parts_rows(message_id: str, parts: Sequence[Part]) -> list[dict[str, Any]]:
    """The rows of `parts` in order, for an INSERT with other messages' rows (executemany); none for a message that
    is only its text (most messages: their words are not stored twice, and an exchange costs no extra writes)."""
    if only_text(parts):
        return []
    return [
        {
            "message_id": message_id,
            "position": position,
            "kind": str(part.kind),
            "text": part.text,
            "file_id": part.file_id,
            "call_id": part.call_id,
            "data": dict(part.data) if part.data is not None else None,
        }
        for position, part in enumerate(parts)
    ]


def write_parts(c: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        c.execute(_INSERT, list(rows))


def replace_parts(c: Connection, message_id: str, parts: Sequence[Part]) -> None:
    """A message's parts become `parts` (a reply's final write)."""
    c.execute(_DELETE, {"mid": message_id})
    write_parts(c, parts_rows(message_id, parts))


def note_files(c: Connection, message_id: str, notes: Mapping[str, Mapping[str, Any]]) -> None:
    """Set the `data` of the message's parts of these files (file id → data)."""
    if notes:
        c.execute(_NOTE, [{"mid": message_id, "fid": fid, "note": dict(data)} for fid, data in notes.items()])


def read_parts(c: Connection, contents: Mapping[str, str]) -> dict[str, list[Part]]:
    """The parts of each message of `contents` (message id → its `content`), in order; a message without part rows
    gets one text part of its content."""
    found: dict[str, list[Part]] = defaultdict(list)
    ids = list(contents)
    for start in range(0, len(ids), 500):
        for row in c.execute(_READ, {"ids": ids[start : start + 500]}):
            found[row.message_id].append(
                Part(PartKind(row.kind), text=row.text, file_id=row.file_id, call_id=row.call_id, data=row.data)
            )
    return {mid: found.get(mid) or [Part.of_text(content)] for mid, content in contents.items()}


def reasoning_of(c: Connection, message_ids: Sequence[str]) -> dict[str, Part]:
    """The reasoning part of each of these messages that has one (a reply that thought; PARTS.md)."""
    found: dict[str, Part] = {}
    ids = list(message_ids)
    for start in range(0, len(ids), 500):
        for row in c.execute(_REASONING, {"ids": ids[start : start + 500]}):
            found[row.message_id] = Part(PartKind.REASONING, text=row.text, data=row.data)
    return found


def reasoning_and_steps(c: Connection, message_ids: Sequence[str]) -> tuple[dict[str, Part], dict[str, list[Part]]]:
    """What a page draws of these messages beyond their text, in one query: the reasoning part of each that thought
    (as `reasoning_of`), and the text and tool parts, in order, of each that called a tool (its text and tool cards;
    PARTS.md). Messages with neither are left out of both (their `content` says it all)."""
    reasoning: dict[str, Part] = {}
    found: dict[str, list[Part]] = defaultdict(list)
    ids = list(message_ids)
    for start in range(0, len(ids), 500):
        for row in c.execute(_SHOWN, {"ids": ids[start : start + 500]}):
            kind = PartKind(row.kind)
            if kind is PartKind.REASONING:
                reasoning[row.message_id] = Part(kind, text=row.text, data=row.data)
            else:
                found[row.message_id].append(Part(kind, text=row.text, call_id=row.call_id, data=row.data))
    steps = {mid: parts for mid, parts in found.items() if any(p.kind is PartKind.TOOL_CALL for p in parts)}
    return reasoning, steps


def sources_of(c: Connection, message_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """The knowledge passages each of these replies was given (issue 25; PARTS.md), for those that had any."""
    found: dict[str, list[dict[str, Any]]] = {}
    ids = list(message_ids)
    for start in range(0, len(ids), 500):
        for row in c.execute(_SOURCES, {"ids": ids[start : start + 500]}):
            found[row.message_id] = list((row.data or {}).get("sources") or [])
    return found


_INSERT = insert(_parts)
_SOURCES = select(_parts.c.message_id, _parts.c.data).where(
    _parts.c.message_id.in_(bindparam("ids", expanding=True)), _parts.c.kind == PartKind.SOURCES
)
_NOTE = (
    update(_parts)
    .where(
        _parts.c.message_id == bindparam("mid"),
        _parts.c.file_id == bindparam("fid"),
        _parts.c.kind == PartKind.FILE,
    )
    .values(data=bindparam("note"))
)
_DELETE = delete(_parts).where(_parts.c.message_id == bindparam("mid"))
_REASONING = select(_parts.c.message_id, _parts.c.text, _parts.c.data).where(
    _parts.c.message_id.in_(bindparam("ids", expanding=True)), _parts.c.kind == PartKind.REASONING
)
_SHOWN = (
    select(_parts.c.message_id, _parts.c.kind, _parts.c.text, _parts.c.call_id, _parts.c.data)
    .where(
        _parts.c.message_id.in_(
            select(_parts.c.message_id)
            .where(
                _parts.c.message_id.in_(bindparam("ids", expanding=True)),
                _parts.c.kind.in_([PartKind.REASONING, PartKind.TOOL_CALL]),
            )
            .distinct()
            .scalar_subquery()
        ),
        _parts.c.kind.in_([PartKind.REASONING, PartKind.TEXT, PartKind.TOOL_CALL, PartKind.TOOL_RESULT]),
    )
    .order_by(_parts.c.message_id, _parts.c.position)
)
_READ = (
    select(_parts.c.message_id, _parts.c.kind, _parts.c.text, _parts.c.file_id, _parts.c.call_id, _parts.c.data)
    .where(_parts.c.message_id.in_(bindparam("ids", expanding=True)))
    .order_by(_parts.c.message_id, _parts.c.position)
)
