"""Conversations from the files people bring, as `ConversationRecord`s: chatui/1, ChatGPT, Open WebUI. Written from
each format's public description:

- **chatui/1** (ours, `chatui.transfer.exporting`): `{"format": "chatui/1", "conversations": [...]}`, each with
  its whole tree (`messages[].parent_id`), `active_message_id`, settings, usage, knowledge `sources` and the files
  each message carries (`messages[].attachments`, their bytes in the document's `files`: `chatui.transfer.attached`).
- **ChatGPT's data export** (`conversations.json`, also inside the export's `.zip`): an array of conversations,
  each a `mapping` of nodes `{id, message, parent, children}` with `current_node` the leaf shown; a message has
  `author.role`, `create_time` (epoch seconds), `content.content_type` and `content.parts`, `metadata`. Hidden system
  messages, tool traffic and non-text parts (images, code runs, browsing) are skipped and counted.
- **Open WebUI's chat export**: an array of `{id, title, chat: {history: {messages: {<id>: {id, parentId,
  childrenIds, role, content, timestamp, model}}, currentId}, models, params}, created_at, updated_at}`.

Files: ChatGPT's and Open WebUI's exports name the files attached to a message (ChatGPT in `metadata.attachments`
and its `image_asset_pointer` parts, Open WebUI in the message's `files`) but carry no bytes chatui could store as
they are (a zip's loose files, URLs of the other server). Their names are kept as a note at the end of the
message's text — *[Files attached to this message were not imported: photo.png, report.pdf]* — so the reader knows
what the message was about; a message that was only files is kept for its note.

Every record comes out normalised (`chatui.transfer.normalise.finish`). A conversation that cannot be read raises
`BadConversation` with a reason, and the others go on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from chatui.transfer.normalise import ROLES, BadConversation, SourceIn, aware, epoch, files_note, finish
from providers.registry import qualify_model_id
from storage.transfer import AttachmentRecord, ConversationRecord, MessageRecord

CHATUI_FORMAT = "chatui/1"
__all__ = [
    "CHATUI_FORMAT",
    "BadConversation",
    "Parsed",
    "Reader",
    "from_chatgpt",
    "from_chatui",
    "from_openwebui",
    "reader_for",
]


@dataclass(slots=True)
class Parsed:
    """A conversation read from a file, where it came from, and how many of its parts were skipped."""

    record: ConversationRecord
    source: str
    skipped: int = 0
    original_id: str | None = None
    """chatui's own conversation id: importing into the account it came from creates nothing."""
    label: str = ""
    """How the import's errors name it: its place in the file and its title."""


Reader = Callable[[Any, str], Parsed]


# -- chatui/1 ---------------------------------------------------------------------------------------------------------

MAX_TOKENS = 2**31 - 1  # an INTEGER column on PostgreSQL
_NAME = r"^[^\x00-\x1f\x7f]*$"  # no control characters (PostgreSQL refuses NUL in text)
FolderName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=_NAME)]
TagName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40, pattern=_NAME)]


class _Lenient(BaseModel):
    """A field written as `null` reads as absent: a careful exporter writes `"usage": null`, `"status": null` or
    `"attachments": null` where it has nothing to say, and the field's default is what it means."""

    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _nulls_are_absent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None}
        return data


class _Usage(_Lenient):
    prompt_tokens: int | None = Field(None, ge=0, le=MAX_TOKENS)
    completion_tokens: int | None = Field(None, ge=0, le=MAX_TOKENS)


class _Attachment(_Lenient):
    id: str = Field(min_length=1, max_length=200)
    name: str = Field("file", max_length=1000)
    media_type: str = Field("application/octet-stream", max_length=200)
    size: int = Field(0, ge=0)


class _ToolStep(_Lenient):
    """A part of a reply with tool steps (storage/PARTS.md); the tool's text is untrusted, and capped here."""

    kind: Literal["text", "reasoning", "tool_call", "tool_result"]
    text: str | None = Field(None, max_length=200_000)
    call_id: str | None = Field(None, max_length=200)
    data: dict[str, Any] | None = None


