"""The conversation service: every operation on a conversation, for the pages, the REST API and `/ws` alike.

Each operation checks its input once (the same rules whoever calls), runs as one transaction (a repository method
run whole on the database thread: a unit of work that never spans an `await`), and tells the conversation's
watchers what changed (`chatui.engine.events`). Replies themselves belong to the engine; the service decides
where in the tree they go. Errors are this module's own (`NotFound`, `InvalidInput`, `TooManyConversations`) or the
engine's `SendRefused`; the edges turn them into HTTP statuses and `/ws` error codes.

    send            a user message after the active leaf, then its reply
    regenerate      another reply to the user message that ends the active path (also: retry a failed reply)
    edit            a new version of a user message beside it, then its reply
    switch_version  make the path through a message active, down to its newest leaf
    rename, update_settings, delete, create, list, get, path, tree, stop
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections.abc import Callable
from typing import Any

from chatui.conversations.titles import TitleWriter
from chatui.coordination.throttles import Throttle
from chatui.engine.engine import GenerationEngine, Refusal, SendRefused
from chatui.engine.events import ConversationEvents, PathChanged, Subscriber, TitleChanged
from chatui.engine.generation import Generation
from providers.registry import ModelRegistry, qualify_model_id
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
)

log = logging.getLogger(__name__)

TITLE_MAX = 200
SYSTEM_PROMPT_MAX = 8_000
TEMPERATURE_RANGE = (0.0, 2.0)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ConversationError(Exception):
    """Refused by the service; `message` can be shown as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ConversationError):
    """The conversation (or the message) does not exist for this user: someone else's looks exactly the same."""


class ConversationNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("This conversation does not exist.")


class MessageNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("That message is not in this conversation.")


class InvalidInput(ConversationError):
    """A value breaks a rule (`field` names which)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class TooManyConversations(ConversationError):
    """More new conversations than `CHATUI_CONVERSATIONS_PER_MINUTE` allows; nothing was created."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"Too many new conversations; try again in {retry_after:g} s.")
        self.retry_after = retry_after


def clean_title(title: str) -> str:
    """A title as stored: trimmed, 1 to 200 characters, no control characters (PostgreSQL refuses NUL in text)."""
    cleaned = title.strip()
    if not cleaned:
        raise InvalidInput("title", "The title is empty.")
    if len(cleaned) > TITLE_MAX:
        raise InvalidInput("title", f"The title is longer than {TITLE_MAX} characters.")
    if _CONTROL.search(cleaned):
        raise InvalidInput("title", "The title contains control characters.")
    return cleaned


def clean_system_prompt(prompt: str | None) -> str | None:
    """A system prompt as stored: at most 8,000 characters, no NUL; blank means none."""
    if prompt is None or not prompt.strip():
        return None
    if len(prompt) > SYSTEM_PROMPT_MAX:
        raise InvalidInput("system_prompt", f"The system prompt is longer than {SYSTEM_PROMPT_MAX:,} characters.")
    if "\x00" in prompt:
        raise InvalidInput("system_prompt", "The system prompt contains a NUL character.")
    return prompt


def clean_temperature(temperature: float | None) -> float | None:
    """None (the provider's default) or a number from 0 to 2."""
    if temperature is None:
        return None
    low, high = TEMPERATURE_RANGE
    if isinstance(temperature, bool) or not math.isfinite(temperature) or not low <= temperature <= high:
        raise InvalidInput("temperature", f"The temperature must be between {low:g} and {high:g}.")
    return float(temperature)


def clean_model(model: str) -> str:
    cleaned = model.strip()
    if not cleaned or len(cleaned) > TITLE_MAX or _CONTROL.search(cleaned):
        raise InvalidInput("model", "That is not a model id.")
    return qualify_model_id(cleaned)


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
    ) -> None:
        self.chats = chats
        self.accounts = accounts
        self.creations = creations
        """New conversations per user (None: unlimited), counted wherever they are created: API and pages."""
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
        with _translated():
            return await self.engine.send(
                user_id, conversation_id, content, clean_model(model) if model else None, session_id=session_id
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
        with _translated():
            return await self.engine.send(
                user_id, conversation_id, content, anchor=Anchor.EDIT, edited_id=message_id, session_id=session_id
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
            raise SendRefused(Refusal.BUSY, "A reply is still being written; wait for it or stop it.")
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

    async def delete(self, user_id: str, conversation_id: str) -> None:
        """Stop a reply streaming in it (writing nothing more), then delete it with every message."""
        if not await self.engine.delete_conversation(user_id, conversation_id):
            raise ConversationNotFound

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


class _translated:
    """Storage's not-found exceptions become the service's own."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, ConversationGone):
            raise ConversationNotFound from exc
        if isinstance(exc, MessageGone):
            raise MessageNotFound from exc
