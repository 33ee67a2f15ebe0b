"""What every imported conversation is brought to, whatever format it came in, before it is stored.

`finish()` checks the tree and normalises it: parents before children, one root or more, text without NUL,
monotonic times along each path, titles, model ids and system prompts at most the lengths the app allows.
`cut_long_messages()` holds message texts to the limit typed messages have (`CHATUI_MAX_MESSAGE_CHARS`): a longer
one is cut and says so at its end, so the reader sees that something is missing. A conversation that cannot be read
raises `BadConversation` with a reason, and the others go on.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from storage.transfer import ConversationRecord, MessageRecord

MAX_TITLE = 200
MAX_MODEL = 200
MAX_SYSTEM_PROMPT = 8_000
ROLES = {"user", "assistant"}
STATUSES = {"done", "cancelled", "error", "interrupted"}
_TICK = timedelta(microseconds=1)


class SourceIn(BaseModel):
    """A knowledge passage a reply was given (issue 25), as chatui/1 carries it (`messages[].sources`): typed and
    bounded like everything a file brings. Its ids are only shown and linked: opening a passage checks that the
    reader may read the document, so an imported id of someone else's document opens nothing."""

    model_config = ConfigDict(extra="ignore")

    n: int = Field(ge=1, le=1000)
    document_id: str = Field(max_length=64)
    document_name: str = Field(max_length=300)
    collection_id: str = Field(max_length=64)
    chunk_id: int = Field(ge=0)
    page: int | None = Field(None, ge=0)
    heading: str | None = Field(None, max_length=2000)
    excerpt: str = Field("", max_length=2000)


class BadConversation(Exception):
    """One conversation of a file cannot be imported (the reason is shown to the user)."""


def aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def epoch(value: Any) -> datetime | None:
    """Seconds since 1970 (Open WebUI sometimes writes milliseconds or nanoseconds); None if absent or absurd."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        return None
    while value > 1e11:  # milliseconds, microseconds, nanoseconds
        value /= 1000
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def clean(text: str | None, limit: int | None = None) -> str | None:
    """PostgreSQL cannot store NUL; titles and model ids have length limits."""
    if text is None:
        return None
    text = text.replace("\x00", "")
    return text[:limit] if limit is not None else text


MAX_NOTED_FILES = 20


def files_note(names: list[str], *, after: str) -> str:
    """The line that names the files a message carried in the other app (their bytes are not in its export), to
    add at the end of its text `after`; empty without files."""
    if not names:
        return ""
    shown = [" ".join(name.split())[:200] for name in names[:MAX_NOTED_FILES]]
    more = f" and {len(names) - MAX_NOTED_FILES} more" if len(names) > MAX_NOTED_FILES else ""
    note = f"[Files attached to this message were not imported: {', '.join(shown)}{more}]"
    return f"\n\n{note}" if after.strip() else note


def cut_note(length: int, limit: int) -> str:
    return f"\n\n[Cut on import: this message had {length:,} characters; chatui keeps {limit:,}.]"


def cut_long_messages(record: ConversationRecord, limit: int) -> int:
    """Cut every message longer than `limit` characters to `limit`, its end saying so; how many were cut."""
    cut = 0
    for message in record.messages:
        length = len(message.content)
        if length > limit:
            note = cut_note(length, limit)
            message.content = message.content[: max(0, limit - len(note))] + note
            cut += 1
    return cut


def finish(record: ConversationRecord) -> ConversationRecord:
    """Check the tree and bring it to what the app stores (see the module docstring); raises `BadConversation`
    (or `OverflowError` for a time at the edge of what a datetime holds, moved by a time zone or a tick)."""
    by_id: dict[str, MessageRecord] = {}
    for message in record.messages:
        if message.id in by_id:
            raise BadConversation(f"message {message.id[:40]!r} appears twice")
        by_id[message.id] = message
    children: dict[str | None, list[MessageRecord]] = {}
    for message in record.messages:
        if message.parent_id is not None and message.parent_id not in by_id:
            raise BadConversation(f"message {message.id[:40]!r} follows a message that is not in the file")
        children.setdefault(message.parent_id, []).append(message)
    ordered: list[MessageRecord] = []
    stack = [(m, None) for m in reversed(children.get(None, []))]
    while stack:
        message, parent = stack.pop()
        if message.role not in ROLES:
            raise BadConversation(f"message {message.id[:40]!r} has the role {message.role[:20]!r}")
        message.content = clean(message.content) or ""
        message.model = clean(message.model, MAX_MODEL)
        message.status = message.status if message.status in STATUSES else "interrupted"
        message.created_at = aware(message.created_at)
        if parent is not None and message.created_at <= parent.created_at:
            message.created_at = parent.created_at + _TICK  # versions and replies sort after what they follow
        ordered.append(message)
        stack.extend((child, message) for child in reversed(children.get(message.id, [])))
    if len(ordered) != len(record.messages):
        raise BadConversation("its messages form a loop")
    record.messages = ordered
    record.title = clean(record.title, MAX_TITLE)
    record.model = clean(record.model, MAX_MODEL) or record.model
    record.system_prompt = clean(record.system_prompt, MAX_SYSTEM_PROMPT)
    if record.temperature is not None and not (0 <= record.temperature <= 2):
        record.temperature = None
    if record.active_message_id not in by_id:
        record.active_message_id = _newest_leaf(ordered, children)
    else:
        record.active_message_id = _newest_leaf_below(by_id[record.active_message_id], children)
    last = max((m.created_at for m in ordered), default=record.created_at)
    record.updated_at = max(aware(record.updated_at), last)
    return record


def _newest_leaf(ordered: list[MessageRecord], children: dict[str | None, list[MessageRecord]]) -> str | None:
    leaves = [m for m in ordered if not children.get(m.id)]
    return max(leaves, key=lambda m: m.created_at).id if leaves else None


def _newest_leaf_below(message: MessageRecord, children: dict[str | None, list[MessageRecord]]) -> str:
    """The active message must be a leaf: below a chosen message, follow the newest child down."""
    while children.get(message.id):
        message = max(children[message.id], key=lambda m: m.created_at)
    return message.id
