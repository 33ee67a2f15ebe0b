"""A conversation as Markdown (to read) or as chatui/1 JSON (to import again), and a whole account as one stream.

chatui/1 is the format `chatui.transfer.formats.from_chatui` reads back:

    {"format": "chatui/1", "exported_at": "<ISO 8601>", "conversations": [
        {"id", "title", "model", "created_at", "updated_at", "system_prompt", "temperature", "active_message_id",
         "messages": [{"id", "parent_id", "role", "content", "status", "model", "created_at",
                       "usage": {"prompt_tokens", "completion_tokens"}, "error"}]}]}

`messages` holds the whole tree, parents before children; the active path is found by walking up from
`active_message_id`. `format` is always the first key, so an importer can tell the file from its first bytes.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from chatui.transfer.formats import CHATUI_FORMAT
from storage.transfer import ConversationRecord, TransferRepository

PAGE = 50


def conversation_json(record: ConversationRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "title": record.title,
        "model": record.model,
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
        "system_prompt": record.system_prompt,
        "temperature": record.temperature,
        "active_message_id": record.active_message_id,
        "messages": [
            {
                "id": m.id,
                "parent_id": m.parent_id,
                "role": m.role,
                "content": m.content,
                "status": m.status,
                "model": m.model,
                "created_at": m.created_at.isoformat(),
                "usage": {"prompt_tokens": m.prompt_tokens, "completion_tokens": m.completion_tokens},
                "error": m.error,
            }
            for m in record.messages
        ],
    }


def document_json(records: list[ConversationRecord]) -> dict[str, Any]:
    return {"format": CHATUI_FORMAT, "exported_at": _now(), "conversations": [conversation_json(r) for r in records]}


def markdown(record: ConversationRecord) -> str:
    """Title, then each message of the active path under a line naming its role, model and time."""
    lines = [f"# {_one_line(record.title or 'New chat')}", ""]
    if record.system_prompt:
        lines += ["> **System prompt:** " + _one_line(record.system_prompt), ""]
    for message in record.active_path():
        who = "User" if message.role == "user" else "Assistant"
        if message.model and message.role == "assistant":
            who += f" ({message.model})"
        when = message.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        status = "" if message.status == "done" else f" — {message.status}"
        lines += [f"### {who} · {when}{status}", "", message.content.rstrip(), ""]
    return "\n".join(lines)


async def account_json(transfer: TransferRepository, user_id: str) -> AsyncIterator[bytes]:
    """All of a user's conversations as one chatui/1 document, written one conversation at a time.

    The account is walked by pages of conversation ids and each conversation is read, encoded and let go before
    the next: memory holds one conversation, whatever the account's size.
    """
    yield f'{{"format": "{CHATUI_FORMAT}", "exported_at": {json.dumps(_now())}, "conversations": ['.encode()
    after = None
    first = True
    while True:
        page = await transfer.conversation_page(user_id, after, PAGE)
        for created_at, conversation_id in page:
            record = await transfer.export_conversation(user_id, conversation_id)
            if record is not None:  # deleted meanwhile
                yield (b"" if first else b",\n") + json.dumps(conversation_json(record), ensure_ascii=False).encode()
                first = False
            after = (created_at, conversation_id)
        if len(page) < PAGE:
            break
    yield b"]}\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _now() -> str:
    return datetime.now(UTC).isoformat()
