"""The conversation service: every operation on a conversation, for the pages, the REST API and `/ws` alike.

Each operation checks its input once (the same rules whoever calls), runs as one transaction (a repository method
run whole on the database thread: a unit of work that never spans an `await`), and tells the conversation's
watchers what changed (`chatui.engine.events`). Replies themselves belong to the engine; the service decides
where in the tree they go. Every error is a `ConversationError` (`chatui.conversations.errors`); the edges turn
them into HTTP statuses and `/ws` error codes. The rules values obey are in `chatui.conversations.rules`.

    start           a new conversation with its first message and the reply: it exists from that message on
    send            a user message after the active leaf, then its reply
    regenerate      another reply to the user message that ends the active path (also: retry a failed reply)
    edit            a new version of a user message beside it, then its reply
    switch_version  make the path through a message active, down to its newest leaf
    delete          stop its reply, delete it; with `undo`, keep it a few seconds in the same transaction
    restore         bring a deleted conversation back (from any instance: it is kept in the database)
    rename, update_settings, create, list, get, path, tree, search, stop
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import logging
import secrets
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from chatui.conversations.errors import (
    ConversationError,
    ConversationNotFound,
    InvalidInput,
    MessageNotFound,
    Refusal,
    SendRefused,
    TooManyConversations,
)
from chatui.conversations.rules import (
    UNDO_SECONDS,
    check_message,
    clean_model,
    clean_system_prompt,
    clean_temperature,
    clean_title,
    title_from_message,
)
from chatui.conversations.titles import TitleWriter
from chatui.coordination.throttles import Throttle
from chatui.engine.engine import GenerationEngine
from chatui.engine.errors import ReplyRefused
from chatui.engine.events import ConversationEvents, PathChanged, Subscriber, TitleChanged
from chatui.engine.generation import Generation
from providers.registry import ModelRegistry
from storage import (
    UNSET,
    AccountRepository,
    Anchor,
    Conversation,
    ConversationGone,
    ConversationPage,
    ConversationRepository,
    MessageGone,
    PathPage,
    SearchHit,
    SearchRepository,
)
from storage.models import utcnow
from storage.undo import UndoShelf

log = logging.getLogger(__name__)


class ConversationService:
    def __init__(
        self,
        chats: ConversationRepository,
        engine: GenerationEngine,
        models: ModelRegistry,
        events: ConversationEvents,
        titles: TitleWriter | None = None,
        *,
        accounts: AccountRepository,
        creations: Throttle | None = None,
        max_message_chars: int,
        search: SearchRepository,
        shelf: UndoShelf,
    ) -> None:
        self.chats = chats
        self.accounts = accounts
        self.creations = creations
        """New conversations per user (None: unlimited), counted wherever they are created: API and pages."""
        self._search = search
        self._shelf = shelf
        self.max_message_chars = max_message_chars
        self.engine = engine
        self.models = models
        self.events = events
        self.titles = titles
        if titles is not None:
            engine.on_finished.append(self._reply_finished)
        self._title_tasks: set[asyncio.Task[None]] = set()

    # -- reading --------------------------------------------------------------------------------------------------

    async def create(self, user_id: str, model: str | None = None, title: str | None = None) -> Conversation:
        """A new, empty conversation with the user's default system prompt (and, without a model, on one that can
        answer: the default, or a stand-in when the default cannot). `TooManyConversations` past the limit."""
        chosen = clean_model(model) if model else None
        cleaned_title = clean_title(title) if title is not None else None
        if self.creations is not None and (wait := await self.creations.hit(user_id)):
            raise TooManyConversations(wait)
        return await self.chats.create_conversation(
            user_id, chosen or (await self.models.model_for_new_chat()).id, cleaned_title
        )

    async def list(
        self, user_id: str, *, limit: int | None = None, cursor: str | None = None, title_contains: str | None = None
    ) -> ConversationPage:
        """The user's conversations, most recently active first: all, or a page of `limit` after `cursor`."""
        try:
            return await self.chats.list_conversations(
                user_id, limit=limit, cursor=cursor, title_contains=title_contains
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
        `/ws` handshake): the caller compares, and tells someone else's apart from a missing one to nobody."""
        return await self.chats.conversation_owner(conversation_id)

    async def path(
        self,
        user_id: str,
        conversation_id: str,
        *,
        limit: int | None = None,
        before: str | None = None,
        after: str | None = None,
        around: str | None = None,
    ) -> PathPage:
        """The active path, or a page of it (see `ConversationRepository.path_page`); a streaming reply shows its
        text."""
        if sum(anchor is not None for anchor in (before, after, around)) > 1:
            raise InvalidInput("before", "Give one of `before`, `after` and `around`.")
        if limit is not None and limit < 1:
            raise InvalidInput("limit", "The limit must be at least 1.")
        with _translated():
            page = await self.chats.path_page(
                user_id, conversation_id, limit=limit, before=before, after=after, around=around
            )
        return self._with_live_text(conversation_id, page)

    async def tree(self, user_id: str, conversation_id: str) -> PathPage:
        """Every message, every version."""
        with _translated():
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

    def subscribe(self, conversation_id: str, subscriber: Subscriber) -> Callable[[], None]:
        """Events of this conversation (reply started, path changed, title changed); returns the unsubscribe."""
        return self.events.subscribe(conversation_id, subscriber)

    # -- replies --------------------------------------------------------------------------------------------------

    async def start(
        self, user_id: str, content: str, model: str | None = None, *, session_id: str | None = None
    ) -> tuple[Conversation, Generation]:
        """A new conversation, its first message and the reply to it: a conversation exists from its first message
        on, so a message refused (too long, too fast, the reply could not start) leaves no empty conversation."""
        model = clean_model(model) if model else None
        check_message(content, self.max_message_chars)
        conversation = await self.create(user_id, model)
        try:
            generation = await self.send(user_id, conversation.id, content, session_id=session_id)
        except ConversationError:
            await self.chats.delete_conversation(user_id, conversation.id)  # one transaction: as if never made
            raise
        return conversation, generation

    async def send(
        self,
        user_id: str,
        conversation_id: str,
        content: str,
        model: str | None = None,
        *,
        session_id: str | None = None,
    ) -> Generation:
        """The user's message after the active leaf, then its reply (`model` also becomes the conversation's)."""
        model = clean_model(model) if model else None
        check_message(content, self.max_message_chars)
        with _translated():
            return await self.engine.send(
                user_id,
                conversation_id,
                content,
                model,
                session_id=session_id,
                title=title_from_message(content),
            )

    async def regenerate(
        self, user_id: str, conversation_id: str, model: str | None = None, *, session_id: str | None = None
    ) -> Generation:
        """A new version of the last reply (the way to retry one that failed), optionally from another model."""
        with _translated():
            return await self.engine.send(
                user_id,
                conversation_id,
                None,
                clean_model(model) if model else None,
                anchor=Anchor.REGENERATE,
                session_id=session_id,
            )

    async def edit(
        self, user_id: str, conversation_id: str, message_id: str, content: str, *, session_id: str | None = None
    ) -> Generation:
        """A new version of a user message (beside it), made active, then its reply."""
        check_message(content, self.max_message_chars)
        with _translated():
            return await self.engine.send(
                user_id,
                conversation_id,
                content,
                anchor=Anchor.EDIT,
                edited_id=message_id,
                session_id=session_id,
                title=title_from_message(content),
            )

    def stop(self, user_id: str, conversation_id: str) -> Generation | None:
        """Stop the reply streaming in this conversation (its text so far is kept); None if there is none."""
        current = self.engine.current(conversation_id)
        if current is None or current.user_id != user_id:
            return None
        return self.engine.stop(conversation_id)

    # -- changing -------------------------------------------------------------------------------------------------

    async def switch_version(self, user_id: str, conversation_id: str, message_id: str) -> PathPage:
        """Make the path through `message_id` active, down to its newest leaf; answers the new active path."""
        if self.engine.busy(conversation_id):
            raise SendRefused.by_engine(ReplyRefused(Refusal.BUSY))
        with _translated():
            leaf = await self.chats.set_active(user_id, conversation_id, message_id)
        self.events.publish(conversation_id, PathChanged(leaf))
        return await self.path(user_id, conversation_id)

    async def rename(self, user_id: str, conversation_id: str, title: str) -> Conversation:
        """Give the conversation a title of the user's own (an AI title no longer replaces it)."""
        conversation = await self.chats.update_conversation(user_id, conversation_id, title=clean_title(title))
        if conversation is None:
            raise ConversationNotFound
        self.events.publish(conversation_id, TitleChanged(conversation.title or ""))
        return conversation

    async def update_settings(
        self,
        user_id: str,
        conversation_id: str,
        *,
        model: str = UNSET,
        system_prompt: str | None = UNSET,
        temperature: float | None = UNSET,
    ) -> Conversation:
        """Change the model (the next reply comes from it), the system prompt or the temperature; what is not given
        stays. The next reply uses the new values; one streaming now keeps the ones it started with."""
        changes: dict[str, Any] = {}
        if model is not UNSET:
            changes["model"] = clean_model(model)
        if system_prompt is not UNSET:
            changes["system_prompt"] = clean_system_prompt(system_prompt)
        if temperature is not UNSET:
            changes["temperature"] = clean_temperature(temperature)
        conversation = await self.chats.update_conversation(user_id, conversation_id, **changes)
        if conversation is None:
            raise ConversationNotFound
        return conversation

    async def delete(self, user_id: str, conversation_id: str, *, undo: bool = False) -> str | None:
        """Stop a reply streaming in it (writing nothing more), then delete it with every message.

        With `undo`, the conversation is kept for `UNDO_SECONDS`, in the deletion's own transaction: the answer is
        the token `restore` takes (None without `undo`).
        """
        if not undo:
            if not await self.engine.delete_conversation(user_id, conversation_id):
                raise ConversationNotFound
            return None
        await self.engine.drop_reply(user_id, conversation_id)
        token = secrets.token_urlsafe(12)
        until = utcnow() + timedelta(seconds=UNDO_SECONDS)
        if not await self._shelf.delete_keeping(user_id, conversation_id, token, until):
            raise ConversationNotFound
        return token

    async def undo_seconds_left(self, user_id: str, token: str) -> float:
        """How long the deletion under `token` can still be undone (0: it cannot, or it is someone else's)."""
        until = await self._shelf.kept_until(user_id, token[:32])
        return max(0.0, (until - utcnow()).total_seconds()) if until is not None else 0.0

    async def restore(self, user_id: str, token: str) -> str | None:
        """Bring the deleted conversation back (new ids; the same title, settings, messages and times); its id, or
        None when it is too late (or the token is someone else's)."""
        return await self._shelf.restore(user_id, token[:32])

    async def default_system_prompt(self, user_id: str) -> str | None:
        """The system prompt the user's new conversations start with."""
        return await self.accounts.default_system_prompt(user_id)

    async def set_default_system_prompt(self, user_id: str, prompt: str | None) -> str | None:
        cleaned = clean_system_prompt(prompt)
        await self.accounts.set_default_system_prompt(user_id, cleaned)
        return cleaned

    # -- AI titles ------------------------------------------------------------------------------------------------

    def _reply_finished(self, generation: Generation) -> None:
        """After the first reply of a conversation, ask its model for a title (in the background)."""
        if self.titles is None or not self.titles.wanted(generation):
            return
        task = asyncio.create_task(self._retitle(generation), name=f"title-{generation.conversation_id}")
        self._title_tasks.add(task)
        task.add_done_callback(self._title_tasks.discard)

    async def _retitle(self, generation: Generation) -> None:
        assert self.titles is not None
        title = await self.titles.replace_title(generation)
        if title is not None:
            self.events.publish(generation.conversation_id, TitleChanged(title))

    async def aclose(self) -> None:
        """Cancel titles still being written (at shutdown)."""
        for task in list(self._title_tasks):
            task.cancel()
        await asyncio.gather(*self._title_tasks, return_exceptions=True)

    # -- helpers --------------------------------------------------------------------------------------------------

    def _with_live_text(self, conversation_id: str, page: PathPage) -> PathPage:
        live = self.engine.current(conversation_id)
        if live is not None:
            for message in page.messages:
                if message.id == live.message_id:
                    message.content = live.text
        return page


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """The engine's refusals and storage's not-found exceptions become the service's own."""
    try:
        yield
    except ReplyRefused as exc:
        raise SendRefused.by_engine(exc) from None
    except ConversationGone as exc:
        raise ConversationNotFound from exc
    except MessageGone as exc:
        raise MessageNotFound from exc
