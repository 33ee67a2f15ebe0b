"""What a row offers that makes or picks a branch of the message tree: another version, regenerate, continue, fork,
edit.

Each goes through the conversation service, which tells every page of the conversation (this one too) what changed;
the page then redraws from the events, so these only report refusals.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING

from nicegui import ui

from chatui.conversations.errors import BUSY, ConversationError
from chatui.files.errors import FileRefused

if TYPE_CHECKING:
    from chatui.ui.chat.view import ChatView


class Branching:
    def __init__(self, view: ChatView) -> None:
        self._view = weakref.ref(view)  # the view holds this: no cycle to keep a closed page alive

    @property
    def view(self) -> ChatView:
        view = self._view()
        assert view is not None  # called from the page's own rows, which live no longer than the view
        return view

    @property
    def _idle(self) -> bool:
        return self.view.live is None and self.view.conversation is not None

    async def switch(self, message_id: str) -> None:
        """Another version: the service tells every page of the conversation (this one too), and each redraws."""
        view = self.view
        if view.conversation is None:
            return
        try:
            await view.conversations.switch_version(view.user.id, view.conversation.id, message_id)
        except ConversationError as exc:
            ui.notify(exc.message, type="warning")

    async def regenerate(self, model: str | None = None) -> None:
        view = self.view
        if not self._idle or view.conversation is None:
            return
        try:
            await view.conversations.regenerate(
                view.user.id, view.conversation.id, model, session_id=view.signed_in.session.id
            )
        except ConversationError as exc:
            ui.notify(exc.message, type="warning")

    async def carry_on(self) -> None:
        """More of the last reply, appended to it (the page shows it afresh as it grows: `_on_generation`)."""
        view = self.view
        if not self._idle or view.conversation is None:
            return
        try:
            await view.conversations.continue_reply(
                view.user.id, view.conversation.id, session_id=view.signed_in.session.id
            )
        except ConversationError as exc:
            ui.notify(exc.message, type="warning")

    async def fork(self, message_id: str) -> None:
        """A new conversation up to this message, opened."""
        view = self.view
        if view.conversation is None:
            return
        try:
            fork = await view.conversations.fork(view.user.id, view.conversation.id, message_id)
        except ConversationError as exc:
            ui.notify(exc.message, type="warning")
            return
        ui.navigate.to(f"/chat/{fork.id}")

    async def edit(self, message_id: str, content: str, attachments: Sequence[str] | None = None) -> bool:
        """Send a new version of a message carrying the files `attachments` names (None: the message's own); True
        once it is on its way (the editor then closes)."""
        view = self.view
        if view.live is not None:
            ui.notify(BUSY, type="warning")
            return False
        if view.conversation is None:
            return False
        try:
            await view.conversations.edit(
                view.user.id,
                view.conversation.id,
                message_id,
                content,
                session_id=view.signed_in.session.id,
                attachments=attachments,
            )
        except (ConversationError, FileRefused) as exc:
            ui.notify(exc.message, type="warning", multi_line=True)
            return False
        return True
