"""Reading a conversation's message tree a page at a time: the active path (or a window of it around, above or below
a message), the whole tree, and switching the active path. The queries themselves are in `storage.tree`."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session as OrmSession

from storage.database import Database, Repository, transaction
from storage.errors import MessageGone, owned_or_gone
from storage.files import attachments_of, notes_of
from storage.models import Message
from storage.parts import reasoning_and_steps, sources_of
from storage.tree import (
    UNBOUNDED,
    PathPage,
    PathSegments,
    load_messages,
    newest_leaf_under,
    sibling_ids,
    walk_up,
)


class PathPaging(Repository):
    """The tree-reading part of `ConversationRepository`; every method answers only for the user's conversations."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.segments = PathSegments()
        """Long stretches of active paths already walked (paging down from an old message)."""

    @transaction
    def messages(self, s: OrmSession, conversation_id: str) -> list[Message]:
        """Every message of the conversation (all branches) in the order they were written."""
        return _messages(s, conversation_id)

    @transaction
    def path_page(
        self,
        s: OrmSession,
        user_id: str,
        conversation_id: str,
        *,
        limit: int | None = None,
        before: str | None = None,
        after: str | None = None,
        around: str | None = None,
        first: bool = False,
    ) -> PathPage:
        """The active path (root → leaf), or a page of it: the `limit` newest messages, the `limit` messages just
        above `before` (any message of the conversation), just below `after`, or `around` one (it included, about
        half before it) — those two on the active path — or, `first`, the `limit` oldest (**Jump to start**).
        `ConversationGone`, or `MessageGone` for a `before`, `after` or `around` that does not fit."""
        conversation = owned_or_gone(s, user_id, conversation_id)
        leaf = conversation.active_message_id
        bound = UNBOUNDED if limit is None else limit
        has_before = has_after = False
        if around is not None:
            walked = self.segments.walk_to(s, conversation_id, leaf, around) if leaf is not None else []
            if not walked or walked[-1] != around:
                raise MessageGone(around)
            half = max(1, bound // 2) if limit is not None else UNBOUNDED
            above = walk_up(s, conversation_id, around, max_depth=half)  # `around` and up to `half` above it
            has_before = len(above) > half
            above = above[:half][::-1]
            below = walked[:-1][::-1]
            room = max(0, bound - len(above))
            ids, has_after = above + below[:room], len(below) > room
        elif first:
            # The walk up from the leaf ends at the active path's root whichever root it is told to stop at; told
            # the right one (the usual single root), the stretch is kept for the pages down from there (`after`).
            root = s.scalar(
                select(Message.id).where(Message.conversation_id == conversation_id, Message.parent_id.is_(None))
            )
            down = self.segments.walk_to(s, conversation_id, leaf, root)[::-1] if leaf and root else []
            ids, has_after = down[:bound], len(down) > bound
        elif after is not None:
            if leaf is None:
                raise MessageGone(after)
            walked = self.segments.walk_to(s, conversation_id, leaf, after)
            if not walked or walked[-1] != after:
                raise MessageGone(after)
            below = walked[:-1][::-1]
            ids, has_before, has_after = below[:bound], True, len(below) > bound
        else:
            if before is not None:
                anchor = s.scalar(
                    select(Message.parent_id).where(Message.id == before, Message.conversation_id == conversation_id)
                )
                if anchor is None and not s.scalar(
                    select(func.count()).where(Message.id == before, Message.conversation_id == conversation_id)
                ):
                    raise MessageGone(before)
                start, has_after = anchor, True
            else:
                start = leaf
            walked = walk_up(s, conversation_id, start, max_depth=bound) if start is not None else []
            has_before = len(walked) > bound
            ids = walked[:bound][::-1]
        messages = load_messages(s, ids)
        files = attachments_of(s.connection(), ids)
        thoughts, steps = reasoning_and_steps(s.connection(), ids)
        notes = notes_of(s.connection(), list(files))
        return PathPage(
            messages,
            sibling_ids(s, conversation_id, messages),
            has_before,
            has_after,
            files,
            thoughts,
            notes,
            steps,
            sources_of(s.connection(), ids),
        )

    @transaction
    def tree(self, s: OrmSession, user_id: str, conversation_id: str) -> PathPage:
        """Every message of the conversation (all versions), in the order written, with its versions."""
        owned_or_gone(s, user_id, conversation_id)
        messages = _messages(s, conversation_id)
        ids = [m.id for m in messages]
        files, (thoughts, steps) = attachments_of(s.connection(), ids), reasoning_and_steps(s.connection(), ids)
        notes = notes_of(s.connection(), list(files))
        return PathPage(
            messages,
            sibling_ids(s, conversation_id, messages),
            attachments=files,
            reasoning=thoughts,
            notes=notes,
            steps=steps,
            sources=sources_of(s.connection(), ids),
        )

    @transaction
    def set_active(self, s: OrmSession, user_id: str, conversation_id: str, message_id: str) -> str:
        """Make the path through `message_id` active, down to its newest leaf; returns that leaf's id."""
        conversation = owned_or_gone(s, user_id, conversation_id)
        leaf = newest_leaf_under(s, conversation_id, message_id)
        if leaf is None:
            raise MessageGone(message_id)
        conversation.active_message_id = leaf
        return leaf


def _messages(s: OrmSession, conversation_id: str) -> list[Message]:
    return list(
        s.scalars(select(Message).where(Message.conversation_id == conversation_id).order_by(Message.created_at))
    )
