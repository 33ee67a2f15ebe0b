"""Calls on every reply's path share transactions when they arrive together (`storage.database.grouped`): what is
stored must be exactly what separate transactions would have stored, a failing call included."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from storage import AccountRepository, ConversationGone, ConversationRepository, Database, MessageStatus


async def test_two_hundred_first_messages_at_once_are_all_stored(any_db: Database):
    accounts, chats = AccountRepository(any_db), ConversationRepository(any_db)
    user = await accounts.create_user("crowd", "hash")
    conversations = [await chats.create_conversation(user.id, "ollama:m") for _ in range(200)]
    exchanges = await asyncio.gather(
        *(chats.start_exchange(user.id, c.id, f"question {i}", "ollama:m", "T") for i, c in enumerate(conversations))
    )
    await asyncio.gather(
        *(
            chats.finish_message(reply, content=f"answer {i}", status=MessageStatus.DONE, completion_tokens=2)
            for i, (_, reply) in enumerate(exchanges)
        )
    )
    for i, conversation in enumerate(conversations):
        page = await chats.path_page(user.id, conversation.id)
        assert [(m.role, m.content, m.status) for m in page.messages] == [
            ("user", f"question {i}", MessageStatus.DONE),
            ("assistant", f"answer {i}", MessageStatus.DONE),
        ]


async def test_a_call_that_fails_in_a_group_leaves_the_others_stored_and_writes_nothing(any_db: Database):
    accounts, chats = AccountRepository(any_db), ConversationRepository(any_db)
    alice, bob = await accounts.create_user("alice", "hash"), await accounts.create_user("bob", "hash")
    mine = [await chats.create_conversation(alice.id, "ollama:m") for _ in range(5)]
    theirs = await chats.create_conversation(bob.id, "ollama:m")

    def half_written(connection) -> None:  # writes, then fails: its write must not survive
        connection.execute(text("UPDATE conversations SET title = 'half' WHERE id = :cid"), {"cid": theirs.id})
        raise RuntimeError("failed after writing")

    calls = [chats.start_exchange(alice.id, c.id, "hi", "ollama:m", "hi") for c in mine[:2]]
    calls.append(chats.start_exchange(alice.id, theirs.id, "not mine", "ollama:m", "x"))  # someone else's
    calls.append(any_db.run_grouped(half_written))
    calls += [chats.start_exchange(alice.id, c.id, "hi", "ollama:m", "hi") for c in mine[2:]]
    results = await asyncio.gather(*calls, return_exceptions=True)

    assert isinstance(results[2], ConversationGone)
    assert isinstance(results[3], RuntimeError)
    assert all(isinstance(r, tuple) for i, r in enumerate(results) if i not in (2, 3))
    for conversation in mine:
        assert [m.role for m in (await chats.path_page(alice.id, conversation.id)).messages] == ["user", "assistant"]
    untouched = await chats.get_conversation(bob.id, theirs.id)
    assert untouched is not None and untouched.title is None
    assert (await chats.path_page(bob.id, theirs.id)).messages == []


async def test_the_owner_of_a_conversation_is_read_with_the_session_in_one_group(any_db: Database):
    accounts, chats = AccountRepository(any_db), ConversationRepository(any_db)
    alice, bob = await accounts.create_user("alice", "hash"), await accounts.create_user("bob", "hash")
    mine, theirs = await chats.create_conversation(alice.id, "ollama:m"), await chats.create_conversation(bob.id, "m")
    owners = await asyncio.gather(
        chats.conversation_owner(mine.id),
        chats.conversation_owner(theirs.id),
        chats.conversation_owner("no-such-conversation"),
        accounts.signed_in("no-such-token"),
    )
    assert owners == [alice.id, bob.id, None, None]


@pytest.mark.parametrize("cancel_first", [True, False])
async def test_a_caller_cancelled_while_its_group_runs_does_not_disturb_the_others(db: Database, cancel_first):
    accounts, chats = AccountRepository(db), ConversationRepository(db)
    user = await accounts.create_user("quitter", "hash")
    conversations = [await chats.create_conversation(user.id, "ollama:m") for _ in range(3)]
    tasks = [asyncio.create_task(chats.conversation_owner(c.id)) for c in conversations]
    await asyncio.sleep(0)  # all three queued
    (tasks[0] if cancel_first else tasks[-1]).cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert sum(isinstance(r, asyncio.CancelledError) for r in results) == 1
    assert [r for r in results if not isinstance(r, asyncio.CancelledError)] == [user.id, user.id]
