"""The chat page: sidebar of conversations, the messages, the composer. It subscribes to the engine, never owns a reply.

Every reply in the open conversation is shown through the engine's watcher — the one this page started, one started
in another tab or over `/ws`, or one already streaming when the page was (re)loaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import Request
from nicegui import Client, ui

from chatui.auth import COOKIE_NAME, AuthError
from chatui.engine import SendRefused
from chatui.generation import Generation
from chatui.pages.bubbles import AssistantBubble, user_bubble
from chatui.pages.pacing import UpdatePacer
from chatui.pages.theme import page_head
from chatui.services import Services
from storage import Conversation, ConversationGone, SignedIn

log = logging.getLogger(__name__)


class ChatView:
    def __init__(
        self,
        services: Services,
        signed_in: SignedIn,
        request: Request,
        conversation: Conversation | None,
        pacer: UpdatePacer,
    ):
        self.services = services
        self.pacer = pacer
        self.engine = services.engine
        self.user = signed_in.user
        self.signed_in = signed_in
        self.token = request.cookies.get(COOKIE_NAME)
        self.conversation = conversation
        self.model = conversation.model if conversation else services.models.default_model
        self.client: Client = ui.context.client
        self.shown: set[str] = set()
        self.live: Generation | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self._unwatch = None
        self._unrevoke = services.auth.on_revoked(signed_in, self._revoked)
        self.client.on_delete(self._cleanup)

    # -- building -------------------------------------------------------------------------------------------------

    async def build(self) -> None:
        page_head()
        title = self.conversation.title if self.conversation and self.conversation.title else "New chat"
        ui.page_title(f"{title} · chatui")
        with ui.header().classes("items-center gap-2 bg-white text-black border-b"):
            ui.button(icon="menu", on_click=lambda: drawer.toggle()).props("flat round aria-label='Conversations'")
            self.title_label = ui.label(title).classes("text-lg font-medium truncate").mark("conversation-title")
            ui.space()
            self.model_select = (
                ui.select({self.model: self.model}, value=self.model, label="Model", on_change=self._model_changed)
                .classes("w-64")
                .props("dense outlined")
            )
            with ui.row().classes("gap-1") as self.conversation_actions:
                ui.button("Rename", icon="edit", on_click=self._rename).props("flat dense")
                ui.button("Delete", icon="delete", on_click=self._delete).props("flat dense color=negative")
            self.conversation_actions.visible = self.conversation is not None
            with ui.button(self.user.username, icon="person").props("flat dense no-caps").mark("account"), ui.menu():
                if not self.services.settings.single_user:
                    ui.menu_item("Change password", on_click=self._change_password).mark("change-password")
                if self.user.is_admin:
                    ui.menu_item("Administration", on_click=lambda: ui.navigate.to("/admin")).mark("administration")
            if not self.services.settings.single_user:
                ui.button("Sign out", on_click=lambda: ui.navigate.to("/auth/signed-out")).props("flat dense")
        with ui.left_drawer(value=True).classes("bg-grey-1") as drawer:
            ui.button("New chat", icon="add", on_click=lambda: ui.navigate.to("/")).classes("w-full mb-2")
            await self.sidebar()
        self.column = ui.column().classes("w-full max-w-3xl mx-auto gap-2 pb-4").mark("messages")
        with self.column:
            self.empty_state = ui.label("Ask anything to start a conversation.").classes(
                "text-grey-6 self-center mt-16"
            )
        with ui.footer().classes("bg-white border-t"), ui.row().classes("w-full max-w-3xl mx-auto items-end no-wrap"):
            self.composer = (
                ui.textarea(label="Message", placeholder="Message (Enter sends, Shift+Enter adds a line)")
                .props("autogrow outlined dense autofocus")
                .classes("grow")
                .on("keydown.enter.exact.prevent", self.send)
            )
            self.send_button = ui.button("Send", icon="send", on_click=self.send)
            self.stop_button = ui.button("Stop", icon="stop", on_click=self.stop).props("color=negative")
            self.stop_button.visible = False
        if self.conversation is not None:
            await self._show_conversation(self.conversation.id)
        self._track(asyncio.create_task(self._load_models()))

    @ui.refreshable_method
    async def sidebar(self) -> None:
        conversations = await self.services.chats.list_conversations(self.user.id)
        with ui.list().props("dense").classes("w-full").mark("conversation-list"):
            for conversation in conversations:
                active = self.conversation is not None and conversation.id == self.conversation.id
                with (
                    ui.item(on_click=lambda c=conversation: ui.navigate.to(f"/chat/{c.id}"))
                    .props(f"clickable {'active' if active else ''}")
                    .mark("conversation-item"),
                    ui.item_section(),
                ):
                    ui.item_label(conversation.title or "New chat").classes("truncate")

    async def _show_conversation(self, conversation_id: str) -> None:
        """Render the stored messages, live replies from the engine, and follow whatever starts next."""
        self._unwatch = self.engine.watch(conversation_id, self._on_generation)
        live = self.engine.current(conversation_id)  # taken before reading, so a reply that ends meanwhile is seen
        messages = await self.services.chats.messages(conversation_id)
        if messages:
            self.empty_state.visible = False
        with self.column:
            for message in messages:
                if message.id in self.shown:
                    continue
                self.shown.add(message.id)
                if message.role == "user":
                    user_bubble(message.content)
                elif live is not None and message.id == live.message_id:
                    self._follow(live, AssistantBubble(live.model))
                else:
                    AssistantBubble(message.model).show(message)

    # -- replies --------------------------------------------------------------------------------------------------

    def _on_generation(self, generation: Generation) -> None:
        if generation.message_id in self.shown:
            return
        self.shown.update((generation.message_id, generation.user_message_id))
        self.empty_state.visible = False
        with self.column:
            user_bubble(generation.user_content)
            bubble = AssistantBubble(generation.model)
        self._follow(generation, bubble)

    def _follow(self, generation: Generation, bubble: AssistantBubble) -> None:
        self.live = generation
        self._set_streaming(True)
        self._track(asyncio.create_task(self._follow_reply(generation, bubble)))

    def _track(self, task: asyncio.Task[None]) -> None:
        """Tasks of this page end with it."""
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _follow_reply(self, generation: Generation, bubble: AssistantBubble) -> None:
        await bubble.follow(generation, self.pacer)
        if self.live is generation:
            self.live = None
            self._set_streaming(False)
        if generation.status == "deleted":
            ui.navigate.to("/")

    def _set_streaming(self, streaming: bool) -> None:
        self.send_button.visible = not streaming
        self.stop_button.visible = streaming

    async def send(self) -> None:
        content = self.composer.value or ""
        if self.live is not None or not content.strip():
            return
        if await self.services.auth.resolve(self.token) is None:
            ui.navigate.to("/login")
            return
        if self.conversation is None:
            self.conversation = await self.services.chats.create_conversation(self.user.id, self.model)
            ui.navigate.history.replace(f"/chat/{self.conversation.id}")
            self.conversation_actions.visible = True
            await self._show_conversation(self.conversation.id)
        try:
            await self.engine.send(
                self.user.id, self.conversation.id, content, self.model, session_id=self.signed_in.session.id
            )
        except SendRefused as exc:
            ui.notify(exc.message, type="warning")
            return
        except ConversationGone:
            ui.notify("This conversation was deleted.", type="warning")
            ui.navigate.to("/")
            return
        self.composer.value = ""
        if self.conversation.title is None:
            refreshed = await self.services.chats.get_conversation(self.user.id, self.conversation.id)
            if refreshed is not None:
                self.conversation = refreshed
                self.title_label.text = refreshed.title or "New chat"
        await self.sidebar.refresh()

    def stop(self) -> None:
        if self.conversation is not None:
            self.engine.stop(self.conversation.id)

    # -- header actions -------------------------------------------------------------------------------------------

    async def _load_models(self) -> None:
        with contextlib.suppress(TimeoutError):
            await self.client.connected(timeout=10)
        models, _ = await self.services.models.models()
        options = {m.id: m.id if m.available else f"{m.id} (unavailable)" for m in models}
        options.setdefault(self.model, self.model)
        self.model_select.set_options(options, value=self.model)

    async def _model_changed(self) -> None:
        value = self.model_select.value
        if not value or value == self.model:
            return
        self.model = value
        if self.conversation is not None:
            await self.services.chats.update_conversation(self.user.id, self.conversation.id, model=value)

    async def _rename(self) -> None:
        if self.conversation is None:
            return
        with ui.dialog() as dialog, ui.card().classes("w-96"):
            ui.label("Rename conversation").classes("text-lg")
            name = ui.input("Title", value=self.conversation.title or "").classes("w-full").props("autofocus")
            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat")
                ui.button("Save", on_click=lambda: dialog.submit(name.value))
        new_title = await dialog
        dialog.delete()
        if not isinstance(new_title, str) or not new_title.strip():
            return
        updated = await self.services.chats.update_conversation(
            self.user.id, self.conversation.id, title=new_title.strip()[:200]
        )
        if updated is not None:
            self.conversation = updated
            self.title_label.text = updated.title or "New chat"
            await self.sidebar.refresh()

    async def _delete(self) -> None:
        if self.conversation is None:
            return
        with ui.dialog() as dialog, ui.card():
            ui.label("Delete this conversation and all its messages?")
            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat")
                ui.button("Delete", on_click=lambda: dialog.submit(True)).props("color=negative").mark("confirm-delete")
        confirmed = await dialog
        dialog.delete()
        if confirmed:
            await self.engine.delete_conversation(self.user.id, self.conversation.id)
            ui.navigate.to("/")

    async def _change_password(self) -> None:
        with ui.dialog() as dialog, ui.card().classes("w-96"):
            ui.label("Change password").classes("text-lg")
            current = ui.input("Current password", password=True).classes("w-full")
            new = ui.input("New password", password=True).classes("w-full")
            error = ui.label().classes("text-negative")
            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat")

                async def save() -> None:
                    if not await self.services.auth.hasher.verify(current.value or "", self.user.password_hash):
                        error.text = "The current password is wrong."
                        return
                    try:
                        await self.services.auth.change_password(self.user.id, new.value or "")
                    except AuthError as exc:
                        error.text = exc.message
                        return
                    dialog.submit(True)  # every session ended, this page's too: it goes to sign-in

                ui.button("Change password", on_click=save).mark("save-password")
        await dialog
        dialog.delete()

    # -- life cycle -----------------------------------------------------------------------------------------------

    def _revoked(self) -> None:
        with self.client:
            ui.navigate.to("/login")

    def _cleanup(self) -> None:
        if self._unwatch is not None:
            self._unwatch()
        self._unrevoke()
        for task in list(self.tasks):
            task.cancel()
