"""What presets, the prompt library and feedback add to the reads the chat page makes (issue 26).

    python -m bench.presets_reads                                   # SQLite file in a temporary folder
    python -m bench.presets_reads --url postgresql://127.0.0.1:5432/test_bench   # an existing, empty database

Three reads are new: every chat page lists the presets New chat offers (`PresetRepository.list_presets`: the
user's own and every published one) and the prompts `/` offers (`list_prompts`) when it is built, and every page of
messages it reads now also reads the person's ratings of its replies (`Organizer.ratings`, one query). The database
holds 200 users with 10 presets each (one user in ten publishes one of them) and 30 prompts each; the conversation
read is 30 messages (15 replies, 5 of them rated), what the chat page opens with. The page read with and without the
ratings run interleaved, read by read, so both see the same load; prints median and p95 in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from chatui.conversations.organizer import Organizer
from storage import AccountRepository, ConversationRepository, Database, MessageStatus, mark_interrupted
from storage.presets import PresetRepository

USERS, PRESETS_EACH, PROMPTS_EACH = 200, 10, 30


async def seed(accounts: AccountRepository, saved: PresetRepository) -> str:
    me = ""
    for index in range(USERS):
        user = await accounts.create_user(f"bench-presets-{index}", "x")
        me = me or user.id
        for number in range(PRESETS_EACH):
            values = {"name": f"Preset {number}", "system_prompt": "Be brief. " * 20, "temperature": 0.5}
            await saved.create_preset(user.id, {**values, "shared": index % 10 == 0 and number == 0})
        for number in range(PROMPTS_EACH):
            await saved.create_prompt(user.id, f"prompt-{number}", f"Prompt {number}", "Text {{x}} " * 30)
    return me


async def conversation(chats: ConversationRepository, organizer: Organizer, user_id: str) -> str:
    made = await chats.create_conversation(user_id, "ollama:m")
    reply: str | None = None
    for index in range(15):
        _, reply = await chats.start_exchange(user_id, made.id, f"Question {index}?", "ollama:m", "T", parent_id=reply)
        await chats.finish_message(reply, content="An answer. " * 20, status=MessageStatus.DONE, completion_tokens=9)
        if index % 3 == 0:
            await organizer.rate(user_id, reply, "up", None)
    return made.id


def summary(series: list[float]) -> str:
    series.sort()
    return f"p50 {statistics.median(series):.3f}  p95 {series[min(len(series) - 1, int(len(series) * 0.95))]:.3f}"


async def main(url: str | None, runs: int) -> None:
    folder = tempfile.TemporaryDirectory()
    db = Database(url or f"sqlite:///{Path(folder.name) / 'bench.db'}")
    db.prepare(mark_interrupted)
    accounts, chats, saved = AccountRepository(db), ConversationRepository(db), PresetRepository(db)
    organizer = Organizer(chats)
    user_id = await seed(accounts, saved)
    conversation_id = await conversation(chats, organizer, user_id)
    assert len(await saved.list_presets(user_id)) == PRESETS_EACH + USERS // 10 - 1

    timings: dict[str, list[float]] = {}

    async def timed(name: str, read: object) -> None:
        began = time.perf_counter()
        await read  # type: ignore[misc]
        timings.setdefault(name, []).append((time.perf_counter() - began) * 1000)

    async def page_and_ratings() -> None:
        page = await chats.path_page(user_id, conversation_id, limit=30)
        rated = await organizer.ratings(user_id, [m.id for m in page.messages if m.role == "assistant"])
        assert len(rated) == 5

    for _ in range(runs):
        await timed("page of 30 (before)", chats.path_page(user_id, conversation_id, limit=30))
        await timed("page of 30 + ratings (now)", page_and_ratings())
        await timed(f"list_presets ({PRESETS_EACH} own + {USERS // 10 - 1} published)", saved.list_presets(user_id))
        await timed(f"list_prompts ({PROMPTS_EACH})", saved.list_prompts(user_id))
    print(f"{db.engine.dialect.name}, {runs} reads each, ms")
    for name, series in timings.items():
        print(f"{name:45} {summary(series)}")
    await db.close()
    folder.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a database URL (default: a new SQLite file)")
    parser.add_argument("--runs", type=int, default=300)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.url, arguments.runs))
