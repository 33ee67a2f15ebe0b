"""LibreChat's JSON export, as a `ConversationRecord`, however deep its tree.

Written from the export's public shape (LibreChat's "Export conversation" → JSON): one conversation per file,
`{conversationId, endpoint, title, exportAt, branches, recursive, options: {model, promptPrefix, temperature,
top_p, …}, messagesTree | messages}`. Each message has `messageId`, `parentMessageId` (the root's is the nil UUID),
`isCreatedByUser`, `sender`, `text` (or, for agents, `content`: a list of `{type: "text", text}` parts beside
reasoning and tool parts), `model`, `createdAt` (ISO 8601), `error`, `unfinished`, `files`. Two forms:

- **the tree** (`recursive: true`): `messagesTree` (older versions: `messages`) holds the roots, each message its
  replies in `children`, nested: a long chat is thousands of levels deep;
- **the flat list** (`recursive: false`): `messages` in order, linked by `parentMessageId`.

Either way a message with several replies (a regenerated answer, an edited question) becomes versions.

Why a reader of its own: the other formats are read by ijson's object builder, behind a scan that refuses any
nesting deeper than `MAX_DEPTH` (`chatui.transfer.reading`: deep nesting is an attack on the builder, and ijson's
prefixed events grow with the depth). A LibreChat tree is deep by design, so `walk()` reads its events without
prefixes (`ijson.basic_parse`) and flattens the tree as it goes: every message is a fresh start for the depth
bound, whatever holds it, so nesting stays bounded within a message, and a chain of messages costs memory in
proportion to the file, with no recursion anywhere (neither here nor in Python's own `json`, which would fail at
about 1,000 levels).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import IO, Any

import ijson

from chatui.transfer.formats import Parsed, kept_tree
from chatui.transfer.normalise import BadConversation, aware, files_note, finish
from storage.transfer import ConversationRecord, MessageRecord

NO_PARENT = "00000000-0000-0000-0000-000000000000"
"""LibreChat's parent of a first message."""
_ROOT_KEYS = ("messagesTree", "messages")
_HEAD = re.compile(rb'"conversationId"\s*:\s*"')
_MESSAGES_KEY = re.compile(rb'"(?:messagesTree|messages)"\s*:\s*\[')
_PROVIDERS = {"anthropic": "anthropic", "ollama": "ollama"}
"""LibreChat endpoints by provider; every other endpoint (openAI, azureOpenAI and the custom ones, which speak
OpenAI's API) is named `openai:` here."""


class TooDeep(ValueError):
    """Something inside one message (or beside the messages) nests deeper than the bound."""


def looks_like_librechat(head: bytes) -> bool:
    """The start of a file (`reading.SNIFF_BYTES`) is a LibreChat export: its keys come before the messages."""
    return bool(_HEAD.search(head) and _MESSAGES_KEY.search(head))


# -- reading the file: its events, flattened --------------------------------------------------------------------------


def walk(stream: IO[bytes], max_depth: int, buffer: int) -> Iterator[dict[str, Any]]:
    """The file's one conversation, its messages flattened into `messages` (parents first, `children` dropped,
    `parentMessageId` the tree's). Raises `TooDeep`, or ijson's errors where the JSON breaks."""
    events = ijson.basic_parse(stream, buf_size=buffer, use_float=True)
    yield _Walker(max_depth).run(events)


class _Walker:
    """A stack machine over `basic_parse` events. A frame is [kind, container, key, depth, node]:

    - `conv`: the top-level object; its `messagesTree`/`messages` array is a `list` frame of roots;
    - `list`: an array of messages (`node`: the index of the message holding it, or -1 for the roots);
    - `msg`: one message (`node`: its index); its `children` array is a `list` frame;
    - `value`: anything else, built as is, `depth` levels below its message (or the top level).
    """

    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth
        self.messages: list[dict[str, Any]] = []
        self.parents: list[int] = []
        self.conversation: dict[str, Any] = {}
        self.stack: list[list[Any]] = []

    def run(self, events: Iterable[tuple[str, Any]]) -> dict[str, Any]:
        for kind, value in events:
            if kind == "map_key":
                self.stack[-1][2] = value
            elif kind in ("start_map", "start_array"):
                self._open(kind == "start_map")
            elif kind in ("end_map", "end_array"):
                self.stack.pop()
            elif self.stack:
                self._put(value)
        for index, parent in enumerate(self.parents):
            if parent >= 0:  # nested: the tree says whose reply it is
                above = self.messages[parent].get("messageId")
                self.messages[index]["parentMessageId"] = above if isinstance(above, str) else NO_PARENT
        self.conversation["messages"] = self.messages
        self.conversation.pop("messagesTree", None)
        return self.conversation

    def _open(self, is_map: bool) -> None:
        if not self.stack:
            if not is_map:
                raise BadConversation("not a LibreChat conversation (not an object)")
            self.stack.append(["conv", self.conversation, None, 0, -1])
            return
        kind, _, key, depth, node = self.stack[-1]
        if kind == "conv" and key in _ROOT_KEYS and not is_map:
            self.stack.append(["list", None, None, 0, -1])
        elif kind == "msg" and key == "children" and not is_map:
            self.stack.append(["list", None, None, 0, node])
        elif kind == "list" and is_map:
            message: dict[str, Any] = {}
            self.messages.append(message)
            self.parents.append(node)
            self.stack.append(["msg", message, None, 0, len(self.messages) - 1])
        else:
            if depth + 1 > self.max_depth:
                raise TooDeep(f"more than {self.max_depth} levels deep inside a message")
            made: dict[str, Any] | list[Any] = {} if is_map else []
            if kind != "list":  # a stray array or value among messages is skipped, but its depth still counts
                self._put(made)
            self.stack.append(["value", made, None, depth + 1, node])

    def _put(self, value: Any) -> None:
        kind, container, key, _, _ = self.stack[-1]
        if isinstance(container, list):
            container.append(value)
        elif isinstance(container, dict) and not (kind == "msg" and key == "children"):
            container[key] = value


