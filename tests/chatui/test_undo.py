"""Delete with undo: the deletion and the keeping are one transaction, the kept conversation lives in the database
(so another instance can bring it back), only its owner can, and only for a few seconds."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy.exc

from chatui.conversations.errors import ConversationNotFound
from storage import Database
from storage.models import utcnow
from storage.undo import UndoShelf
from testing.fakes.inprocess import Reply
from tests.chatui.conftest import EngineOnly


async def kept_conversation(engine_only: EngineOnly, user_id: str) -> str:
    conversation = await engine_only.conversations.create(user_id, preset_id="preset-1")
    await engine_only.conversations.update_settings(
        user_id,
        conversation.id,
        system_prompt="Be brief.",
        temperature=0.3,
        max_tokens=99,
        top_p=0.7,
        seed=5,
        reasoning_effort="high",
    )
    engine_only.provider.then(Reply(tokens=["Kept ", "reply"]))
    await (await engine_only.conversations.send(user_id, conversation.id, "remember this")).wait()
    return conversation.id


async def test_a_deleted_conversation_comes_back_whole_once(engine_only: EngineOnly):
    alice = await engine_only.user()
    conversation_id = await kept_conversation(engine_only, alice.id)
    before = await engine_only.conversations.get(alice.id, conversation_id)
    token = await engine_only.conversations.delete(alice.id, conversation_id, undo=True)
    assert token is not None and 7 < await engine_only.conversations.undo_seconds_left(alice.id, token) <= 8
    assert (await engine_only.conversations.list(alice.id)).conversations == []
    restored = await engine_only.conversations.restore(alice.id, token)
    assert restored is not None and restored != conversation_id
    again = await engine_only.conversations.get(alice.id, restored)
    kept = (
        "title",
        "model",
        "system_prompt",
        "temperature",
        "max_tokens",
        "top_p",
        "seed",
        "reasoning_effort",
        "created_at",
        "preset_id",
    )
    assert [getattr(again, name) for name in kept] == [getattr(before, name) for name in kept]
    assert (again.max_tokens, again.top_p, again.seed, again.reasoning_effort) == (99, 0.7, 5, "high")
    assert again.preset_id == "preset-1"  # the chat still names the preset it started from
    path = await engine_only.conversations.path(alice.id, restored)
    assert [(m.role, m.content) for m in path.messages] == [("user", "remember this"), ("assistant", "Kept reply")]
    assert await engine_only.conversations.restore(alice.id, token) is None  # once
    assert await engine_only.conversations.undo_seconds_left(alice.id, token) == 0


async def test_only_the_owner_can_undo(engine_only: EngineOnly):
    alice, mallory = await engine_only.user(), await engine_only.user("mallory")
    token = await engine_only.conversations.delete(alice.id, await kept_conversation(engine_only, alice.id), undo=True)
    assert token is not None
    assert await engine_only.conversations.undo_seconds_left(mallory.id, token) == 0
    assert await engine_only.conversations.restore(mallory.id, token) is None  # someone else's token opens nothing
    assert (await engine_only.conversations.list(mallory.id)).conversations == []
    assert await engine_only.conversations.restore(alice.id, token) is not None  # and it is still there for alice
    with pytest.raises(ConversationNotFound):
        await engine_only.conversations.delete(mallory.id, "no-such-conversation", undo=True)


async def test_too_late_is_too_late_and_the_old_ones_are_swept(engine_only: EngineOnly):
    alice = await engine_only.user()
    shelf = UndoShelf(engine_only.db)
    first = await kept_conversation(engine_only, alice.id)
    assert await shelf.delete_keeping(alice.id, first, "expired", utcnow() - timedelta(seconds=1))
    assert await shelf.restore(alice.id, "expired") is None
    assert await shelf.kept_until(alice.id, "expired") is not None  # still there, past its time...
    await engine_only.conversations.delete(alice.id, await kept_conversation(engine_only, alice.id), undo=True)
    assert await shelf.kept_until(alice.id, "expired") is None  # ...until the next deletion sweeps it


async def test_the_deletion_and_the_keeping_are_one_transaction(engine_only: EngineOnly):
    alice = await engine_only.user()
    shelf = UndoShelf(engine_only.db)
    kept = await kept_conversation(engine_only, alice.id)
    assert await shelf.delete_keeping(alice.id, kept, "taken", utcnow() + timedelta(seconds=8))
    other = await kept_conversation(engine_only, alice.id)
    with pytest.raises(sqlalchemy.exc.IntegrityError):  # the keeping fails (its token is taken)...
        await shelf.delete_keeping(alice.id, other, "taken", utcnow() + timedelta(seconds=8))
    assert (await engine_only.conversations.get(alice.id, other)).id == other  # ...so nothing was deleted


async def test_another_instance_can_undo(engine_only: EngineOnly):
    """Two instances share the database, not their memory: the undo asked of the other one works."""
    alice = await engine_only.user()
    token = await engine_only.conversations.delete(alice.id, await kept_conversation(engine_only, alice.id), undo=True)
    assert token is not None
    elsewhere = Database(engine_only.db.url)
    try:
        restored = await UndoShelf(elsewhere).restore(alice.id, token)
    finally:
        await elsewhere.close()
    assert restored is not None
    assert (await engine_only.conversations.get(alice.id, restored)).title == "remember this"


async def test_deleting_stops_the_reply_and_keeps_what_was_stored(engine_only: EngineOnly):
    alice = await engine_only.user()
    conversation = await engine_only.conversations.create(alice.id)
    engine_only.provider.then(Reply(tokens=["never", " stored"], hold=1))
    generation = await engine_only.conversations.send(alice.id, conversation.id, "stop me")
    await engine_only.provider.holding()
    token = await engine_only.conversations.delete(alice.id, conversation.id, undo=True)
    assert token is not None and generation.finished
    restored = await engine_only.conversations.restore(alice.id, token)
    assert restored is not None
    assert (await engine_only.conversations.path(alice.id, restored)).messages[0].content == "stop me"
