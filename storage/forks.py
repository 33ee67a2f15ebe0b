"""Fork: the path from a conversation's first message down to one message, copied into a new conversation.

One transaction, on the database: the path is one walk up the tree (`storage.tree.path_rows`), its messages and their
parts (text, files) are written again under new ids, and the new conversation starts where the fork was made, with
the same model and chat settings. Files are not copied: both conversations' messages point at the same upload, which
lives as long as a message uses it (PARTS.md).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, insert, select

from storage.database import Repository, statements
from storage.errors import ConversationGone, MessageGone
from storage.models import Conversation, Message, MessagePart, MessageStatus, new_id, utcnow
from storage.tree import path_rows

FORK_SUFFIX = " (fork)"
TITLE_MAX = 200
_messages, _parts, _conversations = Message.__table__, MessagePart.__table__, Conversation.__table__


class Forks(Repository):
    @statements
    def fork_conversation(self, c: Connection, user_id: str, conversation_id: str, message_id: str) -> str:
        """Copy the path down to `message_id` into a new conversation of the user's (the newest in their list); its
        id. `ConversationGone`, or `MessageGone` if the message is not in the conversation."""
        source = c.execute(
            select(_conversations).where(_conversations.c.id == conversation_id, _conversations.c.user_id == user_id)
        ).one_or_none()
        if source is None:
            raise ConversationGone(conversation_id)
        messages = path_rows(c, conversation_id, message_id, _messages, _messages.c.id)
        if not messages:
            raise MessageGone(message_id)
        ids = {m.id: new_id() for m in messages}
        now = utcnow()
        fork_id = new_id()
        title = None if source.title is None else source.title[: TITLE_MAX - len(FORK_SUFFIX)] + FORK_SUFFIX
        c.execute(
            insert(_conversations).values(
                id=fork_id,
                user_id=user_id,
                title=title,
                model=source.model,
                created_at=now,
                updated_at=now,
                active_message_id=ids[message_id],
                system_prompt=source.system_prompt,
                temperature=source.temperature,
                max_tokens=source.max_tokens,
                top_p=source.top_p,
                seed=source.seed,
                reasoning_effort=source.reasoning_effort,
                tools=source.tools,
                preset_id=source.preset_id,
            )
        )
        c.execute(insert(_messages), [_copied(m, fork_id, ids) for m in messages])
        parts = path_rows(c, conversation_id, message_id, _parts, _parts.c.message_id)
        if parts:
            c.execute(insert(_parts), [{**p._asdict(), "message_id": ids[p.message_id]} for p in parts])
        return fork_id


def _copied(message: Row[Any], conversation_id: str, ids: dict[str, str]) -> dict[str, Any]:
    """A message row for the fork: new ids; a reply still streaming in the original is copied as stopped there."""
    row = dict(message._mapping)
    streaming = row["status"] == MessageStatus.STREAMING
    return {
        **row,
        "id": ids[row["id"]],
        "conversation_id": conversation_id,
        "parent_id": ids.get(row["parent_id"]) if row["parent_id"] is not None else None,
        "status": MessageStatus.CANCELLED if streaming else row["status"],
    }
