"""Pins, the archive, folders and tags: how a person groups their conversations, with the rules of what each may be.

Apart from `ConversationService` because none of it touches a reply: it only files conversations. Tags are stored
lower-cased (so "Work" and "work" are one tag and the filter finds both), trimmed, at most `TAG_MAX` characters and
`TAGS_MAX` a conversation; folder names are like titles, at most `FOLDER_NAME_MAX` characters.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from typing import Any

from chatui.conversations.errors import ConversationNotFound, InvalidInput, MessageNotFound, NotFound
from storage import UNSET, ConversationRepository
from storage.errors import ConversationGone
from storage.feedback import MessageFeedback
from storage.models import Conversation, Folder
from storage.organize import FolderGone, FolderTooDeep

TAG_MAX = 40
TAGS_MAX = 20
FOLDER_NAME_MAX = 100
COMMENT_MAX = 4_000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPACES = re.compile(r"\s+")


class FolderNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("This folder does not exist.")


def _cleaned(text: str, field: str, what: str, limit: int) -> str:
    """`text` trimmed, refused when empty, longer than `limit` or holding control characters."""
    cleaned = text.strip()
    problem = (
        "is empty"
        if not cleaned
        else f"is longer than {limit} characters"
        if len(cleaned) > limit
        else "contains control characters"
        if _CONTROL.search(cleaned)
        else None
    )
    if problem is not None:
        raise InvalidInput(field, f"{what} {problem}.")
    return cleaned


def clean_tag(tag: str) -> str:
    return _cleaned(_SPACES.sub(" ", tag).lower(), "tags", "A tag", TAG_MAX)


def clean_tags(tags: Sequence[str]) -> list[str]:
    cleaned = list(dict.fromkeys(clean_tag(t) for t in tags))
    if len(cleaned) > TAGS_MAX:
        raise InvalidInput("tags", f"At most {TAGS_MAX} tags a conversation.")
    return cleaned


def clean_folder_name(name: str) -> str:
    return _cleaned(name, "name", "The folder's name", FOLDER_NAME_MAX)


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except ConversationGone:
        raise ConversationNotFound from None
    except FolderGone:
        raise FolderNotFound from None
    except FolderTooDeep:
        raise InvalidInput("parent_id", "Folders nest one level: a folder inside a folder holds no folders.") from None


class Organizer:
    """Files a user's conversations (each method answers only for the user's own; someone else's is not found)."""

    def __init__(self, chats: ConversationRepository) -> None:
        self.chats = chats

    async def organize(
        self,
        user_id: str,
        conversation_ids: Sequence[str],
        *,
        pinned: bool = UNSET,
        archived: bool = UNSET,
        folder_id: str | None = UNSET,
        tags: Sequence[str] = UNSET,
    ) -> list[Conversation]:
        """Pin, archive, file or tag one conversation or several at once (Select mode): all of them or none."""
        changes: dict[str, Any] = {
            name: value
            for name, value in (("pinned", pinned), ("archived", archived), ("folder_id", folder_id))
            if value is not UNSET
        }
        if tags is not UNSET:
            changes["tags"] = clean_tags(tags)
        with _translated():
            return await self.chats.organize(user_id, conversation_ids, **changes)

    async def tags_of(self, conversation_ids: Sequence[str]) -> dict[str, list[str]]:
        return await self.chats.tags_of(conversation_ids)

    async def user_tags(self, user_id: str) -> list[tuple[str, int]]:
        """The user's tags with how many conversations carry each, most used first (the sidebar's chips)."""
        return await self.chats.user_tags(user_id)

    async def folders(self, user_id: str) -> list[Folder]:
        return await self.chats.list_folders(user_id)

    async def create_folder(
        self, user_id: str, name: str, parent_id: str | None = None, position: int | None = None
    ) -> Folder:
        with _translated():
            return await self.chats.create_folder(user_id, clean_folder_name(name), parent_id, position)

    async def update_folder(
        self,
        user_id: str,
        folder_id: str,
        *,
        name: str = UNSET,
        parent_id: str | None = UNSET,
        position: int = UNSET,
    ) -> Folder:
        changes: dict[str, Any] = {} if name is UNSET else {"name": clean_folder_name(name)}
        if parent_id is not UNSET:
            changes["parent_id"] = parent_id
        if position is not UNSET:
            changes["position"] = position
        with _translated():
            return await self.chats.update_folder(user_id, folder_id, **changes)

    async def rate(self, user_id: str, message_id: str, rating: str, comment: str | None) -> MessageFeedback:
        """Thumbs up or down (and a comment) on a reply of the user's; `MessageNotFound` for any other message."""
        cleaned = (comment or "").strip() or None
        if cleaned is not None and len(cleaned) > COMMENT_MAX:
            raise InvalidInput("comment", f"The comment is longer than {COMMENT_MAX:,} characters.")
        feedback = await self.chats.rate(user_id, message_id, rating, cleaned)
        if feedback is None:
            raise MessageNotFound
        return feedback

    async def unrate(self, user_id: str, message_id: str) -> None:
        """Take back the user's rating of a reply of theirs; `MessageNotFound` for any other message."""
        if not await self.chats.unrate(user_id, message_id):
            raise MessageNotFound

    async def ratings(self, user_id: str, message_ids: Sequence[str]) -> dict[str, MessageFeedback]:
        """The user's ratings of these replies (a page of the conversation shows them on its replies)."""
        if not message_ids:
            return {}
        found = await self.chats.ratings_of(list(message_ids))
        return {message_id: f for message_id, f in found.items() if f.user_id == user_id}

    async def all_feedback(self) -> list[dict[str, Any]]:
        """Every rating with the conversation path that produced its reply (an administrator's export)."""
        return await self.chats.all_feedback()

    async def delete_folder(self, user_id: str, folder_id: str) -> None:
        """Delete the folder: its conversations stay, in no folder; folders inside it move to the top level."""
        with _translated():
            await self.chats.delete_folder(user_id, folder_id)
