"""Undo a deletion for a few seconds: the conversation is kept in memory as its export record and imported back.

Deleting stays immediate and complete (the reply is stopped, the rows go, search forgets them); what is kept is the
`ConversationRecord` that `TransferRepository.export_conversation` made just before, on a shelf in this process for
`UNDO_SECONDS`. Undo writes it back with `import_conversation` (new ids: the same title, model, messages and times)
and opens it. When the deleted conversation was the open one the page goes to `/?undo=<token>`, so the offer
follows it there. With several instances, a page served by another one simply has no offer.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from nicegui import ui

from chatui.bootstrap import Services
from chatui.conversations.errors import ConversationNotFound
from storage.transfer import ConversationRecord

UNDO_SECONDS = 8.0
_MAX_KEPT = 1000


@dataclass
class _Kept:
    user_id: str
    record: ConversationRecord
    until: float


class UndoShelf:
    """Deleted conversations kept for a few seconds, each under a random token, for their owner only."""

    def __init__(self) -> None:
        self._kept: dict[str, _Kept] = {}

    def keep(self, user_id: str, record: ConversationRecord) -> str:
        now = time.monotonic()
        self._kept = {t: k for t, k in self._kept.items() if k.until > now}
        while len(self._kept) >= _MAX_KEPT:
            self._kept.pop(next(iter(self._kept)))
        token = secrets.token_urlsafe(12)
        self._kept[token] = _Kept(user_id, record, now + UNDO_SECONDS)
        return token

    def seconds_left(self, user_id: str, token: str) -> float:
        kept = self._kept.get(token)
        if kept is None or kept.user_id != user_id:
            return 0.0
        return max(0.0, kept.until - time.monotonic())

    def token_for(self, user_id: str, conversation_id: str) -> str | None:
        """The token under which the user's conversation `conversation_id` was kept, if it still is."""
        now = time.monotonic()
        for token, kept in reversed(self._kept.items()):
            if kept.user_id == user_id and kept.record.id == conversation_id and kept.until > now:
                return token
        return None

    def take(self, user_id: str, token: str) -> ConversationRecord | None:
        if self.seconds_left(user_id, token) <= 0:
            return None
        return self._kept.pop(token).record


SHELF = UndoShelf()
"""One per process (pages of every user share it; each entry is bound to its owner)."""


async def delete_with_undo(services: Services, user_id: str, conversation_id: str) -> str | None:
    """Delete the conversation; a token for `offer_undo`, or None if nothing was deleted."""
    record = await services.exports.conversation(user_id, conversation_id)
    if record is None:
        return None
    try:
        await services.conversations.delete(user_id, conversation_id)
    except ConversationNotFound:
        return None
    return SHELF.keep(user_id, record)


def offer_undo(services: Services, user_id: str, token: str) -> None:
    """A small notice at the foot of the page: "Conversation deleted · Undo", gone after the few seconds."""
    seconds = SHELF.seconds_left(user_id, token)
    if seconds <= 0:
        return
    with ui.context.client.layout:
        notice = ui.element("div").classes("chatui-toast").props("role=status").mark("undo-notice")
    with notice:
        ui.label("Conversation deleted")

        async def undo() -> None:
            record = SHELF.take(user_id, token)
            notice.delete()
            if record is None:
                ui.notify("Too late to undo: the conversation is gone.", type="warning")
                return
            restored = await services.store.transfer.import_conversation(user_id, record, f"undo:{token}")
            if restored is not None:
                ui.navigate.to(f"/chat/{restored}")

        ui.button("Undo", on_click=undo).props("flat dense no-caps").mark("undo-delete")
    ui.timer(seconds, lambda: None if notice.is_deleted else notice.delete(), once=True)
