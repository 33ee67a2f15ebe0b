"""What the conversation repositories refuse with, and the ownership check behind `ConversationGone`: a conversation
of someone else looks exactly like a missing one, whichever method is asked."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session as OrmSession

from storage.models import Conversation


class ConversationGone(Exception):
    """The conversation was deleted (or never belonged to this user)."""


class MessageGone(Exception):
    """The message is not in this conversation (or not the kind the operation needs, or not on the active path)."""


class NothingToRegenerate(Exception):
    """The active path ends in no user message to answer again (the conversation is empty)."""


class NothingToContinue(Exception):
    """The active path does not end in a finished reply with text to carry on (empty, a question, or streaming)."""


def owned(user_id: str, conversation_id: str) -> Select[Conversation]:
    """The conversation, if it is this user's."""
    return select(Conversation).where(Conversation.id == conversation_id, Conversation.user_id == user_id)


def owned_or_gone(s: OrmSession, user_id: str, conversation_id: str) -> Conversation:
    conversation = s.scalars(owned(user_id, conversation_id)).one_or_none()
    if conversation is None:
        raise ConversationGone(conversation_id)
    return conversation
