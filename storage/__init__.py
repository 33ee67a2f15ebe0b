"""Persistence: SQLAlchemy 2 models and repositories. Knows nothing of the UI, the API or the providers."""

from storage.accounts import AccountRepository, SignedIn, UsernameTaken
from storage.chats import (
    INTERRUPTED_NOTE,
    UNSET,
    Anchor,
    ConversationGone,
    ConversationPage,
    ConversationRepository,
    MessageGone,
    MessagePage,
    NothingToRegenerate,
    ReplyContext,
    mark_interrupted,
)
from storage.database import Database
from storage.models import Conversation, Message, MessageStatus, Session, User
from storage.search import SearchHit, SearchRepository
from storage.tree import PathPage

__all__ = [
    "INTERRUPTED_NOTE",
    "UNSET",
    "AccountRepository",
    "Anchor",
    "Conversation",
    "ConversationGone",
    "ConversationPage",
    "ConversationRepository",
    "Database",
    "Message",
    "MessageGone",
    "MessagePage",
    "MessageStatus",
    "NothingToRegenerate",
    "PathPage",
    "ReplyContext",
    "SearchHit",
    "SearchRepository",
    "Session",
    "SignedIn",
    "User",
    "UsernameTaken",
    "mark_interrupted",
]
