"""The chat page: sidebar of conversations, the messages, the composer. It subscribes to the conversation's events,
never owns a reply, and changes nothing but through the conversation service.

Every reply in the open conversation is shown through the events — the one this page started, one started in another
tab or over `/ws`, or one already streaming when the page was (re)loaded — and so are a new title and another
version picked elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from functools import partial
from typing import Any
from urllib.parse import quote

from fastapi import Request
from nicegui import Client, ui

from chatui.bootstrap import Services
from chatui.conversations.errors import BUSY, ConversationError, ConversationNotFound
from chatui.conversations.imported import carry_on
from chatui.engine.events import ConversationEvent, PathChanged, ReplyStarted, TitleChanged
from chatui.engine.generation import Generation
from chatui.files.errors import FileRefused
from chatui.ui.bubbles import AssistantBubble
from chatui.ui.chat.attach import AttachTray
from chatui.ui.chat.branching import Branching
from chatui.ui.chat.finder import Finder
from chatui.ui.chat.knowledge import KnowledgePicker
from chatui.ui.chat.menu import ConversationMenu
from chatui.ui.chat.notices import ModelNotices
from chatui.ui.chat.presets import PresetStart, new_chat_buttons
from chatui.ui.chat.rows import MessageRows
from chatui.ui.chat.settings import SettingsControl
from chatui.ui.chat.slash import SlashPrompts
from chatui.ui.chat.think import ThinkControl
from chatui.ui.chat.tools import ToolPicker
from chatui.ui.citations import show_sources
from chatui.ui.composer import CHAT_SHORTCUTS, composer
from chatui.ui.frame import page_frame
from chatui.ui.message_list import MessageList
from chatui.ui.model_picker import ModelPicker
from chatui.ui.pacing import UpdatePacer
from chatui.ui.search import SearchPanel
from chatui.ui.sidebar import Sidebar
from chatui.ui.undo import offer_undo
from chatui.ui.weak import weakly
from storage import Conversation, MessageStatus, SignedIn

log = logging.getLogger(__name__)


class ChatView:
    def __init__(
        self,
        services: Services,
        signed_in: SignedIn,
        request: Request,
        conversation: Conversation | None,
        pacer: UpdatePacer,
        at_message: str | None = None,
    ):
        self.services = services
        self.pacer = pacer
        self.conversations = services.conversations
        self.user = signed_in.user
        self.signed_in = signed_in
        self.conversation = conversation
        self.model = conversation.model if conversation else services.models.default_model
        self.client: Client = ui.context.client
        self.at_message = at_message
        self.search_query = request.query_params.get("q", "")[:500] if at_message else ""
        self.live: Generation | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self._unwatch = None
        self.model_ids: list[str] = []
        self.notices = ModelNotices(self)
        self.undo_token = request.query_params.get("undo", "")[:64] if conversation is None else ""
        self.presets = PresetStart(self, request.query_params.get("preset"))
        self.client.on_delete(self._cleanup)

    # -- building -------------------------------------------------------------------------------------------------

    async def build(self) -> None:
        title = self.conversation.title if self.conversation and self.conversation.title else "New chat"
        self.frame = page_frame(self.services, self.signed_in, title, drawer=True)
        self.frame.title.mark("conversation-title")
        with self.frame.actions:
            self.picker = ModelPicker(self.model, weakly(self._model_changed))
            self.model_select = self.picker.select
            self.menu = ConversationMenu(self)
        assert self.frame.drawer is not None
        with self.frame.drawer:
            new_chat_buttons(await self.services.presets.list(self.user.id))
            self.sidebar = Sidebar(
                self.services,
                self.signed_in,
                self.conversation.id if self.conversation else None,
                on_renamed=weakly(self.renamed),
                on_deleted=weakly(self.deleted),
            )
            self.sidebar.build()
            self.search = SearchPanel(self.conversations, self.user.id)
            self.search.attach(self.sidebar.filter, before=self.sidebar.list)
            await self.sidebar.refresh()
        self.frame.on_imported = self.sidebar.refresh
        self.messages = MessageList(
            self.services,
            self.user.id,
            on_live=weakly(self._follow),
            spawn=weakly(self._spawn),
            on_row=weakly(self._draw_row),
            admin=self.user.is_admin,
        )
        self.messages.build()
        self.finder = Finder(self, self.search, self.search_query, self.at_message)
        self.branching = Branching(self)
        self.rows = MessageRows(
            self.messages,
            edit=weakly(self.branching.edit),
            switch=weakly(self.branching.switch),
            regenerate=weakly(self.branching.regenerate),
            carry_on=weakly(self.branching.carry_on),
            fork=weakly(self.branching.fork),
            models=weakly(self._models),
            streaming=weakly(self._streaming),
            max_files=self.services.settings.attachments_per_message,
        )
        self.box = composer(self.send, self.stop, self.services.settings.max_message_chars)
        self.composer = self.box.textarea
        self.settings = SettingsControl(self)
        self.attach = AttachTray.for_composer(self.box, self.services.settings.attachments_per_message)
        self.tool_picker = ToolPicker(self)
        self.slash = SlashPrompts(self)
        self.knowledge = KnowledgePicker(self)
        self.think = ThinkControl(self)
        await self.settings.load()
        await self.tool_picker.load()
        await self.presets.apply()
        await self.knowledge.load()
        self.frame.shortcuts[:0] = CHAT_SHORTCUTS  # keys handled in the browser (`static/chatui.js`)
        if self.conversation is not None:
            await self._show_conversation(self.conversation.id)
        self._track(asyncio.create_task(self._load_models()))
        if self.undo_token:
            await offer_undo(self.services, self.user.id, self.undo_token)
            ui.navigate.history.replace("/")

    async def _show_conversation(self, conversation_id: str) -> None:
        """Show the stored messages (a page of them), live replies from the engine, and follow whatever starts next."""
        self._unwatch = self.conversations.subscribe(conversation_id, self._on_event)
        live = self.conversations.current(conversation_id)  # taken before reading: a reply ending meanwhile is seen
        if not await self.messages.open(conversation_id, live, at=self.at_message):
            ui.notify("That message is not in this conversation any more.", type="warning")
        self.rows.mark_last()

    # -- replies --------------------------------------------------------------------------------------------------

    def _on_event(self, event: ConversationEvent) -> None:
        if isinstance(event, ReplyStarted):
            self._on_generation(event.generation)
        elif isinstance(event, PathChanged):
            self._track(asyncio.create_task(self._reopen(None)))
        elif isinstance(event, TitleChanged):
            with self.client:
                self._show_title(event.title)
            self._track(asyncio.create_task(self._refresh_sidebar()))

    def _show_title(self, title: str) -> None:
        if self.conversation is not None:
            self.conversation.title = title
        self.frame.set_title(title or "New chat")

    async def _refresh_sidebar(self) -> None:
        with self.client:
            await self.sidebar.refresh()

    async def _reopen(self, live: Generation | None) -> None:
        """Show the active path afresh (another version was picked, or a reply went in above the end)."""
        if self.conversation is not None:
            with self.client:
                await self.messages.open(self.conversation.id, live or self.conversations.current(self.conversation.id))
                self.rows.mark_last()

    def _on_generation(self, generation: Generation) -> None:
        if self.messages.has(generation.message_id) and not generation.prefix:  # a continued one is shown afresh
            return
        if not self.messages.continues(generation):  # a regenerate or an edit: the path changed above its end
            self._track(asyncio.create_task(self._reopen(generation)))
            return
        bubble = self.messages.add_exchange(generation)
        if bubble is not None:
            self.rows.mark_last()
            self._follow(generation, bubble)

    def _follow(self, generation: Generation, bubble: AssistantBubble) -> None:
        if generation.user_id == self.user.id:  # Allow / Deny answer as `/ws` "approve" does (issue 24)
            bubble.answer = partial(self.conversations.approve, self.user.id, generation.conversation_id)
        self.live = generation
        self._set_streaming(True)
        self._track(asyncio.create_task(self._follow_reply(generation, bubble)))

    def _track(self, task: asyncio.Task[None]) -> None:
        """Tasks of this page end with it."""
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _spawn(self, job: Coroutine[Any, Any, None]) -> None:
        self._track(asyncio.create_task(job))

    def _draw_row(self, message_id: str, role: str, content: str, status: str, cut_off: bool) -> None:
        self.rows.draw(message_id, role, content, status, cut_off)

    def _models(self) -> list[str]:
        return self.model_ids

    def _streaming(self) -> bool:
        return self.live is not None

    async def _follow_reply(self, generation: Generation, bubble: AssistantBubble) -> None:
        await bubble.follow(generation, self.pacer)
        if generation.sources:
            with bubble.body:
                show_sources(generation.sources)
        if self.live is generation:
            self.live = None
            self._set_streaming(False)
        if generation.status == MessageStatus.DELETED:
            ui.navigate.to("/")
            return
        entry = self.messages.entry(generation.message_id)
        if entry is not None and not entry.is_deleted:
            cut_off = generation.usage is not None and generation.usage.cut_off
            with entry:
                self.rows.draw(generation.message_id, "assistant", generation.text, generation.status, cut_off)
            self.rows.mark_last()

    def _set_streaming(self, streaming: bool) -> None:
        self.box.set_streaming(streaming)

    async def send(self) -> None:
        if await self.slash.take() or await self.knowledge.take():  # Enter chose from the `/` or `#` list
            return
        content = self.composer.value or ""
        files = self.attach.file_ids
        if not content.strip() and not files:
            return
        if self.attach.uploading:
            ui.notify("A file is still uploading: send once it is in.", type="info")
            return
        if self.live is not None:
            ui.notify(BUSY, type="info")
            return
        try:
            self.messages.outgoing = (content, await self.attach.stored(self.services.files, self.user.id))
            if self.conversation is None:
                await self._start(content, files)
            else:
                await self.conversations.send(
                    self.user.id,
                    self.conversation.id,
                    content,
                    self.model,
                    session_id=self.signed_in.session.id,
                    attachments=files,
                )
        except ConversationNotFound:
            ui.notify("This conversation was deleted.", type="warning")
            ui.navigate.to("/")
            return
        except (ConversationError, FileRefused) as exc:  # refused (too long, too fast): a new chat is not even made
            self.messages.outgoing = None
            ui.notify(exc.message, type="warning", multi_line=True)
            return
        assert self.conversation is not None
        self.composer.value = ""
        self.attach.clear()
        ui.run_javascript("chatui.toBottom()")  # the reader sees what was just sent, wherever they were
        if self.conversation.title is None:
            with contextlib.suppress(ConversationNotFound):
                self.conversation = await self.conversations.get(self.user.id, self.conversation.id)
                self.frame.set_title(self.conversation.title or "New chat")
        await self.sidebar.moved_to_top(self.conversation)

    async def _start(self, content: str, files: list[str]) -> None:
        """The first message: the conversation and its reply begin together, then the page shows them."""
        self.conversation, _ = await self.conversations.start(
            self.user.id,
            content,
            self.model,
            session_id=self.signed_in.session.id,
            attachments=files,
            settings=self.presets.settings(
                {
                    **(self.settings.for_new_conversation() or {}),
                    **self.think.for_new_conversation(),
                    **self.tool_picker.for_new_conversation(),
                    **self.knowledge.for_new_conversation(),
                }
            )
            or None,
            preset_id=self.presets.preset_id,
        )
        self.settings.refresh()
        ui.navigate.history.replace(f"/chat/{self.conversation.id}")
        self.sidebar.set_current(self.conversation.id)
        self.menu.button.visible = True
        await self._show_conversation(self.conversation.id)  # the reply streaming already is shown and followed

    def stop(self) -> None:
        if self.conversation is not None:
            self.conversations.stop(self.user.id, self.conversation.id)

    # -- header actions -------------------------------------------------------------------------------------------

    async def _load_models(self) -> None:
        with contextlib.suppress(TimeoutError):
            await self.client.connected(timeout=10)
        listing = self.notices.listing = await self.services.models.models()
        self.model_ids = [m.id for m in listing[0] if m.available]
        if self.conversation is None and self.model == self.services.models.default_model:
            new_chat = await self.services.models.model_for_new_chat()
            self.model = self.picker.model = new_chat.id
            self.notices.fallback = None if new_chat.is_default else new_chat.id
        elif self.conversation is not None:
            carried = await carry_on(self.conversations, self.user.id, self.conversation.id)
            if carried is not None:
                self.model = self.picker.model = carried.model  # moved off a model that cannot answer here
                self.notices.imported_note = carried.note
        self.services.models.warm(self.model)  # a slow first use (an SDK's import) starts while the person types
        self.picker.show(*listing)
        self.notices.show()
        await self.think.refresh()

    async def _model_changed(self, value: str) -> None:
        self.model = value
        self.services.models.warm(value)
        self.notices.show()
        self._spawn(self.think.refresh())
        if self.conversation is not None:
            await self.change_settings(model=value)

    async def change_settings(self, **changes: Any) -> bool:
        """Change the open conversation's settings, keeping what is stored; False (said in a notice) if refused."""
        assert self.conversation is not None
        try:
            self.conversation = await self.conversations.update_settings(self.user.id, self.conversation.id, **changes)
        except ConversationError as exc:
            ui.notify(exc.message, type="warning")
            return False
        return True

    def renamed(self, conversation: Conversation) -> None:
        self.conversation = conversation
        self.frame.set_title(conversation.title or "New chat")

    async def deleted(self, undo_token: str) -> None:
        """The open conversation was deleted: a new chat, where the Undo offer follows (`chatui.ui.undo`)."""
        ui.navigate.to(f"/?undo={quote(undo_token)}")

    # -- life cycle -----------------------------------------------------------------------------------------------

    def _cleanup(self) -> None:
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None  # it holds `_on_event`, so this view: a cycle left for the full collection
        for task in list(self.tasks):
            task.cancel()
