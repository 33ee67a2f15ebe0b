"""Files over their lifetime, on SQLite and PostgreSQL: a file no message uses is freed (not while an Undo can still
bring its conversation back), an upload never sent is swept after a day, the bytes go with the last file that used
them and the quota follows; the Undo brings a conversation back with its files; migrate-db copies the file store in
bounded batches."""

from __future__ import annotations

import hashlib
import io
import os
import tracemalloc
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from storage import AccountRepository, ConversationRepository, Database
from storage.copy import copy_database
from storage.files import CHUNK_BYTES, UNSENT_FOR, FileRepository, NewFile, StoredFile, mark_attached
from storage.models import Blob, BlobChunk, File, utcnow
from storage.transfer import TransferRepository
from storage.undo import UndoShelf
from tests.postgres import drop_postgres_database, fresh_postgres_database
from tests.storage import test_parts_and_files

QUOTA = 1000 * CHUNK_BYTES


def _new(data: bytes, name: str = "notes.txt") -> NewFile:
    return NewFile(name=name, media_type="text/plain", size=len(data), sha256=hashlib.sha256(data).hexdigest())


async def _store(files: FileRepository, user_id: str, data: bytes, name: str = "notes.txt") -> StoredFile:
    return await files.store(user_id, _new(data, name), io.BytesIO(data), quota_bytes=QUOTA)


async def _message_with_file(chats: ConversationRepository, user_id: str, file_id: str) -> str:
    """A conversation whose message carries the file, the file marked attached as sending marks it."""
    conversation_id = await test_parts_and_files._message_with_file(chats, user_id, file_id)
    with chats.db.engine.begin() as c:
        mark_attached(c, [file_id])
    return conversation_id


def _count(db: Database, table: type) -> int:
    with db.engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(table)).scalar_one())


def _file_ids(db: Database) -> set[str]:
    with db.engine.connect() as c:
        return set(c.execute(select(File.id)).scalars())


def _age(db: Database, file_id: str, by: timedelta) -> None:
    with db.engine.begin() as c:
        c.execute(update(File).where(File.id == file_id).values(created_at=utcnow() - by))


async def test_a_file_no_message_uses_is_freed_with_its_bytes_and_the_quota_follows(any_db: Database):
    accounts, chats, files = AccountRepository(any_db), ConversationRepository(any_db), FileRepository(any_db)
    user = await accounts.create_user("alice", "hash")
    big = os.urandom(3 * CHUNK_BYTES)
    kept, freed = await _store(files, user.id, b"kept"), await _store(files, user.id, big, "big.bin")
    twin = await _store(files, user.id, b"kept", "same-bytes.txt")  # shares `kept`'s blob
    await _message_with_file(chats, user.id, kept.id)
    doomed = await _message_with_file(chats, user.id, freed.id)
    twin_conversation = await _message_with_file(chats, user.id, twin.id)
    assert await files.used_bytes(user.id) == len(big) + 4

    assert await chats.delete_conversation(user.id, doomed)
    assert await chats.delete_conversation(user.id, twin_conversation)
    result = await files.free(user.id, unsent_before=utcnow() - UNSENT_FOR)

    assert (result.files, result.blobs, result.bytes) == (2, 1, len(big))  # twin's blob is still kept's
    assert _file_ids(any_db) == {kept.id}
    assert (_count(any_db, Blob), _count(any_db, BlobChunk)) == (1, 1)
    assert await files.used_bytes(user.id) == 4
    assert (await files.free(user.id, unsent_before=utcnow() - UNSENT_FOR)).files == 0  # idempotent


