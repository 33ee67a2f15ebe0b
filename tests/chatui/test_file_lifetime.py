"""When the app frees files (the app's own wiring, real SQLite): a conversation deleted for good frees its files at
once; one deleted with Undo keeps them until the Undo is over, and brings them back if undone; the periodic sweep
frees uploads never sent."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

from sqlalchemy import select, update

from chatui.files.service import FileService
from storage.files import UNSENT_FOR, NewFile, StoredFile
from storage.models import File, utcnow
from storage.undo import UndoShelf
from testing.fakes.inprocess import Reply
from testing.waiting import until
from tests.chatui.conftest import EngineOnly


async def stored(engine_only: EngineOnly, user_id: str, data: bytes, name: str = "notes.txt") -> StoredFile:
    new = NewFile(name=name, media_type="text/plain", size=len(data), sha256=hashlib.sha256(data).hexdigest())
    return await engine_only.services.store.files.store(user_id, new, io.BytesIO(data), quota_bytes=10**9)


async def sent_with(engine_only: EngineOnly, user_id: str, file: StoredFile) -> str:
    conversation = await engine_only.conversations.create(user_id)
    engine_only.provider.then(Reply(tokens=["Read it."]))
    await (await engine_only.conversations.send(user_id, conversation.id, "Read this", attachments=[file.id])).wait()
    return conversation.id


def files_left(engine_only: EngineOnly) -> set[str]:
    with engine_only.db.engine.connect() as c:
        return set(c.execute(select(File.id)).scalars())


async def test_a_conversation_deleted_for_good_frees_its_files_at_once(engine_only: EngineOnly):
    alice = await engine_only.user()
    notes, other = await stored(engine_only, alice.id, b"notes"), await stored(engine_only, alice.id, b"other")
    gone = await sent_with(engine_only, alice.id, notes)
    await sent_with(engine_only, alice.id, other)
    assert await engine_only.services.files.files.used_bytes(alice.id) == 10
    await engine_only.conversations.delete(alice.id, gone)
    assert files_left(engine_only) == {other.id}
    assert await engine_only.services.files.files.used_bytes(alice.id) == 5


async def test_undo_brings_the_files_back_and_they_are_freed_once_it_is_over(engine_only: EngineOnly):
    alice = await engine_only.user()
    notes = await stored(engine_only, alice.id, b"notes")
    token = await engine_only.conversations.delete(alice.id, await sent_with(engine_only, alice.id, notes), undo=True)
    assert token is not None
    restored = await engine_only.conversations.restore(alice.id, token)
    assert restored is not None
    page = await engine_only.conversations.path(alice.id, restored)
    assert [f.id for f in page.attachments[page.messages[0].id]] == [notes.id]

    # Deleted again with an Undo of a fraction of a second: freed once it is over (and its grace), not before.
    shelf, files = UndoShelf(engine_only.db), engine_only.services.files
    assert await shelf.delete_keeping(alice.id, restored, "short", utcnow() + timedelta(seconds=0.3))
    await files.free_unused(alice.id)
    assert files_left(engine_only) == {notes.id}
    files.free_after(alice.id, 0.3)
    await until(lambda: not files_left(engine_only), within=6, what="the file freed after the Undo")


async def test_the_periodic_sweep_frees_uploads_never_sent_for_a_day(engine_only: EngineOnly):
    alice = await engine_only.user()
    stale, fresh = await stored(engine_only, alice.id, b"stale"), await stored(engine_only, alice.id, b"fresh")
    with engine_only.db.engine.begin() as c:
        c.execute(update(File).where(File.id == stale.id).values(created_at=utcnow() - UNSENT_FOR - timedelta(1)))
    app_files = engine_only.services.files
    sweeper = FileService(app_files.files, app_files.limits, app_files.spool, sweep_seconds=0.05)
    sweeper.start()
    try:
        await until(lambda: files_left(engine_only) == {fresh.id}, within=5, what="the stale upload swept")
    finally:
        await sweeper.aclose()


async def test_deleting_an_account_frees_its_files_and_no_one_elses(engine_only: EngineOnly):
    admin = await engine_only.user("root")  # the first account: the administrator
    alice, bob = await engine_only.user("alice"), await engine_only.user("bob")
    alices = await stored(engine_only, alice.id, b"same bytes")
    await sent_with(engine_only, alice.id, alices)
    await stored(engine_only, alice.id, b"never sent")
    bobs = await stored(engine_only, bob.id, b"same bytes")  # the same content: never shared across users
    await engine_only.services.accounts.delete_user(alice.id, by=admin)
    assert files_left(engine_only) == {bobs.id}
    assert await engine_only.services.files.files.used_bytes(alice.id) == 0
    assert await engine_only.services.files.files.read_bytes(bobs.blob_id) == b"same bytes"
