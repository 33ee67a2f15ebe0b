"""Message parts and the file store, on SQLite and PostgreSQL: migration 0010 turns each message into one text part,
0012 keeps rows only for messages that are more than their text; new messages are written with their parts; files
are stored chunked, once per user, whole or not at all."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.exc import IntegrityError

from storage import AccountRepository, ConversationRepository, Database, MessageStatus
from storage.database import sync_url
from storage.files import CHUNK_BYTES, FileGone, FileRepository, NewFile, QuotaExceeded
from storage.migrate import alembic_config
from storage.models import Blob, BlobChunk, File, MessagePart, PartKind
from storage.parts import Part, message_parts, parts_rows, read_parts, text_of, write_parts
from tests.postgres import drop_postgres_database, fresh_postgres_database

QUOTA = 10 * CHUNK_BYTES


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'old.db'}" if request.param == "sqlite" else fresh_postgres_database()
    engine = create_engine(sync_url(url))
    yield engine
    engine.dispose()
    if request.param == "postgresql":
        drop_postgres_database(url)


def _fill_0009(engine: Engine) -> None:
    """A conversation as 0009 stored it: a question, its answer and an empty reply that failed."""
    moment = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    when = moment.replace(tzinfo=None) if engine.dialect.name == "sqlite" else moment
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO users (id, username, password_hash, is_admin, is_disabled, created_at, theme) "
                "VALUES ('u', 'u', 'x', false, false, :t, 'system')"
            ),
            {"t": when},
        )
        c.execute(
            text(
                "INSERT INTO conversations (id, user_id, title, model, created_at, updated_at) "
                "VALUES ('c', 'u', 'T', 'ollama:m', :t, :t)"
            ),
            {"t": when},
        )
        for mid, parent, role, content, status in (
            ("m1", None, "user", "What is in this photo?", "done"),
            ("m2", "m1", "assistant", "A cat.\n\nOn a mat.", "done"),
            ("m3", "m1", "assistant", "", "error"),
        ):
            c.execute(
                text(
                    "INSERT INTO messages (id, conversation_id, parent_id, role, content, status, created_at) "
                    "VALUES (:id, 'c', :parent, :role, :content, :status, :t)"
                ),
                {"id": mid, "parent": parent, "role": role, "content": content, "status": status, "t": when},
            )


def test_0010_makes_each_existing_message_one_text_part_and_keeps_its_content(engine: Engine):
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0009")
    _fill_0009(engine)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0010")
    with engine.connect() as c:
        parts = c.execute(text("SELECT message_id, position, kind, text FROM message_parts ORDER BY message_id")).all()
        contents = dict(c.execute(text("SELECT id, content FROM messages")).all())
        assert [tuple(row) for row in parts] == [
            ("m1", 0, "text", "What is in this photo?"),
            ("m2", 0, "text", "A cat.\n\nOn a mat."),
            ("m3", 0, "text", ""),
        ]
        assert contents == {"m1": "What is in this photo?", "m2": "A cat.\n\nOn a mat.", "m3": ""}
        assert read_parts(c, contents)["m2"] == [Part.of_text("A cat.\n\nOn a mat.")]


def test_0010_can_be_undone(engine: Engine):
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0009")
    _fill_0009(engine)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0010")
        command.downgrade(alembic_config(connection), "0009")
    with engine.connect() as c:
        tables = {
            row[0]
            for row in c.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'table'")
                if engine.dialect.name == "sqlite"
                else text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
        }
        assert not tables & {"message_parts", "files", "blobs", "blob_chunks"}
        assert c.execute(text("SELECT content FROM messages WHERE id = 'm2'")).scalar_one() == "A cat.\n\nOn a mat."


async def test_a_text_only_exchange_writes_no_part_rows_and_reads_as_its_text(any_db: Database):
    accounts, chats = AccountRepository(any_db), ConversationRepository(any_db)
    user = await accounts.create_user("alice", "hash")
    conversation = await chats.create_conversation(user.id, "ollama:m")
    question, reply = await chats.start_exchange(user.id, conversation.id, "Hello?", "ollama:m", "T")
    assert question is not None
    await chats.checkpoint({reply: "Hi"})
    await chats.finish_message(reply, content="Hi there.", status=MessageStatus.DONE, completion_tokens=3)
    with any_db.engine.connect() as c:
        assert c.execute(select(func.count()).select_from(MessagePart)).scalar_one() == 0  # the text is not doubled
        contents = dict(c.execute(select(text("id"), text("content")).select_from(text("messages"))).all())
        assert read_parts(c, contents) == {question: [Part.of_text("Hello?")], reply: [Part.of_text("Hi there.")]}


def test_0012_drops_the_rows_of_text_only_messages_and_keeps_the_others(engine: Engine):
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0009")
    _fill_0009(engine)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0011")
        # m1 has more than its text (a second part), as a message sent with a file has
        connection.execute(text("INSERT INTO message_parts (message_id, position, kind) VALUES ('m1', 1, 'reasoning')"))
        command.upgrade(alembic_config(connection), "0012")
    with engine.connect() as c:
        rows = c.execute(text("SELECT message_id, position, kind FROM message_parts ORDER BY message_id, position"))
        assert [tuple(row) for row in rows] == [("m1", 0, "text"), ("m1", 1, "reasoning")]
        contents = dict(c.execute(text("SELECT id, content FROM messages")).all())
        assert read_parts(c, contents)["m2"] == [Part.of_text("A cat.\n\nOn a mat.")]
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0011")
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM message_parts")).scalar_one() == 4


async def test_a_reply_finished_after_its_conversation_was_deleted_writes_nothing(any_db: Database):
    accounts, chats = AccountRepository(any_db), ConversationRepository(any_db)
    user = await accounts.create_user("alice", "hash")
    conversation = await chats.create_conversation(user.id, "ollama:m")
    _, reply = await chats.start_exchange(user.id, conversation.id, "Hello?", "ollama:m", "T")
    assert await chats.delete_conversation(user.id, conversation.id)
    await chats.finish_message(reply, content="late", status=MessageStatus.DONE, completion_tokens=1)
    with any_db.engine.connect() as c:
        assert c.execute(select(func.count()).select_from(MessagePart)).scalar_one() == 0


def test_a_message_is_its_text_then_its_files_and_its_content_is_its_text_parts():
    assert message_parts("Look", ["f1", "f2"]) == [Part.of_text("Look"), Part.of_file("f1"), Part.of_file("f2")]
    assert message_parts("", ["f1"]) == [Part.of_file("f1")]
    assert message_parts("") == [Part.of_text("")]
    reasoning = Part(PartKind.REASONING, text="hmm", data={"seconds": 2})
    call = Part(PartKind.TOOL_CALL, call_id="c1", data={"name": "current_time", "arguments": {}})
    assert text_of([reasoning, Part.of_text("It is"), call, Part.of_text("noon.")]) == "It is\n\nnoon."


def _new(data: bytes, name: str = "photo.png") -> NewFile:
    return NewFile(name=name, media_type="image/png", size=len(data), sha256=hashlib.sha256(data).hexdigest())


async def _bytes_of(files: FileRepository, blob_id: str) -> bytes:
    out, seq = [], 0
    while (chunk := await files.read_chunk(blob_id, seq)) is not None:
        out.append(chunk)
        seq += 1
    return b"".join(out)


async def test_a_file_is_stored_in_chunks_and_read_back_byte_for_byte(any_db: Database):
    user = await AccountRepository(any_db).create_user("alice", "hash")
    files = FileRepository(any_db)
    data = os.urandom(2 * CHUNK_BYTES + 123)
    stored = await files.store(user.id, _new(data), io.BytesIO(data), quota_bytes=QUOTA)
    assert (stored.name, stored.media_type, stored.size, stored.attached_at) == (
        "photo.png",
        "image/png",
        len(data),
        None,
    )
    with any_db.engine.connect() as c:
        sizes = [len(d) for d in c.execute(select(BlobChunk.data).order_by(BlobChunk.seq)).scalars()]
    assert sizes == [CHUNK_BYTES, CHUNK_BYTES, 123]
    assert await _bytes_of(files, stored.blob_id) == data
    assert await files.read_bytes(stored.blob_id) == data


async def test_the_same_bytes_are_stored_once_per_user_and_counted_once(any_db: Database):
    accounts = AccountRepository(any_db)
    alice, bob = await accounts.create_user("alice", "hash"), await accounts.create_user("bob", "hash")
    files = FileRepository(any_db)
    data = os.urandom(CHUNK_BYTES + 1)
    first = await files.store(alice.id, _new(data, "a.png"), io.BytesIO(data), quota_bytes=QUOTA)
    again = await files.store(alice.id, _new(data, "b.png"), io.BytesIO(data), quota_bytes=QUOTA)
    bobs = await files.store(bob.id, _new(data, "a.png"), io.BytesIO(data), quota_bytes=QUOTA)
    assert first.id != again.id and first.blob_id == again.blob_id and (first.name, again.name) == ("a.png", "b.png")
    assert bobs.blob_id != first.blob_id  # never shared across users
    assert await files.used_bytes(alice.id) == len(data) == await files.used_bytes(bob.id)
    with any_db.engine.connect() as c:
        assert c.execute(select(func.count()).select_from(Blob)).scalar_one() == 2
        assert c.execute(select(func.count()).select_from(BlobChunk)).scalar_one() == 4


async def test_a_file_past_the_quota_stores_nothing(any_db: Database):
    user = await AccountRepository(any_db).create_user("alice", "hash")
    files = FileRepository(any_db)
    kept = os.urandom(6 * CHUNK_BYTES)
    await files.store(user.id, _new(kept), io.BytesIO(kept), quota_bytes=QUOTA)
    too_much = os.urandom(5 * CHUNK_BYTES)
    with pytest.raises(QuotaExceeded) as refused:
        await files.store(user.id, _new(too_much), io.BytesIO(too_much), quota_bytes=QUOTA)
    assert (refused.value.used, refused.value.size) == (len(kept), len(too_much))
    with any_db.engine.connect() as c:
        assert c.execute(select(func.count()).select_from(File)).scalar_one() == 1
        assert c.execute(select(func.count()).select_from(Blob)).scalar_one() == 1
        assert c.execute(select(func.count()).select_from(BlobChunk)).scalar_one() == 6
    # The same bytes again take no more room, so they are accepted even at the quota.
    assert (await files.store(user.id, _new(kept), io.BytesIO(kept), quota_bytes=len(kept))).size == len(kept)


async def test_someone_elses_file_looks_missing(any_db: Database):
    accounts = AccountRepository(any_db)
    alice, bob = await accounts.create_user("alice", "hash"), await accounts.create_user("bob", "hash")
    files = FileRepository(any_db)
    data = b"hello"
    mine = await files.store(alice.id, _new(data), io.BytesIO(data), quota_bytes=QUOTA)
    assert await files.get(alice.id, mine.id) == mine
    assert await files.get(bob.id, mine.id) is None
    assert await files.owned(alice.id, [mine.id]) == [mine]
    with pytest.raises(FileGone) as refused:
        await files.owned(bob.id, [mine.id])
    assert refused.value.file_id == mine.id


async def _message_with_file(chats: ConversationRepository, user_id: str, file_id: str) -> str:
    conversation = await chats.create_conversation(user_id, "ollama:m")
    question, _ = await chats.start_exchange(user_id, conversation.id, "Look", "ollama:m", "T")
    assert question is not None
    with chats.db.engine.begin() as c:
        c.execute(text("DELETE FROM message_parts WHERE message_id = :m"), {"m": question})
        write_parts(c, parts_rows(question, message_parts("Look", [file_id])))
    return conversation.id


async def test_a_file_in_a_message_is_kept_until_the_message_goes(any_db: Database):
    accounts, chats = AccountRepository(any_db), ConversationRepository(any_db)
    user = await accounts.create_user("alice", "hash")
    stored = await FileRepository(any_db).store(user.id, _new(b"png"), io.BytesIO(b"png"), quota_bytes=QUOTA)
    conversation_id = await _message_with_file(chats, user.id, stored.id)
    with pytest.raises(IntegrityError), any_db.engine.begin() as c:  # in use: the file cannot go
        c.execute(File.__table__.delete().where(File.id == stored.id))
    assert await chats.delete_conversation(user.id, conversation_id)
    with any_db.engine.begin() as c:  # its message gone, it can
        assert c.execute(select(func.count()).select_from(MessagePart)).scalar_one() == 0
        c.execute(File.__table__.delete().where(File.id == stored.id))


async def test_deleting_a_user_deletes_their_messages_files_and_bytes(any_db: Database):
    accounts, chats = AccountRepository(any_db), ConversationRepository(any_db)
    user = await accounts.create_user("alice", "hash")
    stored = await FileRepository(any_db).store(user.id, _new(b"png"), io.BytesIO(b"png"), quota_bytes=QUOTA)
    await _message_with_file(chats, user.id, stored.id)
    with any_db.engine.begin() as c:
        c.execute(text("DELETE FROM users"))
    with any_db.engine.connect() as c:
        for table in (MessagePart, File, Blob, BlobChunk):
            assert c.execute(select(func.count()).select_from(table)).scalar_one() == 0


async def test_a_page_of_the_path_carries_the_tool_steps_of_the_replies_that_called_tools(any_db: Database):
    """`PathPage.steps`: text and tool parts in order, for the replies with a tool call only (the page draws them)."""
    accounts, chats = AccountRepository(any_db), ConversationRepository(any_db)
    user = await accounts.create_user("alice", "hash")
    conversation = await chats.create_conversation(user.id, "ollama:m")
    _, plain = await chats.start_exchange(user.id, conversation.id, "Hi?", "ollama:m", "T")
    await chats.finish_message(plain, content="Hi.", status=MessageStatus.DONE, completion_tokens=1)
    _, tooled = await chats.start_exchange(user.id, conversation.id, "Time?", "ollama:m", None)
    call = Part(PartKind.TOOL_CALL, call_id="c1", data={"name": "chatui:current_time", "arguments": {}})
    result = Part(PartKind.TOOL_RESULT, text="noon", call_id="c1", data={"name": "chatui:current_time", "seconds": 0.2})
    thought = Part(PartKind.REASONING, text="hm", data={"seconds": 1})
    steps = [Part.of_text("Looking."), call, result, Part.of_text("Noon.")]
    await chats.finish_message(
        tooled,
        content="Looking.\n\nNoon.",
        status=MessageStatus.DONE,
        completion_tokens=2,
        parts=[thought, *steps],
    )
    page = await chats.path_page(user.id, conversation.id)
    assert list(page.steps) == [tooled]
    assert page.steps[tooled] == steps  # the reasoning is read apart (`PathPage.reasoning`)
    assert page.reasoning[tooled].text == "hm"
    assert (await chats.tree(user.id, conversation.id)).steps == page.steps
