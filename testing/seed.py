"""Long histories written straight into the database: thousands of conversations or messages in a second.

Shared by the tests of the windowed chat page and sidebar and by `bench.long_chat`. Rows go in with Core inserts
in one transaction, timestamps spaced so the written order is unambiguous.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, create_engine, insert, update

from storage.models import Conversation, Message, MessageStatus, new_id, utcnow

MODEL = "ollama:llama3.2:3b"
T = TypeVar("T")


def into_sqlite(database: Path, work: Callable[[Connection], T]) -> T:
    """Run `work` on a (running) server's SQLite file in one transaction, from this process: WAL lets the server
    keep serving meanwhile."""
    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.begin() as connection:
            return work(connection)
    finally:
        engine.dispose()


def sample_markdown(index: int) -> str:
    """Mixed Markdown of a few sizes: prose, a list, a code block, a table; each text names its index."""
    kind = index % 4
    if kind == 0:
        return f"Message {index}: a short one."
    if kind == 1:
        return (
            f"## Answer {index}\n\nHere is **some bold text** and `inline code`, then a list:\n\n"
            "- first point with a [link](https://example.org)\n- second point\n- third point\n\n"
            "A closing paragraph that is long enough to wrap across a line or two in the bubble, like real replies."
        )
    if kind == 2:
        return (
            f"Code for message {index}:\n\n```python\ndef total(items):\n    return sum(i.size for i in items)\n```\n\n"
            "That is all."
        )
    return f"| n | value |\n|---|---|\n| {index} | {index * 2} |\n| {index + 1} | {index * 2 + 2} |\n\nTable {index}."


def snippet(index: int) -> str:
    """Text that only message `index` shows (in its rendered HTML and on screen)."""
    return [f"Message {index}: a short one.", f"Answer {index}<", f"Code for message {index}:", f"Table {index}."][
        index % 4
    ]


def seed_conversation(
    connection: Connection,
    user_id: str,
    messages: int,
    *,
    title: str = "A long conversation",
    start: datetime | None = None,
    text: Callable[[int], str] = sample_markdown,
) -> tuple[str, list[str]]:
    """A conversation of `messages` alternating user/assistant messages, one path (each message under the one
    before, the last one the active leaf); returns its id and the message ids."""
    start = start or utcnow() - timedelta(seconds=messages + 10)
    conversation_id = new_id()
    connection.execute(
        insert(Conversation),
        [
            {
                "id": conversation_id,
                "user_id": user_id,
                "title": title,
                "model": MODEL,
                "created_at": start,
                "updated_at": start + timedelta(seconds=messages),
            }
        ],
    )
    return conversation_id, seed_messages(connection, conversation_id, messages, start=start, text=text)


def seed_messages(
    connection: Connection,
    conversation_id: str,
    messages: int,
    *,
    start: datetime | None = None,
    text: Callable[[int], str] = sample_markdown,
) -> list[str]:
    """`messages` alternating user/assistant messages one second apart from `start` (by default ending 10 s ago),
    into an existing (empty) conversation as one path, the last one its active leaf; returns their ids."""
    start = start or utcnow() - timedelta(seconds=messages + 10)
    ids = [new_id() for _ in range(messages)]
    rows = [
        {
            "id": ids[i],
            "conversation_id": conversation_id,
            "parent_id": ids[i - 1] if i else None,
            "role": "user" if i % 2 == 0 else "assistant",
            "content": text(i),
            "status": MessageStatus.DONE,
            "model": None if i % 2 == 0 else MODEL,
            "completion_tokens": None if i % 2 == 0 else 40,
            "prompt_tokens": None,
            "error": None,
            "created_at": start + timedelta(seconds=i),
        }
        for i in range(messages)
    ]
    for chunk in range(0, len(rows), 5000):
        connection.execute(insert(Message), rows[chunk : chunk + 5000])
    if ids:
        connection.execute(
            update(Conversation).where(Conversation.id == conversation_id).values(active_message_id=ids[-1])
        )
    return ids


def seed_conversations(connection: Connection, user_id: str, count: int, *, now: datetime | None = None) -> list[str]:
    """`count` empty conversations titled "Conversation <i>", one an hour back from `now` (the last is the newest);
    returns their ids, oldest first."""
    now = now or utcnow()
    ids = [new_id() for _ in range(count)]
    rows = []
    for i, conversation_id in enumerate(ids):
        stamp = now - timedelta(hours=count - 1 - i)
        rows.append(
            {
                "id": conversation_id,
                "user_id": user_id,
                "title": f"Conversation {i}",
                "model": MODEL,
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
    for chunk in range(0, len(rows), 5000):
        connection.execute(insert(Conversation), rows[chunk : chunk + 5000])
    return ids
