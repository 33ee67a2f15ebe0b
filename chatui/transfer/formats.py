"""Conversations from the files people bring, as `ConversationRecord`s: chatui/1, ChatGPT, Open WebUI.

Written from each format's public description:

- **chatui/1** (ours, `chatui.transfer.exporting`): `{"format": "chatui/1", "conversations": [...]}`, each with
  its whole tree (`messages[].parent_id`), `active_message_id`, `system_prompt`, `temperature` and usage.
- **ChatGPT's data export** (`conversations.json`, also inside the export's `.zip`): an array of conversations,
  each a `mapping` of nodes `{id, message, parent, children}` with `current_node` the leaf shown; a message has
  `author.role`, `create_time` (epoch seconds), `content.content_type` and `content.parts`, `metadata`. Hidden system
  messages, tool traffic and non-text parts (images, code runs, browsing) are skipped and counted.
- **Open WebUI's chat export**: an array of `{id, title, chat: {history: {messages: {<id>: {id, parentId,
  childrenIds, role, content, timestamp, model}}, currentId}, models, params}, created_at, updated_at}`.

Every record comes out normalised (`chatui.transfer.normalise.finish`). A conversation that cannot be read raises
`BadConversation` with a reason, and the others go on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chatui.transfer.normalise import ROLES, BadConversation, aware, epoch, finish
from providers.registry import qualify_model_id
from storage.transfer import ConversationRecord, MessageRecord

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


class _Usage(BaseModel):
    prompt_tokens: int | None = Field(None, ge=0, le=MAX_TOKENS)
    completion_tokens: int | None = Field(None, ge=0, le=MAX_TOKENS)


class _ChatuiMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str = Field(min_length=1, max_length=200)
    parent_id: str | None = Field(None, max_length=200)
    role: str
    content: str
    status: str = "done"
    model: str | None = None
    created_at: datetime
    usage: _Usage = _Usage()
    error: str | None = None


class _ChatuiConversation(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str = Field(min_length=1, max_length=200)
    title: str | None = None
    model: str = Field(min_length=1)
    created_at: datetime
    updated_at: datetime
    system_prompt: str | None = None
    temperature: float | None = None
    active_message_id: str | None = None
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

    messages, kept, skipped = _kept_tree(mapping, read)
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


def _kept_tree(
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

    messages, kept, skipped = _kept_tree(mapping, read)
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
