"""Paging down a long active path from an old message: walked once, then read from the kept stretch — with the same
answers as a walk, for messages on the path, off it (another version) and of another conversation."""

from __future__ import annotations

import pytest

from storage import AccountRepository, ConversationRepository, Database, MessageGone
from storage.tree import PathSegments, walk_up
from testing.seed import seed_conversation


async def test_pages_below_an_old_message_match_the_walk_and_are_kept(db: Database):
    user = await AccountRepository(db).create_user("alice", "x")
    chats = ConversationRepository(db)
    chats.segments = PathSegments(min_length=50, max_ids=1_000)
    conversation_id, ids = await db.run_statements(lambda c: seed_conversation(c, user.id, 300))

    page = await chats.path_page(user.id, conversation_id, limit=20, after=ids[10])
    assert [m.id for m in page.messages] == ids[11:31] and page.has_after
    assert len(chats.segments._by_leaf) == 1  # the walk from the leaf to ids[10] was long enough to keep

    for start in (30, 150, 279):
        page = await chats.path_page(user.id, conversation_id, limit=20, after=ids[start])
        assert [m.id for m in page.messages] == ids[start + 1 : start + 21]
    around = await chats.path_page(user.id, conversation_id, limit=20, around=ids[200])
    assert [m.id for m in around.messages] == ids[191:211]

    # what is above the kept stretch is walked again, and the longer stretch replaces the shorter one
    page = await chats.path_page(user.id, conversation_id, limit=20, after=ids[0])
    assert [m.id for m in page.messages] == ids[1:21]
    assert [len(stretch) for stretch in chats.segments._by_leaf.values()] == [300]


async def test_a_message_off_the_path_or_elsewhere_is_still_gone(db: Database):
    user = await AccountRepository(db).create_user("alice", "x")
    chats = ConversationRepository(db)
    chats.segments = PathSegments(min_length=10, max_ids=1_000)
    conversation_id, ids = await db.run_statements(lambda c: seed_conversation(c, user.id, 100))
    _, other_ids = await db.run_statements(lambda c: seed_conversation(c, user.id, 100))
    await chats.path_page(user.id, conversation_id, limit=20, after=ids[5])  # keeps ids[5:]
    with pytest.raises(MessageGone):
        await chats.path_page(user.id, conversation_id, limit=20, after=other_ids[50])
    with pytest.raises(MessageGone):
        await chats.path_page(user.id, conversation_id, limit=20, around="no-such-message")


async def test_the_kept_ids_stay_within_their_allowance(db: Database):
    user = await AccountRepository(db).create_user("alice", "x")
    segments = PathSegments(min_length=10, max_ids=250)
    conversations = [await db.run_statements(lambda c: seed_conversation(c, user.id, 100)) for _ in range(4)]
    for conversation_id, ids in conversations:
        walked = await db.run_statements(
            lambda c, cid=conversation_id, ids=ids: segments.walk_to(c, cid, ids[-1], ids[0])
        )
        expected = await db.run_statements(
            lambda c, cid=conversation_id, ids=ids: walk_up(c, cid, ids[-1], stop=ids[0])
        )
        assert walked == expected == ids[::-1]
    assert segments._size == sum(len(s) for s in segments._by_leaf.values()) <= 250
    assert list(segments._by_leaf) == [ids[-1] for _, ids in conversations[-2:]]  # the least recently used went
