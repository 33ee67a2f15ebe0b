"""The file store: uploads' bytes in the database, chunked, each distinct content stored once per user (PARTS.md).

In the database rather than on a disk beside it, so every instance behind a load balancer reads the same files and
`backup`, `restore` and `migrate-db` carry them with the rest. Bytes move a chunk at a time: an upload is read from
its spooled file into chunk rows, a download is served a chunk a query, and no whole file is held to store it.

A file is written whole or not at all: the chunks, the blob and the file row go in one transaction, checked against
the user's quota inside it (the user's row locked on PostgreSQL, so two uploads at once cannot both squeeze in).

Files are freed (`free_unused`) when no message uses them any more — but not while a deleted conversation of the
user can still be brought back by its Undo (`storage.undo`) — and when they were uploaded and never sent for
`UNSENT_FOR`; blobs then go with the last file that used them. Freeing runs under the same lock of the user's row
as storing, so an upload that is about to share a blob never sees it deleted under it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import BinaryIO

from sqlalchemy import Connection, and_, bindparam, delete, exists, func, insert, or_, select, union, update
from sqlalchemy.exc import IntegrityError

from storage.database import Repository, statements
from storage.models import (
    Blob,
    BlobChunk,
    DeletedConversation,
    File,
    MessagePart,
    PartKind,
    User,
    new_id,
    utcnow,
)

CHUNK_BYTES = 256 * 1024
"""Bytes per chunk row: small enough that a download's memory stays flat, large enough that 20 MB is 80 rows."""

UNSENT_FOR = timedelta(hours=24)
"""An upload no message has used is freed this long after it was uploaded (the page that holds it is long gone)."""
UNDO_GRACE = timedelta(seconds=2)
"""A deleted conversation counts as restorable this much past its Undo deadline (instances' clocks may differ a
little): its files stay until then."""

_blobs, _chunks, _files, _users = Blob.__table__, BlobChunk.__table__, File.__table__, User.__table__
_parts, _shelf = MessagePart.__table__, DeletedConversation.__table__


@dataclass(frozen=True, slots=True)
class StoredFile:
    id: str
    user_id: str
    blob_id: str
    name: str
    media_type: str
    size: int
    width: int | None
    height: int | None
    pages: int | None
    created_at: datetime
    attached_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewFile:
    """What the upload's checks found out about a file, before it is stored."""

    name: str
    media_type: str
    size: int
    sha256: str
    width: int | None = None
    height: int | None = None
    pages: int | None = None


class QuotaExceeded(Exception):
    """Storing the file would take the user past their quota; nothing was stored."""

    def __init__(self, used: int, size: int, quota: int) -> None:
        super().__init__(f"{used} bytes used + {size} > quota {quota}")
        self.used, self.size, self.quota = used, size, quota


class FileGone(Exception):
    """A file id that is not one of this user's files (someone else's looks exactly like a missing one)."""

    def __init__(self, file_id: str) -> None:
        super().__init__(file_id)
        self.file_id = file_id


@dataclass(frozen=True, slots=True)
class Freed:
    """What a freeing deleted: file rows, blobs, and the bytes those blobs held (what the quota gets back)."""

    files: int = 0
    blobs: int = 0
    bytes: int = 0

    def __add__(self, other: Freed) -> Freed:
        return Freed(self.files + other.files, self.blobs + other.blobs, self.bytes + other.bytes)


class FileRepository(Repository):
    """Each method is one transaction on the database thread; each that takes a `user_id` answers for that user's
    files only."""

    @statements
    def store(self, c: Connection, user_id: str, new: NewFile, source: BinaryIO, *, quota_bytes: int) -> StoredFile:
        """Store `source`'s bytes (read from its start, a chunk at a time) as a file of this user.

        Bytes the user already stored are not stored again (same SHA-256: the new file shares the blob) and do not
        count against the quota again. Raises `QuotaExceeded`.
        """
        return store_file(c, user_id, new, source, quota_bytes=quota_bytes)

    @statements
    def get(self, c: Connection, user_id: str, file_id: str) -> StoredFile | None:
        row = c.execute(_FILE, {"uid": user_id, "ids": [file_id]}).one_or_none()
        return None if row is None else StoredFile(**row._mapping)

    @statements
    def owned(self, c: Connection, user_id: str, file_ids: Sequence[str]) -> list[StoredFile]:
        """These files, in the order asked; `FileGone` names the first that is not the user's."""
        return owned_files(c, user_id, file_ids)

    @statements
    def used_bytes(self, c: Connection, user_id: str) -> int:
        """What the user's files take against the quota (each distinct content once)."""
        return int(c.execute(_USED, {"uid": user_id}).scalar() or 0)

    @statements
    def read_chunk(self, c: Connection, blob_id: str, seq: int) -> bytes | None:
        """The blob's `seq`-th chunk (None past its end)."""
        data: bytes | None = c.execute(_CHUNK, {"bid": blob_id, "seq": seq}).scalar()
        return data

    @statements
    def read_bytes(self, c: Connection, blob_id: str) -> bytes:
        """The whole blob, for the few readers that need all of it at once (an image to resize, a PDF to read)."""
        return b"".join(c.execute(_ALL_CHUNKS, {"bid": blob_id}).scalars())

    @statements
    def free(self, c: Connection, user_id: str, *, unsent_before: datetime) -> Freed:
        """Free the user's files no message uses (unless a deletion of theirs can still be undone) and their
        uploads older than `unsent_before` that were never sent; then the blobs no file uses."""
        return free_unused(c, user_id, unsent_before)

    @statements
    def begin_sweep(self, c: Connection, *, unsent_before: datetime) -> list[str]:
        """Forget the deletions whose Undo is over, then list the users who have something to free (each is freed
        in a transaction of its own, `free`). Every step is idempotent: instances may sweep at the same time."""
        c.execute(delete(_shelf).where(_shelf.c.expires_at <= utcnow() - UNDO_GRACE))
        return list(c.execute(_SWEEPABLE, {"unsent_before": unsent_before}).scalars())


