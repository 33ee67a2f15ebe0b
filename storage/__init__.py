"""Persistence: SQLAlchemy 2 models and repositories. Knows nothing of the UI, the API or the providers."""

from storage.accounts import AccountRepository, InviteUnusable, NotFirst, SignedIn, UsernameTaken
from storage.conversations import UNSET, ConversationPage, ConversationRepository, ListFilter
from storage.database import Database
from storage.errors import ConversationGone, MessageGone, NothingToContinue, NothingToRegenerate
from storage.knowledge import KnowledgeRepository
from storage.models import Conversation, Message, MessageStatus, Session, User
from storage.orphans import INTERRUPTED_NOTE, mark_interrupted
from storage.presets import PresetRepository
from storage.reply_context import Anchor, ReplyContext
from storage.search import SearchHit, SearchRepository
from storage.shares import ShareRepository
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
    "InviteUnusable",
    "KnowledgeRepository",
    "ListFilter",
    "Message",
    "MessageGone",
    "MessageStatus",
    "NotFirst",
    "NothingToContinue",
    "NothingToRegenerate",
    "PathPage",
    "PresetRepository",
    "ReplyContext",
    "SearchHit",
    "SearchRepository",
    "Session",
    "ShareRepository",
    "SignedIn",
    "User",
    "UsernameTaken",
    "mark_interrupted",
]
