"""Reading a conversation's active path: on a 10,000-message path, and on a conversation with 1,000 branches.

    python -m bench.tree_path                                   # SQLite file in a temporary folder
    python -m bench.tree_path --url postgresql://127.0.0.1:5432/test_bench   # an existing, empty database

Builds three conversations with one user: `long` (one path of 10,000 messages), `branched` (a 200-message path
with 1,000 other versions hanging off it: every fifth message regenerated or edited 25 times, each branch two
messages long) and, as the baseline, `short` (a 200-message path, no branches). Then times, on the database thread
as the app runs it: the whole active path (`path_page` without a limit: what the model is sent), a page of 50 (what
a page opens with), the page of 50 above a message in the middle (scrolling up), the path turns a reply is built
from (`reply_context`: with the app's prompt budget, `Settings.prompt_max_chars`, and unbounded), and a
version switch (`set_active` + reading the new path). Prints the median and p95 of
`--runs` runs of each, in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

from chatui.config import Settings
from storage import AccountRepository, Anchor, ConversationRepository, Database, mark_interrupted
from storage.models import Conversation, Message, new_id, utcnow


def _build(db: Database, user_id: str, title: str, path_length: int, branches: int) -> tuple[str, list[str]]:
    """A conversation with a path of `path_length` messages and `branches` two-message side branches; returns its id
    and the ids on the path."""
    conversation_id, now = new_id(), utcnow()
    path = [new_id() for _ in range(path_length)]
    rows = []
    for index, message_id in enumerate(path):
        rows.append(
            {
                "id": message_id,
                "conversation_id": conversation_id,
                "parent_id": path[index - 1] if index else None,
                "role": "user" if index % 2 == 0 else "assistant",
                "content": f"message {index} " + "lorem ipsum " * 20,
                "status": "done",
                "created_at": now + timedelta(seconds=index),
            }
        )
    anchors = [i for i in range(0, path_length, 5)] or [0]
    for branch in range(branches):
        at = anchors[branch % len(anchors)]
        parent = path[at - 1] if at else None
        first, second = new_id(), new_id()
        for offset, (message_id, parent_id) in enumerate(((first, parent), (second, first))):
            rows.append(
                {
                    "id": message_id,
                    "conversation_id": conversation_id,
                    "parent_id": parent_id,
                    "role": ("user" if at % 2 == 0 else "assistant") if offset == 0 else "assistant",
                    "content": f"branch {branch} " + "dolor sit amet " * 20,
                    "status": "done",
                    # older than the path's own messages, so the path stays the newest (the active one)
                    "created_at": now - timedelta(days=1) + timedelta(seconds=branch * 2 + offset),
                }
            )
    with db.engine.begin() as connection:
        connection.execute(
            insert(Conversation),
            [
                {
                    "id": conversation_id,
                    "user_id": user_id,
                    "title": title,
                    "model": "ollama:m",
                    "created_at": now,
                    "updated_at": now,
                    "active_message_id": path[-1],
                }
            ],
        )
        for start in range(0, len(rows), 5_000):
            connection.execute(insert(Message), rows[start : start + 5_000])
    return conversation_id, path


async def _time(work: Callable[[], Awaitable[object]], runs: int) -> tuple[float, float]:
    timings = []
    await work()  # warm-up: statement caches, pages in memory
    for _ in range(runs):
        started = time.perf_counter()
        await work()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[min(len(timings) - 1, int(len(timings) * 0.95))]


async def run(url: str, runs: int) -> None:
    db = Database(url)
    db.prepare(mark_interrupted)
    accounts, chats = AccountRepository(db), ConversationRepository(db)
    user = await accounts.create_user(f"bench-{new_id()[:8]}", "x")
    cases = {
        "short (200, no branches)": _build(db, user.id, "short", 200, 0),
        "branched (200 + 1,000 branches)": _build(db, user.id, "branched", 200, 1_000),
        "long (10,000-message path)": _build(db, user.id, "long", 10_000, 0),
    }
    print(f"{db.url.get_backend_name()}, {runs} runs each; median / p95 in ms")
    print(
        f"{'conversation':34} {'whole path':>14} {'newest 50':>14} {'50 above mid':>14} {'reply prompt':>14} "
        f"{'unbounded':>14} {'switch':>14}"
    )
    budget = Settings.model_fields["prompt_max_chars"].default
    for name, (conversation_id, path) in cases.items():
        middle = path[len(path) // 2]

        async def switch(cid: str = conversation_id, path: list[str] = path) -> None:
            await chats.set_active(user.id, cid, path[1])
            await chats.path_page(user.id, cid, limit=50)

        figures = [
            await _time(lambda cid=conversation_id: chats.path_page(user.id, cid), runs),
            await _time(lambda cid=conversation_id: chats.path_page(user.id, cid, limit=50), runs),
            await _time(lambda cid=conversation_id, m=middle: chats.path_page(user.id, cid, limit=50, before=m), runs),
            await _time(
                lambda cid=conversation_id: chats.reply_context(user.id, cid, Anchor.SEND, max_chars=budget), runs
            ),
            await _time(lambda cid=conversation_id: chats.reply_context(user.id, cid, Anchor.SEND), runs),
            await _time(switch, runs),
        ]
        print(f"{name:34} " + " ".join(f"{median:6.2f} / {p95:5.2f}" for median, p95 in figures))
    await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="database URL (default: a SQLite file in a temporary folder)")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.url or f"sqlite:///{Path(folder) / 'bench.db'}"
        asyncio.run(run(url, args.runs))


if __name__ == "__main__":
    main()