def store_file(c: Connection, user_id: str, new: NewFile, source: BinaryIO, *, quota_bytes: int) -> StoredFile:
    """`FileRepository.store` inside the caller's transaction (the import's worker stores files with it)."""
    c.execute(_LOCK_USER, {"uid": user_id})
    blob_id = c.execute(_BLOB_OF, {"uid": user_id, "sha": new.sha256}).scalar()
    if blob_id is None:
        used = int(c.execute(_USED, {"uid": user_id}).scalar() or 0)
        if used + new.size > quota_bytes:
            raise QuotaExceeded(used, new.size, quota_bytes)
        blob_id = _write_blob(c, user_id, new, source)
    stored = StoredFile(
        id=new_id(),
        user_id=user_id,
        blob_id=blob_id,
        name=new.name,
        media_type=new.media_type,
        size=new.size,
        width=new.width,
        height=new.height,
        pages=new.pages,
        created_at=utcnow(),
        attached_at=None,
    )
    c.execute(insert(_files), asdict(stored))
    return stored


def free_unused(c: Connection, user_id: str, unsent_before: datetime) -> Freed:
    """See `FileRepository.free`; inside the caller's transaction."""
    c.execute(_LOCK_USER, {"uid": user_id})
    undoable = c.execute(_UNDOABLE, {"uid": user_id, "after": utcnow() - UNDO_GRACE}).first() is not None
    condition = _UNSENT if undoable else or_(_UNSENT, _UNUSED)
    files = c.execute(
        delete(_files).where(_files.c.user_id == user_id, condition), {"unsent_before": unsent_before}
    ).rowcount
    return Freed(files, *_drop_unused_blobs(c, user_id))


def drop_unattached(c: Connection, user_id: str, file_ids: Sequence[str]) -> Freed:
    """Delete these files of the user if no message took them (an import's files that no conversation it wrote
    uses), and the blobs they leave unused."""
    if not file_ids:
        return Freed()
    c.execute(_LOCK_USER, {"uid": user_id})
    files = 0
    for start in range(0, len(file_ids), 500):
        files += c.execute(
            delete(_files).where(
                _files.c.user_id == user_id, _files.c.id.in_(file_ids[start : start + 500]), _NEVER_SENT
            )
        ).rowcount
    return Freed(files, *_drop_unused_blobs(c, user_id))


def _drop_unused_blobs(c: Connection, user_id: str) -> tuple[int, int]:
    """Delete the user's blobs no file uses (their chunks go by the cascade); how many, and their bytes."""
    orphans = c.execute(_ORPHAN_BLOBS, {"uid": user_id}).all()
    if not orphans:
        return 0, 0
    ids = [row.id for row in orphans]
    for start in range(0, len(ids), 500):
        c.execute(delete(_blobs).where(_blobs.c.id.in_(ids[start : start + 500])))
    return len(ids), sum(row.size for row in orphans)


def owned_files(c: Connection, user_id: str, file_ids: Sequence[str]) -> list[StoredFile]:
    if not file_ids:
        return []
    found = {row.id: StoredFile(**row._mapping) for row in c.execute(_FILE, {"uid": user_id, "ids": list(file_ids)})}
    for file_id in file_ids:
        if file_id not in found:
            raise FileGone(file_id)
    return [found[file_id] for file_id in file_ids]


def owned_ids(c: Connection, user_id: str, file_ids: Sequence[str]) -> set[str]:
    """Which of these ids are files of this user."""
    ids, found = list(dict.fromkeys(file_ids)), set[str]()
    for start in range(0, len(ids), 500):
        found.update(c.execute(_OWNED, {"uid": user_id, "ids": ids[start : start + 500]}).scalars())
    return found


def attachments_of(c: Connection, message_ids: Sequence[str]) -> dict[str, list[StoredFile]]:
    """The files of each of these messages, in their order in the message (messages without files are left out)."""
    found: dict[str, list[StoredFile]] = {}
    ids = list(message_ids)
    for start in range(0, len(ids), 500):
        for row in c.execute(_ATTACHMENTS, {"ids": ids[start : start + 500]}):
            fields = dict(row._mapping)
            found.setdefault(fields.pop("message_id"), []).append(StoredFile(**fields))
    return found


