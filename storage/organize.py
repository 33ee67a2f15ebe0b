"""Organizing a user's conversations: pins, the archive, folders (one level of nesting) and tags.

Part of `ConversationRepository` (a mixin, like `storage.forks`). Every method answers only for the user's own
conversations and folders: someone else's looks exactly like a missing one (`ConversationGone`, `FolderGone`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, true, update
from sqlalchemy.orm import Session as OrmSession

from storage.database import Repository, transaction
from storage.errors import ConversationGone
from storage.models import Conversation, ConversationTag, Folder, new_id, utcnow

_UNSET: Any = object()


class FolderGone(Exception):
    """The folder does not exist (or is not this user's)."""


class FolderTooDeep(Exception):
    """A folder may hold folders, or sit in one, not both: one level of nesting."""


def _folder(s: OrmSession, user_id: str, folder_id: str) -> Folder:
    folder = s.scalars(select(Folder).where(Folder.id == folder_id, Folder.user_id == user_id)).one_or_none()
    if folder is None:
        raise FolderGone(folder_id)
    return folder


def _check_parent(s: OrmSession, user_id: str, parent_id: str | None, moving: Folder | None = None) -> None:
    """`parent_id` may hold `moving` (or a new folder): the user's, top level, and not `moving` itself, which must
    then hold no folder of its own."""
    if parent_id is None:
        return
    parent = _folder(s, user_id, parent_id)
    if parent.parent_id is not None or (moving is not None and parent.id == moving.id):
        raise FolderTooDeep(parent_id)
    if moving is not None and s.scalar(select(Folder.id).where(Folder.parent_id == moving.id).limit(1)) is not None:
        raise FolderTooDeep(moving.id)


def tags_by_conversation(s: OrmSession | Connection, conversation_ids: Sequence[str]) -> dict[str, list[str]]:
    """Each conversation's tags, sorted (conversations without any are left out)."""
    tags: dict[str, list[str]] = {}
    if not conversation_ids:
        return tags
    rows = s.execute(
        select(ConversationTag.conversation_id, ConversationTag.tag)
        .where(ConversationTag.conversation_id.in_(conversation_ids))
        .order_by(ConversationTag.tag)
    )
    for conversation_id, tag in rows:
        tags.setdefault(conversation_id, []).append(tag)
    return tags


def replace_tags(s: OrmSession | Connection, user_id: str, conversation_id: str, tags: Iterable[str]) -> None:
    s.execute(delete(ConversationTag).where(ConversationTag.conversation_id == conversation_id))
    rows = [{"conversation_id": conversation_id, "tag": t, "user_id": user_id} for t in dict.fromkeys(tags)]
    if rows:
        s.execute(insert(ConversationTag), rows)


def folder_path(c: Connection, folder_id: str | None) -> list[str]:
    """The names from the top-level folder down to this one (`[]` for none): how an export names a folder."""
    path: list[str] = []
    while folder_id is not None and len(path) < 2:
        row = c.execute(select(Folder.name, Folder.parent_id).where(Folder.id == folder_id)).one_or_none()
        if row is None:
            break
        path.insert(0, row.name)
        folder_id = row.parent_id
    return path


def folder_at(c: Connection, user_id: str, path: Sequence[str]) -> str | None:
    """The user's folder at this path of names (an import's), made where missing; None for `[]`."""
    parent_id: str | None = None
    for name in path[:2]:
        siblings = Folder.parent_id.is_(None) if parent_id is None else Folder.parent_id == parent_id
        found = c.execute(select(Folder.id).where(Folder.user_id == user_id, siblings, Folder.name == name)).first()
        if found is not None:
            parent_id = found.id
            continue
        last = c.execute(select(func.max(Folder.position)).where(Folder.user_id == user_id, siblings)).scalar()
        new = new_id()
        position = 0 if last is None else last + 1
        values = {"name": name, "parent_id": parent_id, "position": position, "created_at": utcnow()}
        c.execute(insert(Folder).values(id=new, user_id=user_id, **values))
        parent_id = new
    return parent_id


def archived_among(c: Connection, conversation_ids: Sequence[str]) -> set[str]:
    """Which of these conversations are archived (search marks them)."""
    if not conversation_ids:
        return set()
    table = Conversation.__table__
    query = select(table.c.id).where(table.c.archived == true(), table.c.id.in_(conversation_ids))
    return set(c.execute(query).scalars())


class Organizing(Repository):
    @transaction
    def tags_of(self, s: OrmSession, conversation_ids: Sequence[str]) -> dict[str, list[str]]:
        """The tags of these conversations (the caller has them from the user's own list)."""
        return tags_by_conversation(s, conversation_ids)

    @transaction
    def user_tags(self, s: OrmSession, user_id: str) -> list[tuple[str, int]]:
        """Every tag the user gave, with how many conversations carry it, most used first."""
        count = func.count().label("n")
        rows = s.execute(
            select(ConversationTag.tag, count)
            .where(ConversationTag.user_id == user_id)
            .group_by(ConversationTag.tag)
            .order_by(count.desc(), ConversationTag.tag)
        )
        return [(tag, int(n)) for tag, n in rows]

    @transaction
    def organize(
        self,
        s: OrmSession,
        user_id: str,
        conversation_ids: Sequence[str],
        *,
        pinned: bool = _UNSET,
        archived: bool = _UNSET,
        folder_id: str | None = _UNSET,
        tags: Sequence[str] = _UNSET,
    ) -> list[Conversation]:
        """Pin, archive, file or tag the conversations (what is not given stays); none of it moves a conversation
        in time (`updated_at` is when it was last written to). All or nothing: `ConversationGone` if one is not
        the user's, `FolderGone` for a folder that is not."""
        mine = select(Conversation).where(Conversation.user_id == user_id, Conversation.id.in_(conversation_ids))
        conversations = list(s.scalars(mine))
        if len(conversations) != len(set(conversation_ids)):
            raise ConversationGone(next(i for i in conversation_ids if i not in {c.id for c in conversations}))
        if folder_id is not _UNSET and folder_id is not None:
            _folder(s, user_id, folder_id)
        for conversation in conversations:
            for name, value in (("pinned", pinned), ("archived", archived), ("folder_id", folder_id)):
                if value is not _UNSET:
                    setattr(conversation, name, value)
            if tags is not _UNSET:
                replace_tags(s, user_id, conversation.id, tags)
        return conversations

    # -- folders ---------------------------------------------------------------------------------------------------

    @transaction
    def create_folder(
        self, s: OrmSession, user_id: str, name: str, parent_id: str | None = None, position: int | None = None
    ) -> Folder:
        """A new folder, last among its siblings unless `position` says where."""
        _check_parent(s, user_id, parent_id)
        if position is None:
            siblings = Folder.parent_id.is_(None) if parent_id is None else Folder.parent_id == parent_id
            last = s.scalar(select(func.max(Folder.position)).where(Folder.user_id == user_id, siblings))
            position = 0 if last is None else last + 1
        folder = Folder(
            id=new_id(), user_id=user_id, name=name, parent_id=parent_id, position=position, created_at=utcnow()
        )
        s.add(folder)
        return folder

    @transaction
    def list_folders(self, s: OrmSession, user_id: str) -> list[Folder]:
        """The user's folders in order: each top-level one followed by those inside it."""
        folders = list(
            s.scalars(select(Folder).where(Folder.user_id == user_id).order_by(Folder.position, Folder.name))
        )
        ordered: list[Folder] = []
        for top in (f for f in folders if f.parent_id is None):
            ordered.append(top)
            ordered.extend(f for f in folders if f.parent_id == top.id)
        return ordered

    @transaction
    def update_folder(
        self,
        s: OrmSession,
        user_id: str,
        folder_id: str,
        *,
        name: str = _UNSET,
        parent_id: str | None = _UNSET,
        position: int = _UNSET,
    ) -> Folder:
        """Rename, move (top level or into a top-level folder) or reorder it."""
        folder = _folder(s, user_id, folder_id)
        if parent_id is not _UNSET:
            _check_parent(s, user_id, parent_id, moving=folder)
            folder.parent_id = parent_id
        if name is not _UNSET:
            folder.name = name
        if position is not _UNSET:
            folder.position = position
        return folder

    @transaction
    def delete_folder(self, s: OrmSession, user_id: str, folder_id: str) -> None:
        """Delete the folder; its conversations move out of it (to no folder) and its folders to the top level.
        Done here: `conversations.folder_id` has no foreign key to do it."""
        folder = _folder(s, user_id, folder_id)
        s.execute(update(Conversation).where(Conversation.folder_id == folder.id).values(folder_id=None))
        s.execute(update(Folder).where(Folder.parent_id == folder.id).values(parent_id=None))
        s.delete(folder)
