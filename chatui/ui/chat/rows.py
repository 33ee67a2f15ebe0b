"""The row of actions under each message of the chat page: Copy and Edit under a question; Copy, the version
switcher, Fork and the thumbs (a finished reply's rating, with a comment on thumbs down) under a reply, and Regenerate
(or Retry) and Continue under the last reply of the path only, and not while one streams."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from functools import partial

from nicegui import ui

from chatui.conversations.errors import ConversationError
from chatui.ui import dialogs
from chatui.ui.actions import Action, FilesField, ReplyActions, continuable, question_row, reply_row
from chatui.ui.chat.attach import AttachTray
from chatui.ui.message_list import MessageList
from chatui.ui.weak import weakly
from storage import MessageStatus


class MessageRows:
    def __init__(
        self,
        messages: MessageList,
        *,
        edit: Callable[[str, str, Sequence[str] | None], Awaitable[bool]],
        switch: Callable[[str], Awaitable[None]],
        regenerate: Callable[[str | None], Awaitable[None]],
        carry_on: Action,
        fork: Callable[[str], Awaitable[None]],
        models: Callable[[], list[str]],
        streaming: Callable[[], bool],
        max_files: int,
    ) -> None:
        self.messages = messages
        self._edit, self._switch, self._regenerate = edit, switch, regenerate
        self._continue, self._fork = carry_on, fork
        self._models, self._streaming = models, streaming
        self.max_files = max_files
        self.reply_rows: dict[str, tuple[ui.row, ReplyActions]] = {}
        self.last_reply: str | None = None
        self._rate_weakly = weakly(self._rate)  # the buttons hold it: a bound method would tie them into a cycle
        """The reply whose row offers Regenerate (or Retry): the last one of the active path."""

    def draw(self, message_id: str, role: str, content: str, status: str, cut_off: bool = False) -> None:
        """The row of actions under a message (drawn inside its entry of the message list)."""
        versions, previous, following = self._versions(message_id)
        if role == "user":
            files = self._editor_files(message_id)
            question_row(content, partial(self._edit, message_id), versions, previous, following, files)
        else:
            actions = ReplyActions(content, status, versions, previous, following, cut_off=cut_off)
            actions.on_fork = partial(self._fork, message_id)
            if status == MessageStatus.DONE:
                actions.rating = self.messages.ratings.get(message_id, (None, None))[0]
                actions.on_rate = partial(self._rate_weakly, message_id)
            self.reply_rows[message_id] = (reply_row(actions), actions)

    async def _rate(self, message_id: str, rating: str) -> None:
        """Store the rating at once and show it; a thumbs down then offers a comment (Cancel keeps the rating).
        The chosen thumb pressed again takes the rating (and its comment) back."""
        if self.messages.ratings.get(message_id, (None, None))[0] == rating:
            await self._store(message_id, None, None)
            return
        if not await self._store(message_id, rating, None):
            return
        if rating == "down":
            said = await dialogs.form(
                "What was wrong with this reply?",
                [dialogs.Field("comment", "Comment (optional)", "")],
                "Send feedback",
                text="Your comment helps whoever runs this server improve the answers.",
                marker="send-feedback",
            )
            if said is not None and said["comment"].strip():
                await self._store(message_id, rating, said["comment"])

    async def _store(self, message_id: str, rating: str | None, comment: str | None) -> bool:
        """Store the rating (None: take it back) and redraw the reply's row to show it."""
        messages = self.messages
        organizer = messages.services.organizer
        try:
            if rating is None:
                await organizer.unrate(messages.user_id, message_id)
                messages.ratings.pop(message_id, None)
            else:
                stored = await organizer.rate(messages.user_id, message_id, rating, comment)
                messages.ratings[message_id] = (stored.rating, stored.comment)
        except ConversationError as exc:
            ui.notify(exc.message, type="warning")
            return False
        if message_id in self.reply_rows:
            row, actions = self.reply_rows[message_id]
            actions.rating = rating
            if not row.is_deleted:
                reply_row(actions, row)
                if message_id == self.last_reply:
                    self.mark_last()
        return True

    def _editor_files(self, message_id: str) -> FilesField:
        """The editor's files: a tray of its own, started from the message's files as they are when it opens."""

        def build(buttons: ui.row, chips: ui.column, save: ui.button) -> AttachTray:
            tray = AttachTray(buttons, chips, save, self.max_files, scoped=True)
            tray.button.classes("mr-auto")  # the paperclip on the left, Cancel and Save on the right
            tray.preload(self.messages.files.get(message_id, ()))
            return tray

        return build

    def _versions(self, message_id: str) -> tuple[tuple[int, int] | None, Action | None, Action | None]:
        """(position, count), previous, next — for the version switcher of a message with siblings."""
        siblings = self.messages.siblings.get(message_id, [message_id])
        if len(siblings) < 2 or message_id not in siblings:
            return (None, None, None)
        index = siblings.index(message_id)
        previous = partial(self._switch, siblings[index - 1]) if index > 0 else None
        following = partial(self._switch, siblings[index + 1]) if index + 1 < len(siblings) else None
        return ((index + 1, len(siblings)), previous, following)

    def mark_last(self) -> None:
        """Only the last reply of the path can be regenerated (or retried) and continued: move the buttons there."""
        if self.last_reply is not None and self.last_reply in self.reply_rows:
            row, actions = self.reply_rows[self.last_reply]
            if not row.is_deleted:
                reply_row(actions, row)
        self.last_reply = None
        entries = self.messages.entries
        last = entries[-1][0] if entries and self.messages.at_end else None
        if last is None or last not in self.reply_rows or self._streaming():
            return
        row, actions = self.reply_rows[last]
        if not row.is_deleted:
            carry_on = self._continue if continuable(actions.text, actions.status, actions.cut_off) else None
            reply_row(replace(actions, on_regenerate=self._regenerate, models=self._models, on_continue=carry_on), row)
            self.last_reply = last