class _ChatuiMessage(_Lenient):
    id: str = Field(min_length=1, max_length=200)
    parent_id: str | None = Field(None, max_length=200)
    role: str
    content: str
    status: str = "done"
    model: str | None = None
    created_at: datetime
    usage: _Usage = _Usage()
    error: str | None = None
    attachments: list[_Attachment] = Field(default_factory=list, max_length=1000)
    tool_steps: list[_ToolStep] = Field(default_factory=list, max_length=1000)
    sources: list[SourceIn] = Field(default_factory=list, max_length=100)


class _ChatuiConversation(_Lenient):
    id: str = Field(min_length=1, max_length=200)
    title: str | None = None
    model: str = Field(min_length=1)
    created_at: datetime
    updated_at: datetime
    system_prompt: str | None = None
    temperature: float | None = None
    active_message_id: str | None = None
    pinned: bool = False
    archived: bool = False
    folder: list[FolderName] = Field(default_factory=list, max_length=2)
    tags: list[TagName] = Field(default_factory=list, max_length=100)
    preset_id: str | None = Field(None, max_length=200)
    messages: list[_ChatuiMessage]


def from_chatui(item: Any, default_model: str) -> Parsed:
    try:
        conversation = _ChatuiConversation.model_validate(item)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise BadConversation(f"{where}: {first['msg']}") from None
    record = ConversationRecord(
        id=conversation.id,
        title=conversation.title,
        model=conversation.model,
        created_at=aware(conversation.created_at),
        updated_at=aware(conversation.updated_at),
        system_prompt=conversation.system_prompt,
        temperature=conversation.temperature,
        active_message_id=conversation.active_message_id,
        pinned=conversation.pinned,
        archived=conversation.archived,
        folder=conversation.folder,
        tags=list(dict.fromkeys(t.lower() for t in conversation.tags))[:20],
        preset_id=conversation.preset_id,
        messages=[
            MessageRecord(
                id=m.id,
                parent_id=m.parent_id,
                role=m.role,
                content=m.content,
                created_at=aware(m.created_at),
                status=m.status,
                model=m.model,
                prompt_tokens=m.usage.prompt_tokens,
                completion_tokens=m.usage.completion_tokens,
                error=m.error,
                attachments=[AttachmentRecord(a.id, a.name, a.media_type, a.size) for a in m.attachments],
                tool_steps=[step.model_dump() for step in m.tool_steps],
                sources=[source.model_dump() for source in m.sources],
            )
            for m in conversation.messages
        ],
    )
    return Parsed(finish(record), f"chatui:{conversation.id}", original_id=conversation.id)


# -- ChatGPT ----------------------------------------------------------------------------------------------------------

_CHATGPT_TEXT = {"text", "multimodal_text"}


def from_chatgpt(item: Any, default_model: str) -> Parsed:
    if not isinstance(item, dict) or not isinstance(item.get("mapping"), dict):
        raise BadConversation("not a ChatGPT conversation (no 'mapping')")
    source_id = str(item.get("conversation_id") or item.get("id") or "")
    if not source_id:
        raise BadConversation("a ChatGPT conversation without an id")
    mapping: dict[str, Any] = item["mapping"]
    created = epoch(item.get("create_time")) or datetime.now(UTC)
    system_prompt: str | None = None

    def read(node_id: str, node: Any) -> tuple[MessageRecord | None, int]:
        nonlocal system_prompt
        message = node.get("message") if isinstance(node, dict) else None
        if not isinstance(message, dict):
            return None, 0  # the mapping's root: no message at all
        role = (message.get("author") or {}).get("role")
        metadata = message.get("metadata") or {}
        text, other_parts = _chatgpt_text(message.get("content"))
        text += files_note(_chatgpt_files(message.get("content"), metadata), after=text)
        hidden = bool(metadata.get("is_visually_hidden_from_conversation"))
        if role == "system" and not hidden and text.strip() and system_prompt is None:
            system_prompt = text
            return None, 0
        if role not in ROLES or hidden or message.get("recipient", "all") != "all" or not text.strip():
            return None, 1
        slug = metadata.get("model_slug")
        return MessageRecord(
            id=node_id,
            parent_id=None,
            role=role,
            content=text,
            created_at=epoch(message.get("create_time")) or created,
            status="interrupted" if message.get("status") == "in_progress" else "done",
            model=f"openai:{slug}" if role == "assistant" and isinstance(slug, str) else None,
        ), other_parts

    messages, kept, skipped = kept_tree(mapping, read)
    record = ConversationRecord(
        id=source_id,
        title=item.get("title") if isinstance(item.get("title"), str) else None,
        model=default_model,
        created_at=created,
        updated_at=epoch(item.get("update_time")) or created,
        messages=messages,
        active_message_id=kept.get(str(item.get("current_node"))),
        system_prompt=system_prompt,
    )
    return Parsed(finish(record), f"chatgpt:{source_id}", skipped)