async def test_files_wait_while_a_deletion_can_be_undone_and_come_back_with_it(any_db: Database):
    accounts, chats, files = AccountRepository(any_db), ConversationRepository(any_db), FileRepository(any_db)
    shelf = UndoShelf(any_db)
    user = await accounts.create_user("alice", "hash")
    image = await _store(files, user.id, b"\x89PNG pretend", "cat.png")
    conversation_id = await _message_with_file(chats, user.id, image.id)

    assert await shelf.delete_keeping(user.id, conversation_id, "tok", utcnow() + timedelta(seconds=8))
    assert (await files.free(user.id, unsent_before=utcnow() - UNSENT_FOR)).files == 0  # the Undo may need it
    restored = await shelf.restore(user.id, "tok")
    assert restored is not None
    record = await TransferRepository(any_db).export_conversation(user.id, restored)
    assert record is not None
    question = record.messages[0]
    assert (question.content, [(a.id, a.name, a.size) for a in question.attachments]) == (
        "Look",
        [(image.id, "cat.png", len(b"\x89PNG pretend"))],
    )

    # Deleted again, and its Undo over: the file goes.
    assert await shelf.delete_keeping(user.id, restored, "late", utcnow() - timedelta(seconds=3))
    assert (await files.free(user.id, unsent_before=utcnow() - UNSENT_FOR)).files == 1
    assert await shelf.restore(user.id, "late") is None
    assert _count(any_db, BlobChunk) == 0


async def test_the_sweep_frees_uploads_never_sent_after_a_day_and_keeps_the_rest(any_db: Database):
    accounts, chats, files = AccountRepository(any_db), ConversationRepository(any_db), FileRepository(any_db)
    alice, bob = await accounts.create_user("alice", "hash"), await accounts.create_user("bob", "hash")
    stale, fresh = await _store(files, alice.id, b"stale"), await _store(files, alice.id, b"fresh")
    sent = await _store(files, alice.id, b"sent long ago")
    bobs_stale = await _store(files, bob.id, b"bob's stale")
    await _message_with_file(chats, alice.id, sent.id)
    for file_id in (stale.id, sent.id, bobs_stale.id):
        _age(any_db, file_id, UNSENT_FOR + timedelta(minutes=1))
    _age(any_db, fresh.id, UNSENT_FOR - timedelta(minutes=1))
    shelf = UndoShelf(any_db)
    gone = await _message_with_file(chats, bob.id, (await _store(files, bob.id, b"x")).id)
    assert await shelf.delete_keeping(bob.id, gone, "over", utcnow() - timedelta(minutes=1))

    cutoff = utcnow() - UNSENT_FOR
    users = await files.begin_sweep(unsent_before=cutoff)
    assert sorted(users) == sorted([alice.id, bob.id])
    assert await shelf.kept_until(bob.id, "over") is None  # the finished Undo is forgotten by the sweep
    for user_id in users:
        await files.free(user_id, unsent_before=cutoff)

    assert _file_ids(any_db) == {fresh.id, sent.id}
    assert await files.begin_sweep(unsent_before=cutoff) == []


async def test_migrate_db_copies_the_file_store_in_batches_of_a_few_megabytes(tmp_path: Path):
    source_url = f"sqlite:///{tmp_path / 'source.db'}"
    source = Database(source_url)
    source.prepare(lambda c: None)
    user = await AccountRepository(source).create_user("alice", "hash")
    files = FileRepository(source)
    stored = []
    for n in range(16):  # 16 files x 8 chunks: 32 MB of chunks
        data = os.urandom(8 * CHUNK_BYTES - n)
        stored.append((await _store(files, user.id, data, f"f{n}.bin"), data))
    await source.close()
    target_url = fresh_postgres_database()
    try:
        tracemalloc.start()
        try:
            copy_database(source_url, target_url)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        # A batch: 4 MB of chunks read, and their escaped form for PostgreSQL (twice that); all of them at once
        # (one batch of 1,000 rows, as before) would be ~100 MB.
        assert peak < 24 * 1024 * 1024, f"the copy held {peak / 1024**2:.1f} MB at once (32 MB of chunks)"
        target = Database(target_url)
        try:
            copied = FileRepository(target)
            for file, data in stored:
                assert await copied.read_bytes(file.blob_id) == data
            assert await copied.used_bytes(user.id) == sum(len(data) for _, data in stored)
        finally:
            await target.close()
    finally:
        drop_postgres_database(target_url)
