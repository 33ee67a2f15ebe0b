"""What the tool cards cost a page read: `path_page` (a page of 30, what the chat page opens with) reading the reasoning
only (`storage.parts.reasoning_of`, as before the cards) against reading the reasoning and the tool steps in one query
(`storage.parts.reasoning_and_steps`, now; issue 24).

    python -m bench.tool_pages                                   # SQLite file in a temporary folder
    python -m bench.tool_pages --url postgresql://127.0.0.1:5432/test_bench   # an existing, empty database

Two conversations of one user, 30 messages each: `plain` (15 questions, 15 text replies: the common case, where the
query finds nothing) and `tools` (15 replies each with text, two tool calls, their results and more text). The two
ways run interleaved, read by read, so both see the same load; prints median and p95 in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import Connection

import storage.paging
from storage import AccountRepository, ConversationRepository, Database, MessageStatus, mark_interrupted
from storage.models import PartKind
from storage.parts import Part, reasoning_and_steps, reasoning_of


def tool_parts(index: int) -> list[Part]:
    parts: list[Part] = [Part.of_text(f"Let me look ({index}).")]
    for call in range(2):
        call_id = f"call-{index}-{call}"
        arguments = {"query": f"question {index}", "limit": 5}
        parts.append(Part(PartKind.TOOL_CALL, call_id=call_id, data={"name": "chatui:search", "arguments": arguments}))
    for call in range(2):
        data = {"name": "chatui:search", "is_error": False, "seconds": 0.01}
        parts.append(Part(PartKind.TOOL_RESULT, text="a result " * 40, call_id=f"call-{index}-{call}", data=data))
    parts.append(Part.of_text("Here is what I found. " * 10))
    return parts


async def build(chats: ConversationRepository, user_id: str, *, tools: bool) -> str:
    conversation = await chats.create_conversation(user_id, "ollama:m")
    reply: str | None = None
    for index in range(15):
        _, reply = await chats.start_exchange(
            user_id, conversation.id, f"Question {index}?", "ollama:m", "T", parent_id=reply
        )
        parts = tool_parts(index) if tools else None
        content = "\n\n".join(p.text or "" for p in parts or [] if p.kind is PartKind.TEXT) or "An answer. " * 20
        await chats.finish_message(reply, content=content, status=MessageStatus.DONE, completion_tokens=9, parts=parts)
    return conversation.id


async def main(url: str | None, runs: int) -> None:
    folder = tempfile.TemporaryDirectory()
    db = Database(url or f"sqlite:///{Path(folder.name) / 'bench.db'}")
    db.prepare(mark_interrupted)
    accounts, chats = AccountRepository(db), ConversationRepository(db)
    user = await accounts.create_user("bench-tools", "x")
    plain, tooled = await build(chats, user.id, tools=False), await build(chats, user.id, tools=True)
    conversations = {"plain": plain, "tools": tooled}
    page = await chats.path_page(user.id, tooled, limit=30)
    assert len(page.steps) == 15 and len(page.messages) == 30, (len(page.steps), len(page.messages))

    def before(connection: Connection, ids: Sequence[str]) -> tuple[dict[str, Part], dict[str, list[Part]]]:
        return reasoning_of(connection, ids), {}

    timings: dict[tuple[str, str], list[float]] = {}
    for _ in range(runs):
        for name, conversation_id in conversations.items():
            for variant, query in (("reasoning+steps", reasoning_and_steps), ("reasoning only", before)):
                storage.paging.reasoning_and_steps = query
                began = time.perf_counter()
                await chats.path_page(user.id, conversation_id, limit=30)
                timings.setdefault((name, variant), []).append((time.perf_counter() - began) * 1000)
    storage.paging.reasoning_and_steps = reasoning_and_steps
    print(f"{db.engine.dialect.name}, {runs} reads each, ms")
    for (name, variant), series in timings.items():
        series.sort()
        p95 = series[min(len(series) - 1, int(len(series) * 0.95))]
        print(f"{name:6} {variant:15} p50 {statistics.median(series):.3f}  p95 {p95:.3f}")
    await db.close()
    folder.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a database URL (default: a new SQLite file)")
    parser.add_argument("--runs", type=int, default=300)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.url, arguments.runs))