def _chatgpt_text(content: Any) -> tuple[str, int]:
    """The text of a message's parts, and how many parts were not text (images, files, tool output)."""
    if not isinstance(content, dict):
        return "", 1
    if content.get("content_type") not in _CHATGPT_TEXT:
        return "", 1
    parts = content.get("parts") or []
    texts = [p for p in parts if isinstance(p, str)]
    return "\n\n".join(t for t in texts if t), len(parts) - len(texts)


def _chatgpt_files(content: Any, metadata: Any) -> list[str]:
    """The names of the files a message carried: `metadata.attachments`, and an image part no attachment names."""
    attachments = metadata.get("attachments") if isinstance(metadata, dict) else None
    listed = [a for a in attachments if isinstance(a, dict)] if isinstance(attachments, list) else []
    names = [str(a.get("name") or "a file") for a in listed]
    known = {str(a.get("id")) for a in listed}
    parts = content.get("parts") if isinstance(content, dict) else None
    for part in parts if isinstance(parts, list) else []:
        if isinstance(part, dict) and part.get("content_type") == "image_asset_pointer":
            pointer = str(part.get("asset_pointer") or "")
            if pointer.rpartition("://")[2] not in known:
                names.append("an image")
    return names


def _walk(mapping: dict[str, Any]) -> Iterator[tuple[str, Any, str | None]]:
    """(id, node, parent id) of every node reachable from a root, parents first.

    The tree is read from the `parent` links (the `children` lists say the same when they are consistent); a node
    on a cycle has no root above it and is never reached.
    """
    children: dict[str | None, list[str]] = {}
    for node_id, node in mapping.items():
        parent = node.get("parent") if isinstance(node, dict) else None
        children.setdefault(parent if parent in mapping else None, []).append(node_id)
    stack: list[tuple[str, str | None]] = [(n, None) for n in reversed(children.get(None, []))]
    seen: set[str] = set()
    while stack:
        node_id, parent_id = stack.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        yield node_id, mapping[node_id], parent_id
        stack.extend((child, node_id) for child in reversed(children.get(node_id, [])))


def kept_tree(
    mapping: dict[str, Any], read: Callable[[str, Any], tuple[MessageRecord | None, int]]
) -> tuple[list[MessageRecord], dict[str, str | None], int]:
    """The messages `read` keeps, each under its nearest kept ancestor (a skipped message's replies move up).

    `read(id, node)` answers the message (its `parent_id` is set here) or None, and how many parts it skipped.
    Returns the messages, a map of every node to the kept message at or above it, and the count skipped.
    """
    messages: list[MessageRecord] = []
    kept: dict[str, str | None] = {}
    skipped = 0
    for node_id, node, parent_id in _walk(mapping):
        above = kept.get(parent_id) if parent_id is not None else None
        message, parts = read(node_id, node)
        skipped += parts
        if message is None:
            kept[node_id] = above
            continue
        message.parent_id = above
        messages.append(message)
        kept[node_id] = node_id
    return messages, kept, skipped