# -- the conversation -------------------------------------------------------------------------------------------------


def from_librechat(item: Any, default_model: str) -> Parsed:
    """One LibreChat conversation, its messages nested (`children`) or flat (`parentMessageId`)."""
    if not isinstance(item, dict):
        raise BadConversation("not a LibreChat conversation")
    source_id = item.get("conversationId")
    roots = next((item[k] for k in _ROOT_KEYS if isinstance(item.get(k), list)), None)
    if not isinstance(source_id, str) or not source_id or roots is None:
        raise BadConversation("not a LibreChat conversation (no 'conversationId' or no messages)")
    options = item.get("options") if isinstance(item.get("options"), dict) else {}
    endpoint = item.get("endpoint") or options.get("endpoint")
    provider = _PROVIDERS.get(str(endpoint).lower(), "openai")
    mapping: dict[str, Any] = {}
    for node, parent in _flatten(roots):
        message_id = node.get("messageId")
        if isinstance(message_id, str) and message_id and message_id not in mapping:
            mapping[message_id] = {"parent": None if parent == NO_PARENT else parent, "message": node}
    times = [t for t in (_when(entry["message"].get("createdAt")) for entry in mapping.values()) if t is not None]
    created = min(times, default=None) or _when(item.get("createdAt")) or datetime.now(UTC)

    def read(node_id: str, entry: Any) -> tuple[MessageRecord | None, int]:
        node = entry["message"]
        user = node.get("isCreatedByUser") is True or ("isCreatedByUser" not in node and node.get("sender") == "User")
        text, other_parts = _text(node)
        text += files_note(_files(node), after=text)
        if not text.strip():
            return None, 1
        model = node.get("model") or options.get("model")
        return MessageRecord(
            id=node_id,
            parent_id=None,
            role="user" if user else "assistant",
            content=text,
            created_at=_when(node.get("createdAt")) or created,
            status="error" if node.get("error") is True else "interrupted" if node.get("unfinished") else "done",
            model=f"{provider}:{model}" if not user and isinstance(model, str) and model else None,
        ), other_parts

    messages, _, skipped = kept_tree(mapping, read)
    system = options.get("promptPrefix") or item.get("promptPrefix")
    temperature, top_p = options.get("temperature"), options.get("top_p")
    record = ConversationRecord(
        id=source_id,
        title=item["title"] if isinstance(item.get("title"), str) else None,
        model=default_model,
        created_at=created,
        updated_at=created,
        messages=messages,
        system_prompt=system if isinstance(system, str) and system.strip() else None,
        temperature=temperature if isinstance(temperature, int | float) else None,
        top_p=top_p if isinstance(top_p, int | float) and 0 <= top_p <= 1 else None,
    )
    return Parsed(finish(record), f"librechat:{source_id}", skipped)


def _flatten(roots: list[Any]) -> Iterator[tuple[dict[str, Any], str | None]]:
    """(message, parent id) of every message, parents first, without recursion: a nested message's parent is the
    one holding it; a top-level one keeps its own `parentMessageId` (the flat form's links)."""
    stack: list[tuple[Any, str | None, bool]] = [(node, None, False) for node in reversed(roots)]
    while stack:
        node, holder, nested = stack.pop()
        if not isinstance(node, dict):
            continue
        own = node.get("parentMessageId")
        yield node, holder if nested else (own if isinstance(own, str) else None)
        children = node.get("children")
        if isinstance(children, list):
            message_id = node.get("messageId")
            above = message_id if isinstance(message_id, str) and message_id else NO_PARENT
            stack.extend((child, above, True) for child in reversed(children))


def _text(node: dict[str, Any]) -> tuple[str, int]:
    """`text`, or else the text parts of `content`; and how many other parts (reasoning, tools, images) there were."""
    text = node.get("text")
    if isinstance(text, str) and text.strip():
        return text, 0
    content = node.get("content")
    if not isinstance(content, list):
        return "", 0
    texts = []
    for part in content:
        value = part.get("text") if isinstance(part, dict) and part.get("type") == "text" else None
        value = value.get("value") if isinstance(value, dict) else value  # the Assistants API's {"value": …}
        if isinstance(value, str):
            texts.append(value)
    return "\n\n".join(t for t in texts if t), len(content) - len(texts)


def _files(node: dict[str, Any]) -> list[str]:
    names = []
    for key in ("files", "attachments"):
        entries = node.get(key)
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict):
                name = entry.get("filename") or entry.get("name")
                names.append(str(name) if name else "a file")
    return names


def _when(value: Any) -> datetime | None:
    """An ISO 8601 time (`2024-05-01T16:35:11.530Z`), None if absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return aware(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None