def notes_of(c: Connection, message_ids: Sequence[str]) -> dict[str, dict[str, str]]:
    """The notes kept on these messages' file parts (what a model was not sent of a file, PARTS.md): message id →
    file id → the sentence (messages without any are left out)."""
    found: dict[str, dict[str, str]] = {}
    ids = list(message_ids)
    for start in range(0, len(ids), 500):
        for row in c.execute(_FILE_DATA, {"ids": ids[start : start + 500]}):
            note = row.data.get("note") if isinstance(row.data, dict) else None
            if isinstance(note, str):
                found.setdefault(row.message_id, {})[row.file_id] = note
    return found


def mark_attached(c: Connection, file_ids: Sequence[str]) -> None:
    """The files are now in a message: no longer swept as unsent uploads."""
    if file_ids:
        c.execute(_MARK_ATTACHED, {"ids": list(file_ids), "now": utcnow()})


def _write_blob(c: Connection, user_id: str, new: NewFile, source: BinaryIO) -> str:
    """Insert the blob and its chunks; if the same content was stored meanwhile (two uploads of one file at once,
    PostgreSQL), the savepoint is undone and the blob that won is shared."""
    blob_id = new_id()
    try:
        with c.begin_nested():
            c.execute(
                insert(_blobs),
                {"id": blob_id, "user_id": user_id, "sha256": new.sha256, "size": new.size, "created_at": utcnow()},
            )
            source.seek(0)
            seq = 0
            while chunk := source.read(CHUNK_BYTES):
                c.execute(_INSERT_CHUNK, {"blob_id": blob_id, "seq": seq, "data": chunk})
                seq += 1
    except IntegrityError:
        existing: str = c.execute(_BLOB_OF, {"uid": user_id, "sha": new.sha256}).scalar_one()
        return existing
    return blob_id


_LOCK_USER = select(_users.c.id).where(_users.c.id == bindparam("uid")).with_for_update()
_BLOB_OF = select(_blobs.c.id).where(_blobs.c.user_id == bindparam("uid"), _blobs.c.sha256 == bindparam("sha"))
_USED = select(func.sum(_blobs.c.size)).where(_blobs.c.user_id == bindparam("uid"))
_FILE = select(
    _files.c.id,
    _files.c.user_id,
    _files.c.blob_id,
    _files.c.name,
    _files.c.media_type,
    _files.c.size,
    _files.c.width,
    _files.c.height,
    _files.c.pages,
    _files.c.created_at,
    _files.c.attached_at,
).where(_files.c.user_id == bindparam("uid"), _files.c.id.in_(bindparam("ids", expanding=True)))
_OWNED = select(_files.c.id).where(
    _files.c.user_id == bindparam("uid"), _files.c.id.in_(bindparam("ids", expanding=True))
)
_ATTACHMENTS = (
    select(_parts.c.message_id, *_FILE.selected_columns)
    .join(_files, _files.c.id == _parts.c.file_id)
    .where(_parts.c.message_id.in_(bindparam("ids", expanding=True)), _parts.c.kind == PartKind.FILE)
    .order_by(_parts.c.message_id, _parts.c.position)
)
_FILE_DATA = select(_parts.c.message_id, _parts.c.file_id, _parts.c.data).where(
    _parts.c.message_id.in_(bindparam("ids", expanding=True)), _parts.c.kind == PartKind.FILE
)
_MARK_ATTACHED = (
    update(_files)
    .where(_files.c.id.in_(bindparam("ids", expanding=True)), _files.c.attached_at.is_(None))
    .values(attached_at=bindparam("now"))
)
_NEVER_SENT = _files.c.attached_at.is_(None)
_UNSENT = and_(_NEVER_SENT, _files.c.created_at < bindparam("unsent_before"))
_UNUSED = and_(_files.c.attached_at.is_not(None), ~exists().where(_parts.c.file_id == _files.c.id))
_UNUSED_BLOB = ~exists().where(_files.c.blob_id == _blobs.c.id)
_UNDOABLE = select(_shelf.c.token).where(_shelf.c.user_id == bindparam("uid"), _shelf.c.expires_at > bindparam("after"))
_ORPHAN_BLOBS = select(_blobs.c.id, _blobs.c.size).where(_blobs.c.user_id == bindparam("uid"), _UNUSED_BLOB)
_SWEEPABLE = union(
    select(_files.c.user_id).where(or_(_UNSENT, _UNUSED)),
    select(_blobs.c.user_id).where(_UNUSED_BLOB),
)
_INSERT_CHUNK = insert(_chunks)
_CHUNK = select(_chunks.c.data).where(_chunks.c.blob_id == bindparam("bid"), _chunks.c.seq == bindparam("seq"))
_ALL_CHUNKS = select(_chunks.c.data).where(_chunks.c.blob_id == bindparam("bid")).order_by(_chunks.c.seq)
