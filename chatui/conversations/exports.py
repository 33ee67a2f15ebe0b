"""Conversations read out whole, for the export routes: the edges call this, never the transfer repository."""

from __future__ import annotations

from collections.abc import AsyncIterator

from chatui.transfer.exporting import account_json
from storage.transfer import ConversationRecord, TransferRepository


class Exports:
    def __init__(self, transfer: TransferRepository) -> None:
        self._transfer = transfer

    async def conversation(self, user_id: str, conversation_id: str) -> ConversationRecord | None:
        """The conversation with every message and its settings; None if it is not the user's."""
        return await self._transfer.export_conversation(user_id, conversation_id)

    def account(self, user_id: str) -> AsyncIterator[bytes]:
        """Every conversation of the account as one chatui/1 document, streamed one conversation at a time."""
        return account_json(self._transfer, user_id)
