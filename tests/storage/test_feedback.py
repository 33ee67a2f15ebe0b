"""Feedback on replies, and the administrator's export with the path that produced each rated reply (issue 26)."""

from __future__ import annotations

from storage import AccountRepository, ConversationRepository, Database
from testing.seed import seed_conversation


async def test_the_export_holds_each_rating_with_its_path_on_both_databases(any_db: Database) -> None:
    accounts, chats = AccountRepository(any_db), ConversationRepository(any_db)
    user = await accounts.create_user("rater", "hash")
    _, ids = await any_db.run_statements(lambda c: seed_conversation(c, user.id, 4, text=lambda i: f"m{i}"))
    assert await chats.rate(user.id, ids[0], "up", None) is None  # a question is not rated
    assert await chats.rate("someone-else", ids[1], "up", None) is None
    await chats.rate(user.id, ids[1], "down", "wrong")
    await chats.rate(user.id, ids[3], "up", None)
    await chats.rate(user.id, ids[3], "down", "changed my mind")

    records = await chats.all_feedback()
    assert [(r["message_id"], r["rating"], r["comment"]) for r in records] == [
        (ids[1], "down", "wrong"),
        (ids[3], "down", "changed my mind"),
    ]
    assert [m["content"] for m in records[1]["path"]] == ["m0", "m1", "m2", "m3"]
    assert [m["role"] for m in records[0]["path"]] == ["user", "assistant"]

    assert await chats.unrate("someone-else", ids[1]) is False
    assert await chats.unrate(user.id, ids[0]) is False  # a question has no rating to take back
    assert await chats.unrate(user.id, ids[1]) is True
    assert await chats.unrate(user.id, ids[1]) is True  # already gone: nothing to do
    assert [r["message_id"] for r in await chats.all_feedback()] == [ids[3]]
