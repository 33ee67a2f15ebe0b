"""The conversation service's reading half: what pages, the REST API and `/ws` show of conversations.

Apart from the rules of change (`chatui.conversations.service`, which builds on this class) because it changes
with what is shown: pages of the active path, the whole tree, search, the owner check of a `/ws` handshake (reused
for a few seconds: `chatui.conversations.owners`) and the text of a reply still streaming, which is in memory
(`chatui.engine`), not yet in the database.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable

from chatui.conversations.errors import ConversationNotFound, InvalidInput, translated
from chatui.conversations.owners import RecentOwners
from chatui.engine.engine import GenerationEngine
from chatui.engine.events import ConversationEvents, Subscriber
from chatui.engine.generation import Generation
from storage import (
    Conversation,
    ConversationPage,
    ConversationRepository,
    ListFilter,
    PathPage,
    SearchHit,
    SearchRepository,
)


class ConversationReads:
    def __init__(
        self,
        chats: ConversationRepository,
        engine: GenerationEngine,
        events: ConversationEvents,
        *,
        search: SearchRepository,
        owner_reuse_seconds: float,
    ) -> None:
        self.chats = chats
        self.engine = engine
        self.events = events
        self._search = search
        self._owners = RecentOwners(owner_reuse_seconds)

    async def list(
        self,
        user_id: str,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        title_contains: str | None = None,
        only: ListFilter | None = None,
    ) -> ConversationPage:
        """The user's conversations, pinned first, then most recently active: all, or a page of `limit` after
        `cursor`; `only` picks the archived ones, a folder's, a tag's or the pinned ones."""
        try:
            return await self.chats.list_conversations(
                user_id, limit=limit, cursor=cursor, title_contains=title_contains, only=only or ListFilter()
            )
        except ValueError:
            raise InvalidInput("cursor", "Unknown cursor.") from None

    async def get(self, user_id: str, conversation_id: str) -> Conversation:
        conversation = await self.chats.get_conversation(user_id, conversation_id)
        if conversation is None:
            raise ConversationNotFound
        return conversation

    async def owner(self, conversation_id: str) -> str | None:
        """Whose the conversation is (None: no such conversation). For a check made before the user is known (the
        `/ws` handshake): the caller compares, and tells someone else's apart from a missing one to nobody. A
        recent answer is reused (`chatui.conversations.owners`)."""
        known = self._owners.get(conversation_id)
        if known is not None:
            return known
        owner = await self.chats.conversation_owner(conversation_id)
        if owner is not None:
            self._owners.remember(conversation_id, owner)
        return owner

    async def path(
        self,
        user_id: str,
        conversation_id: str,
        *,
        limit: int | None = None,
        before: str | None = None,
        after: str | None = None,
        around: str | None = None,
        first: bool = False,
    ) -> PathPage:
        """The active path, or a page of it (see `ConversationRepository.path_page`); a streaming reply shows its
        text."""
        if sum(anchor is not None for anchor in (before, after, around)) + first > 1:
            raise InvalidInput("before", "Give one of `before`, `after`, `around` and `first`.")
        if limit is not None and limit < 1:
            raise InvalidInput("limit", "The limit must be at least 1.")
        with translated():
            page = await self.chats.path_page(
                user_id, conversation_id, limit=limit, before=before, after=after, around=around, first=first
            )
        return self._with_live_text(conversation_id, page)

    async def tree(self, user_id: str, conversation_id: str) -> PathPage:
        """Every message, every version."""
        with translated():
            page = await self.chats.tree(user_id, conversation_id)
        return self._with_live_text(conversation_id, page)

    async def search(self, user_id: str, query: str, *, limit: int, offset: int = 0) -> builtins.list[SearchHit]:
        """The user's messages and conversation titles that match `query`, best first (`SearchRepository.search`)."""
        return await self._search.search(user_id, query, limit=limit, offset=offset)

    def current(self, conversation_id: str) -> Generation | None:
        """The reply streaming in this conversation now (the caller has checked the conversation is the user's)."""
        return self.engine.current(conversation_id)

    async def attach(self, conversation_id: str) -> Generation | None:
        """Like `current`, for a reader about to replay the reply (one written on another instance is caught up)."""
        return await self.engine.attach(conversation_id)

    def approve(self, user_id: str, conversation_id: str, call_id: str, allow: bool) -> bool:
        """Allow or deny a tool call waiting in the user's reply in this conversation (False: none waits)."""
        return self.engine.approve(user_id, conversation_id, call_id, allow)

    def subscribe(self, conversation_id: str, subscriber: Subscriber) -> Callable[[], None]:
        """Events of this conversation (reply started, path changed, title changed); returns the unsubscribe."""
        return self.events.subscribe(conversation_id, subscriber)

    def _with_live_text(self, conversation_id: str, page: PathPage) -> PathPage:
        live = self.engine.current(conversation_id)
        if live is not None:
            for message in page.messages:
                if message.id == live.message_id:
                    message.content = live.text
        return page
