"""Conversations read out whole, for the export routes: the edges call this, never the transfer repository."""

from __future__ import annotations

from collections.abc import AsyncIterator

from chatui.transfer.exporting import account_json, conversation_document
from storage.files import FileRepository
from storage.presets import PresetRepository
from storage.transfer import ConversationRecord, TransferRepository


class Exports:
    def __init__(self, transfer: TransferRepository, files: FileRepository, library: PresetRepository) -> None:
        self._transfer = transfer
        self._files = files
        self._library = library

    async def conversation(self, user_id: str, conversation_id: str) -> ConversationRecord | None:
        """The conversation with every message (and the files each carries) and its settings; None if it is not
        the user's."""
        return await self._transfer.export_conversation(user_id, conversation_id)

    def document(self, user_id: str, record: ConversationRecord) -> AsyncIterator[bytes]:
        """One conversation (read by `conversation`) as a chatui/1 document with its files' bytes, streamed."""
        return conversation_document(record, self._files, user_id)

    def account(self, user_id: str, only: list[str] | None = None) -> AsyncIterator[bytes]:
        """Every conversation of the account (or `only` these of its conversations) as one chatui/1 document with
        their files, streamed one conversation (and one chunk of a file) at a time; the whole account's with its own
        presets and prompts."""
        return account_json(self._transfer, self._files, self._library, user_id, only)
