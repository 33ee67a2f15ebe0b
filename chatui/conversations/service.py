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
    continue_reply  more of the reply that ends the active path, appended to it (it was stopped or cut off)
    fork            a new conversation holding a copy of the path down to a message
    switch_version  make the path through a message active, down to its newest leaf
    delete          stop its reply, delete it; with `undo`, keep it a few seconds in the same transaction
    restore         bring a deleted conversation back (from any instance: it is kept in the database)
    rename, update_settings, create, stop

What is shown of conversations (list, get, path, tree, search, owner) is the reading half, `ConversationReads`
(`chatui.conversations.reads`), which this class builds on: one service to its callers, two modules by what they
change with.
"""

from __future__ import annotations

import builtins
import logging
import secrets
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from chatui.conversations.errors import (
    ConversationError,
    ConversationNotFound,
    Refusal,
    SendRefused,
    TooManyConversations,
    translated,
)
from chatui.conversations.reads import ConversationReads
from chatui.conversations.rules import (
    UNDO_SECONDS,
    check_message,
    clean_model,
    clean_settings,
    clean_system_prompt,
    clean_title,
    clean_tools,
    title_from_message,
)
from chatui.conversations.titles import TitleWriter
from chatui.coordination.throttles import Throttle
from chatui.engine.engine import GenerationEngine
from chatui.engine.errors import ReplyRefused
from chatui.engine.events import ConversationEvents, PathChanged, TitleChanged
from chatui.engine.generation import Generation
from chatui.files.service import FileService
from providers.registry import ModelRegistry
from storage import (
    UNSET,
    AccountRepository,
    Anchor,
    Conversation,
    ConversationRepository,
    PathPage,
    SearchRepository,
)
from storage.models import utcnow
from storage.undo import UndoShelf

log = logging.getLogger(__name__)


class ConversationService(ConversationReads):
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
        owner_reuse_seconds: float,
        search: SearchRepository,
        shelf: UndoShelf,
        files: FileService,
    ) -> None:
        super().__init__(chats, engine, events, search=search, owner_reuse_seconds=owner_reuse_seconds)
        self.files = files
        self.accounts = accounts
        self.creations = creations
        """New conversations per user (None: unlimited), counted wherever they are created: API and pages."""
        self._shelf = shelf
        self.max_message_chars = max_message_chars
        self.models = models
        self.titles = titles
        if titles is not None:
            engine.on_finished.append(titles.reply_finished)

    async def create(
        self,
        user_id: str,
        model: str | None = None,
        title: str | None = None,
        settings: Mapping[str, Any] | None = None,
        *,
        preset_id: str | None = None,
    ) -> Conversation:
        """A new, empty conversation with the user's default system prompt unless `settings` (`system_prompt`,
        `temperature`, `max_tokens`, `top_p`, `seed`) name another (and, without a model, on one that can answer:
        the default, or a stand-in when the default cannot). `TooManyConversations` past the limit. `preset_id`
        records the preset it starts from (`PresetService.starting` gave its settings)."""
        chosen = clean_model(model) if model else None
        cleaned_title = clean_title(title) if title is not None else None
        cleaned = clean_settings(**(settings or {}))
        if self.creations is not None and (wait := await self.creations.hit(user_id)):
            raise TooManyConversations(wait)
        conversation = await self.chats.create_conversation(
            user_id,
            chosen or (await self.models.model_for_new_chat()).id,
            cleaned_title,
            **cleaned,
            preset_id=preset_id,
        )
        self._owners.remember(conversation.id, user_id)  # its socket usually follows at once
        return conversation

    # -- replies --------------------------------------------------------------------------------------------------

    async def start(
        self,
        user_id: str,
        content: str,
        model: str | None = None,
        *,
        session_id: str | None = None,
        attachments: Sequence[str] = (),
        settings: Mapping[str, Any] | None = None,
        preset_id: str | None = None,
    ) -> tuple[Conversation, Generation]:
        """A new conversation, its first message and the reply to it: a conversation exists from its first message
        on, so a message refused (too long, too fast, the reply could not start) leaves no empty conversation.
        `settings`: the chat settings chosen before the first message (as for `create`)."""
        model = clean_model(model) if model else None
        check_message(content, self.max_message_chars, with_files=bool(attachments))
        await self._attachable(user_id, attachments)
        conversation = await self.create(user_id, model, settings=settings, preset_id=preset_id)
        try:
            generation = await self.send(
                user_id, conversation.id, content, session_id=session_id, attachments=attachments
            )
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
        attachments: Sequence[str] = (),
    ) -> Generation:
        """The user's message after the active leaf, then its reply (`model` also becomes the conversation's).

        `attachments`: ids of the user's uploads (`FileNotFound` for any that is not), at most the per-message
        limit; with files, the text may be empty."""
        model = clean_model(model) if model else None
        check_message(content, self.max_message_chars, with_files=bool(attachments))
        file_ids = await self._attachable(user_id, attachments)
        with translated():
            return await self.engine.send(
                user_id,
                conversation_id,
                content,
                model,
                session_id=session_id,
                title=title_from_message(content),
                file_ids=file_ids,
            )

    async def regenerate(
        self, user_id: str, conversation_id: str, model: str | None = None, *, session_id: str | None = None
    ) -> Generation:
        """A new version of the last reply (the way to retry one that failed), optionally from another model."""
        with translated():
            return await self.engine.send(
                user_id,
                conversation_id,
                None,
                clean_model(model) if model else None,
                anchor=Anchor.REGENERATE,
                session_id=session_id,
            )

    async def edit(
        self,
        user_id: str,
        conversation_id: str,
        message_id: str,
        content: str,
        *,
        session_id: str | None = None,
        attachments: Sequence[str] | None = None,
    ) -> Generation:
        """A new version of a user message (beside it), made active, then its reply. It keeps the message's files,
        unless `attachments` names the ones it carries instead (`[]`: none)."""
        check_message(content, self.max_message_chars, with_files=bool(attachments))
        file_ids = None if attachments is None else await self._attachable(user_id, attachments)
        with translated():
            return await self.engine.send(
                user_id,
                conversation_id,
                content,
                anchor=Anchor.EDIT,
                edited_id=message_id,
                session_id=session_id,
                title=title_from_message(content),
                file_ids=file_ids,
            )

    async def continue_reply(self, user_id: str, conversation_id: str, *, session_id: str | None = None) -> Generation:
        """More of the reply that ends the active path (stopped, cut off, interrupted: any that has text), appended
        to that same message; the provider is asked its own way (`providers.base.continuation`)."""
        with translated():
            return await self.engine.send(user_id, conversation_id, None, anchor=Anchor.CONTINUE, session_id=session_id)

    async def fork(self, user_id: str, conversation_id: str, message_id: str) -> Conversation:
        """A new conversation (the newest in the list) holding a copy of the path down to `message_id`, on the same
        model and chat settings; counted as a new conversation (`TooManyConversations`)."""
        if self.creations is not None and (wait := await self.creations.hit(user_id)):
            raise TooManyConversations(wait)
        with translated():
            fork_id = await self.chats.fork_conversation(user_id, conversation_id, message_id)
        return await self.get(user_id, fork_id)

    async def _attachable(self, user_id: str, attachments: Sequence[str]) -> builtins.list[str]:
        """The ids of the files a message carries, checked: the user's own, at most the per-message limit."""
        if not attachments:
            return []
        with translated():
            return [file.id for file in await self.files.attachable(user_id, attachments)]

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
        with translated():
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
        **settings: Any,
    ) -> Conversation:
        """Change the model (the next reply comes from it) or the chat settings given (`system_prompt`,
        `temperature`, `max_tokens`, `top_p`, `seed`; None clears one); what is not given stays. The next reply
        uses the new values; one streaming now keeps the ones it started with."""
        changes: dict[str, Any] = clean_settings(**settings)
        if model is not UNSET:
            changes["model"] = clean_model(model)
        conversation = await self.chats.update_conversation(user_id, conversation_id, **changes)
        if conversation is None:
            raise ConversationNotFound
        return conversation

    async def delete(self, user_id: str, conversation_id: str, *, undo: bool = False) -> str | None:
        """Stop a reply streaming in it (writing nothing more), then delete it with every message, and free the
        files no other message uses.

        With `undo`, the conversation is kept for `UNDO_SECONDS`, in the deletion's own transaction: the answer is
        the token `restore` takes (None without `undo`), and its files are freed once that time is over.
        """
        self._owners.forget(conversation_id)
        if not undo:
            if not await self.engine.delete_conversation(user_id, conversation_id):
                raise ConversationNotFound
            await self.files.free_unused(user_id)
            return None
        await self.engine.drop_reply(user_id, conversation_id)
        token = secrets.token_urlsafe(12)
        until = utcnow() + timedelta(seconds=UNDO_SECONDS)
        if not await self._shelf.delete_keeping(user_id, conversation_id, token, until):
            raise ConversationNotFound
        self.files.free_after(user_id, UNDO_SECONDS)
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

    async def default_tools(self, user_id: str) -> list[str]:
        """The tools the user's new conversations start with."""
        return await self.accounts.default_tools(user_id)

    async def set_default_tools(self, user_id: str, tools: list[str] | None) -> list[str]:
        cleaned = clean_tools(tools)
        await self.accounts.set_default_tools(user_id, cleaned)
        return cleaned

    async def aclose(self) -> None:
        """Cancel titles still being written (at shutdown)."""
        if self.titles is not None:
            await self.titles.aclose()