# -- Open WebUI -------------------------------------------------------------------------------------------------------


def from_openwebui(item: Any, default_model: str) -> Parsed:
    if not isinstance(item, dict):
        raise BadConversation("not an Open WebUI chat")
    chat = item.get("chat") if isinstance(item.get("chat"), dict) else item
    history = chat.get("history") if isinstance(chat.get("history"), dict) else None
    source_id = str(item.get("id") or chat.get("id") or "")
    if history is None or not isinstance(history.get("messages"), dict) or not source_id:
        raise BadConversation("not an Open WebUI chat (no 'chat.history.messages' or no id)")
    created = epoch(item.get("created_at")) or epoch(chat.get("timestamp")) or datetime.now(UTC)
    nodes: dict[str, Any] = history["messages"]
    mapping = {
        key: {"parent": node.get("parentId") if isinstance(node, dict) else None, "message": node}
        for key, node in nodes.items()
    }

    def read(node_id: str, entry: Any) -> tuple[MessageRecord | None, int]:
        node = entry["message"]
        role = node.get("role") if isinstance(node, dict) else None
        text, other_parts = _openwebui_text(node.get("content") if isinstance(node, dict) else None)
        text += files_note(_openwebui_files(node.get("files") if isinstance(node, dict) else None), after=text)
        if role not in ROLES or not text.strip():
            return None, 1
        model = node.get("model")
        return MessageRecord(
            id=node_id,
            parent_id=None,
            role=role,
            content=text,
            created_at=epoch(node.get("timestamp")) or created,
            model=qualify_model_id(model) if role == "assistant" and isinstance(model, str) and model else None,
        ), other_parts

    messages, kept, skipped = kept_tree(mapping, read)
    params = chat.get("params") if isinstance(chat.get("params"), dict) else {}
    system = params.get("system") or chat.get("system")
    temperature = params.get("temperature")
    title = item.get("title") or chat.get("title")
    record = ConversationRecord(
        id=source_id,
        title=title if isinstance(title, str) else None,
        model=default_model,
        created_at=created,
        updated_at=epoch(item.get("updated_at")) or created,
        messages=messages,
        active_message_id=kept.get(str(history.get("currentId"))),
        system_prompt=system if isinstance(system, str) else None,
        temperature=temperature if isinstance(temperature, int | float) else None,
    )
    return Parsed(finish(record), f"openwebui:{source_id}", skipped)


def _openwebui_text(content: Any) -> tuple[str, int]:
    """A message's text; content may also be a list of OpenAI-style parts (`{"type": "text", "text": ...}`)."""
    if isinstance(content, str):
        return content, 0
    if isinstance(content, list):
        texts = [p["text"] for p in content if isinstance(p, dict) and p.get("type") == "text" and "text" in p]
        return "\n\n".join(t for t in texts if isinstance(t, str)), len(content) - len(texts)
    return "", 0


def _openwebui_files(files: Any) -> list[str]:
    """The names of a message's `files` (an uploaded file's own name; an image pasted in has none)."""
    names = []
    for entry in files if isinstance(files, list) else []:
        if isinstance(entry, dict):
            inner = entry.get("file") if isinstance(entry.get("file"), dict) else {}
            name = entry.get("name") or inner.get("filename")
            names.append(str(name) if name else "an image" if entry.get("type") == "image" else "a file")
    return names


# -- shared -----------------------------------------------------------------------------------------------------------


def reader_for(item: Any) -> Reader | None:
    """Which format one conversation of an array is in (ChatGPT and Open WebUI exports are both arrays)."""
    if not isinstance(item, dict):
        return None
    if isinstance(item.get("mapping"), dict):
        return from_chatgpt
    chat = item.get("chat")
    if (isinstance(chat, dict) and isinstance(chat.get("history"), dict)) or isinstance(item.get("history"), dict):
        return from_openwebui
    if "messages" in item and "model" in item and "created_at" in item:
        return from_chatui
    return None
