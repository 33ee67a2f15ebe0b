"""Deleted conversations kept for a few seconds, so their owner can take the deletion back (from any instance).

Deleting is one transaction: the conversation is read whole, deleted, and put on the shelf as JSON under a random
token; so is the undo: taken off the shelf (only by its owner, only in time) and written back with new ids, its
messages' files with them (a file no message uses is kept while an Undo can bring it back: `storage.files`). A
crash in between loses nothing and restores nothing twice. Rows past their time are swept by the next deletion.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from storage.database import Repository, statements
from storage.models import Conversation, DeletedConversation, utcnow
from storage.transfer import (
    AttachmentRecord,
    ConversationRecord,
    MessageRecord,
    read_conversation,
    write_conversation,
)


class UndoShelf(Repository):
    @statements
    def delete_keeping(
        self, c: Connection, user_id: str, conversation_id: str, token: str, expires_at: datetime
    ) -> bool:
        """Delete the user's conversation and keep it under `token` until `expires_at`; False if it is not theirs."""
        record = read_conversation(c, user_id, conversation_id)
        if record is None:
            return False
        c.execute(delete(Conversation).where(Conversation.id == conversation_id, Conversation.user_id == user_id))
        c.execute(delete(DeletedConversation).where(DeletedConversation.expires_at <= utcnow()))
        c.execute(
            insert(DeletedConversation).values(
                token=token, user_id=user_id, record=_dumps(record), expires_at=expires_at
            )
        )
        return True

    @statements
    def kept_until(self, c: Connection, user_id: str, token: str) -> datetime | None:
        """Until when the user's deletion under `token` can be undone (None: it cannot, or it is not theirs)."""
        return c.execute(
            select(DeletedConversation.expires_at).where(
                DeletedConversation.token == token, DeletedConversation.user_id == user_id
            )
        ).scalar_one_or_none()

    @statements
    def restore(self, c: Connection, user_id: str, token: str) -> str | None:
        """Write the kept conversation back (new ids, the same title, settings, messages and times) and forget it;
        its new id, or None when it is no longer kept (too late, already restored, or not the user's)."""
        kept = c.execute(
            delete(DeletedConversation)
            .where(
                DeletedConversation.token == token,
                DeletedConversation.user_id == user_id,
                DeletedConversation.expires_at > utcnow(),
            )
            .returning(DeletedConversation.record)
        ).scalar_one_or_none()
        if kept is None:
            return None
        return write_conversation(c, user_id, _loads(kept), f"undo:{token}")


def _dumps(record: ConversationRecord) -> str:
    return json.dumps(asdict(record), default=datetime.isoformat, ensure_ascii=False)


def _loads(text: str) -> ConversationRecord:
    fields: dict[str, Any] = json.loads(text)
    messages = [
        MessageRecord(
            **{
                **m,
                "created_at": datetime.fromisoformat(m["created_at"]),
                "attachments": [AttachmentRecord(**a) for a in m.get("attachments", [])],
            }
        )
        for m in fields.pop("messages")
    ]
    return ConversationRecord(
        **{
            **fields,
            "created_at": datetime.fromisoformat(fields["created_at"]),
            "updated_at": datetime.fromisoformat(fields["updated_at"]),
            "messages": messages,
        }
    )
