"""Persistence: SQLAlchemy 2 models and repositories. Knows nothing of the UI, the API or the providers."""

from storage.accounts import AccountRepository, SignedIn, UsernameTaken
from storage.chats import ChatRepository, ConversationGone, ConversationPage, MessagePage, mark_interrupted
from storage.database import Database
from storage.models import Conversation, Message, MessageStatus, Session, User
from storage.search import SearchHit, SearchRepository

__all__ = [
    "AccountRepository",
    "ChatRepository",
    "Conversation",
    "ConversationGone",
    "ConversationPage",
    "Database",
    "Message",
    "MessagePage",
    "MessageStatus",
    "SearchHit",
    "SearchRepository",
    "Session",
    "SignedIn",
    "User",
    "UsernameTaken",
    "mark_interrupted",
]
