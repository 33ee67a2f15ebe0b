"""A plain message's read and write in one transaction (`Replies.open_exchange`, issue 28: one trip to the database
thread before the provider is asked): stored exactly as `start_exchange` stores it, and nothing stored when something
may still refuse the reply (files on the path, knowledge, a reasoning effort), on both backends."""

from __future__ import annotations

import hashlib
import io

import pytest
from sqlalchemy import text

from storage import AccountRepository, ConversationRepository, Database, MessageStatus
from storage.errors import ConversationGone
from storage.files import FileRepository, NewFile
from storage.models import new_id


def rows(db: Database) -> list[tuple[str, str, str, str | None]]:
    with db.engine.connect() as c:
        found = c.execute(text("SELECT id, role, content, status, parent_id FROM messages ORDER BY created_at"))
        return [(r.id, r.role, r.content, r.status, r.parent_id) for r in found]


async def test_a_plain_message_is_read_and_stored_in_one_transaction(any_db: Database):
    accounts, chats = AccountRepository(any_db), ConversationRepository(any_db)
    user = await accounts.create_user("alice", "hash")
    conversation = await chats.create_conversation(user.id, "ollama:chat-model")
    first = (new_id(), new_id())
    context, model = await chats.open_exchange(
        user.id, conversation.id, "Hello?", lambda chats_model: f"{chats_model}!", "Greeting", first
    )
    assert (context.parent_id, context.turns, model) == (None, [], "ollama:chat-model!")
    await chats.finish_message(first[1], content="Hi.", status=MessageStatus.DONE, completion_tokens=2)

    second = (new_id(), new_id())
    context, model = await chats.open_exchange(user.id, conversation.id, "Again", lambda m: m, "Not this", second)
    assert context.parent_id == first[1] and [t.text for t in context.turns] == ["Hello?", "Hi."]
    assert rows(any_db) == [
        (first[0], "user", "Hello?", "done", None),
        (first[1], "assistant", "Hi.", "done", first[0]),
        (second[0], "user", "Again", "done", first[1]),
        (second[1], "assistant", "", "streaming", second[0]),
    ]
    stored = await chats.get_conversation(user.id, conversation.id)
    assert stored is not None
    assert (stored.title, stored.model, stored.active_message_id) == ("Greeting", "ollama:chat-model!", second[1])


@pytest.mark.parametrize("setting", [{"reasoning_effort": "high"}, {"knowledge": ["c0ffee"]}])
async def test_a_chat_that_may_still_refuse_the_reply_is_read_and_nothing_is_stored(
    any_db: Database, setting: dict[str, object]
):
    accounts, chats = AccountRepository(any_db), ConversationRepository(any_db)
    user = await accounts.create_user("alice", "hash")
    conversation = await chats.create_conversation(user.id, "ollama:m", **setting)  # type: ignore[arg-type]
    context, model = await chats.open_exchange(user.id, conversation.id, "Hi", lambda m: m, "T", (new_id(), new_id()))
    assert model is None and context.model == "ollama:m"
    assert rows(any_db) == []


async def test_a_file_earlier_on_the_path_leaves_the_write_to_start_exchange(any_db: Database):
    accounts, chats = AccountRepository(any_db), ConversationRepository(any_db)
    user = await accounts.create_user("alice", "hash")
    conversation = await chats.create_conversation(user.id, "ollama:m")
    photo = b"png bytes"
    new = NewFile(name="photo.png", media_type="image/png", size=len(photo), sha256=hashlib.sha256(photo).hexdigest())
    stored = await FileRepository(any_db).store(user.id, new, io.BytesIO(photo), quota_bytes=1 << 20)
    _, reply = await chats.start_exchange(user.id, conversation.id, "Look", "ollama:m", "T", file_ids=[stored.id])
    await chats.finish_message(reply, content="A photo.", status=MessageStatus.DONE, completion_tokens=2)
    context, model = await chats.open_exchange(user.id, conversation.id, "And?", lambda m: m, "T", (new_id(), new_id()))
    assert model is None and [f.id for files in context.files.values() for f in files] == [stored.id]
    assert [r[2] for r in rows(any_db)] == ["Look", "A photo."]


async def test_someone_elses_conversation_is_gone_and_nothing_is_stored(any_db: Database):
    accounts, chats = AccountRepository(any_db), ConversationRepository(any_db)
    alice, bob = await accounts.create_user("alice", "hash"), await accounts.create_user("bob", "hash")
    conversation = await chats.create_conversation(alice.id, "ollama:m")
    with pytest.raises(ConversationGone):
        await chats.open_exchange(bob.id, conversation.id, "Hi", lambda m: m, "T", (new_id(), new_id()))
    assert rows(any_db) == []
