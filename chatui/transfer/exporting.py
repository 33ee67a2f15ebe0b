"""A conversation as Markdown (to read) or as chatui/1 JSON (to import again), and a whole account as one stream.

chatui/1 is the format `chatui.transfer.formats.from_chatui` reads back:

    {"format": "chatui/1", "exported_at": "<ISO 8601>",
     "presets": [{"id", "name", "model", "system_prompt", "temperature", "tools", "created_at", "updated_at"}],
     "prompts": [{"id", "name", "title", "text", "created_at", "updated_at"}],
     "conversations": [
        {"id", "title", "model", "created_at", "updated_at", "system_prompt", "temperature", "active_message_id",
         "pinned", "archived", "folder": ["<top-level folder's name>", "<its folder's name>"], "tags": [...],
         "preset_id": "<the id of a preset in this file's presets, or null>",
         "messages": [{"id", "parent_id", "role", "content", "status", "model", "created_at",
                       "usage": {"prompt_tokens", "completion_tokens"}, "error",
                       "attachments": [{"id", "name", "media_type", "size"}]}]}],
     "files": [{"id", "name", "media_type", "size", "data": "<base64 of the bytes>"}]}

`folder` names the conversation's folder by its path of names (ids stay in the account they were made in): an
import files it in the folder of that name, made if missing. `messages` holds the whole tree, parents before
children; the active path is found by walking up from `active_message_id`. `format` is always the first key, so
an importer can tell the file from its first bytes. `files` (after the conversations: they are known once the
conversations are written) holds each file a message names in `attachments`, once, with its bytes; a file of the
export older than `files` has none, and is read all the same. Files are streamed a chunk at a time, never whole
in memory.

`presets` and `prompts` (the account's own: not the presets an administrator of this server published) are in the
export of a whole account only, and before the conversations, so that an importer reads them from the head of the
file and knows each preset's new id before the conversations that started from it (`chatui.transfer.library`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from chatui.transfer.formats import CHATUI_FORMAT
from storage.files import FileRepository
from storage.presets import Preset, PresetRepository, SavedPrompt
from storage.transfer import AttachmentRecord, ConversationRecord, TransferRepository

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
        "pinned": record.pinned,
        "archived": record.archived,
        "folder": record.folder,
        "tags": record.tags,
        "preset_id": record.preset_id,
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
                "attachments": [attachment_json(a) for a in m.attachments],
                **({"tool_steps": m.tool_steps} if m.tool_steps else {}),
                **({"sources": m.sources} if m.sources else {}),
            }
            for m in record.messages
        ],
    }


def attachment_json(attachment: AttachmentRecord) -> dict[str, Any]:
    return {"id": attachment.id, "name": attachment.name, "media_type": attachment.media_type, "size": attachment.size}


PRESET_KEYS = ("id", "name", "model", "system_prompt", "temperature", "tools")
PROMPT_KEYS = ("id", "name", "title", "text")


def library_json(item: Preset | SavedPrompt, keys: tuple[str, ...]) -> dict[str, Any]:
    """A preset (`PRESET_KEYS`) or a saved prompt (`PROMPT_KEYS`) as the export holds it, with its times."""
    times = {"created_at": item.created_at.isoformat(), "updated_at": item.updated_at.isoformat()}
    return {key: getattr(item, key) for key in keys} | times


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
        lines += [f"- Attached: {_one_line(a.name)} ({a.media_type}, {_size(a.size)})" for a in message.attachments]
        lines += [""] if message.attachments else []
    return "\n".join(lines)


async def account_json(
    transfer: TransferRepository,
    files: FileRepository,
    library: PresetRepository,
    user_id: str,
    only: list[str] | None = None,
) -> AsyncIterator[bytes]:
    """All of a user's conversations (or `only` those of these ids that are theirs: Select mode's export) as one
    chatui/1 document, written one conversation at a time, then their files; the whole account's has its presets
    and prompts first.

    The account is walked by pages of conversation ids and each conversation is read, encoded and let go before
    the next: memory holds one conversation (and one chunk of a file), whatever the account's size.
    """

    async def chosen() -> AsyncIterator[ConversationRecord]:
        for conversation_id in dict.fromkeys(only or []):
            record = await transfer.export_conversation(user_id, conversation_id)
            if record is not None:  # someone else's, or deleted meanwhile
                yield record

    async def records() -> AsyncIterator[ConversationRecord]:
        after = None
        while True:
            page = await transfer.conversation_page(user_id, after, PAGE)
            for created_at, conversation_id in page:
                record = await transfer.export_conversation(user_id, conversation_id)
                if record is not None:  # deleted meanwhile
                    yield record
                after = (created_at, conversation_id)
            if len(page) < PAGE:
                break

    head = b""
    if only is None:
        presets, prompts = await library.library(user_id)
        head = (
            f'"presets": {json.dumps([library_json(p, PRESET_KEYS) for p in presets], ensure_ascii=False)},\n'
            f'"prompts": {json.dumps([library_json(p, PROMPT_KEYS) for p in prompts], ensure_ascii=False)},\n'
        ).encode()
    async for piece in _document(records() if only is None else chosen(), files, user_id, head):
        yield piece


async def conversation_document(
    record: ConversationRecord, files: FileRepository, user_id: str
) -> AsyncIterator[bytes]:
    """One conversation as a chatui/1 document with its files, streamed like `account_json`."""

    async def one() -> AsyncIterator[ConversationRecord]:
        yield record

    async for piece in _document(one(), files, user_id):
        yield piece


async def _document(
    records: AsyncIterator[ConversationRecord], files: FileRepository, user_id: str, head: bytes = b""
) -> AsyncIterator[bytes]:
    """The document: `head` (the library's keys, each with its comma) between `exported_at` and the conversations."""
    yield f'{{"format": "{CHATUI_FORMAT}", "exported_at": {json.dumps(_now())}, '.encode() + head
    yield b'"conversations": ['
    named: dict[str, None] = {}
    first = True
    async for record in records:
        yield (b"" if first else b",\n") + json.dumps(conversation_json(record), ensure_ascii=False).encode()
        first = False
        named.update(dict.fromkeys(a.id for m in record.messages for a in m.attachments))
    yield b'],\n"files": ['
    first = True
    for file_id in named:
        file = await files.get(user_id, file_id)
        if file is None:  # freed since its conversation was read (the conversation was deleted meanwhile)
            continue
        head = attachment_json(AttachmentRecord(file.id, file.name, file.media_type, file.size))
        yield (b"" if first else b",\n") + json.dumps(head, ensure_ascii=False).encode()[:-1] + b', "data": "'
        first = False
        seq, carry = 0, b""
        while (chunk := await files.read_chunk(file.blob_id, seq)) is not None:
            data = carry + chunk
            whole = len(data) - len(data) % 3  # base64 of whole 3-byte groups: the pieces join into one string
            yield base64.b64encode(data[:whole])
            carry, seq = data[whole:], seq + 1
        yield base64.b64encode(carry) + b'"}'
    yield b"]}\n"


def _size(size: int) -> str:
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _now() -> str:
    return datetime.now(UTC).isoformat()
