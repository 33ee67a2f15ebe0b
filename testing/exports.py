"""Export files in each format, built from the formats' public descriptions (no real user's data): small ones for the
tests, and the files of issue 28's attacks at any size (small in tests/, real size in `bench.import_attacks`)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

T0 = 1_700_000_000.0  # 2023-11-14, seconds since 1970


def chatgpt_node(node_id: str, parent: str | None, children: list[str], message: dict | None) -> dict[str, Any]:
    return {"id": node_id, "message": message, "parent": parent, "children": children}


def chatgpt_message(
    node_id: str,
    role: str,
    parts: list[Any],
    at: float,
    *,
    content_type: str = "text",
    hidden: bool = False,
    model: str | None = None,
    recipient: str = "all",
) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    if hidden:
        metadata["is_visually_hidden_from_conversation"] = True
    if model:
        metadata["model_slug"] = model
    return {
        "id": node_id,
        "author": {"role": role, "name": None, "metadata": {}},
        "create_time": at,
        "update_time": None,
        "content": {"content_type": content_type, "parts": parts},
        "status": "finished_successfully",
        "end_turn": True,
        "weight": 1.0,
        "metadata": metadata,
        "recipient": recipient,
    }


def chatgpt_conversation(conversation_id: str = "chatgpt-conv-1", title: str = "Tea brewing") -> dict[str, Any]:
    """root → hidden system → user → assistant v1 / assistant v2 (regenerated; current), plus a tool call and an
    image part: two versions kept, the hidden system message, the tool call and the image skipped."""
    m = chatgpt_message
    mapping = {
        "root": chatgpt_node("root", None, ["sys"], None),
        "sys": chatgpt_node("sys", "root", ["u1"], m("sys", "system", [""], T0, hidden=True)),
        "u1": chatgpt_node(
            "u1",
            "sys",
            ["a1", "tool"],
            m(
                "u1",
                "user",
                ["How long should green tea steep?", {"asset_pointer": "file-service://img"}],
                T0 + 1,
                content_type="multimodal_text",
            ),
        ),
        "a1": chatgpt_node("a1", "u1", [], m("a1", "assistant", ["About two minutes."], T0 + 2, model="gpt-4o")),
        "tool": chatgpt_node(
            "tool",
            "u1",
            ["a2"],
            m("tool", "assistant", ["search('tea')"], T0 + 3, content_type="code", recipient="browser"),
        ),
        "a2": chatgpt_node(
            "a2", "tool", [], m("a2", "assistant", ["Two to three minutes at 80 °C."], T0 + 4, model="gpt-4o")
        ),
    }
    return {
        "title": title,
        "create_time": T0,
        "update_time": T0 + 4,
        "mapping": mapping,
        "moderation_results": [],
        "current_node": "a2",
        "conversation_id": conversation_id,
        "id": conversation_id,
        "default_model_slug": "gpt-4o",
    }


def openwebui_chat(chat_id: str = "owui-1", title: str = "Rust lifetimes") -> dict[str, Any]:
    """user → assistant; then the user message edited: user v2 → assistant (current)."""
    messages = {
        "u1": {
            "id": "u1",
            "parentId": None,
            "childrenIds": ["a1"],
            "role": "user",
            "content": "What is a lifetime?",
            "timestamp": int(T0) + 10,
            "models": ["llama3.1:8b"],
        },
        "a1": {
            "id": "a1",
            "parentId": "u1",
            "childrenIds": [],
            "role": "assistant",
            "content": "A region where a reference is valid.",
            "timestamp": int(T0) + 11,
            "model": "llama3.1:8b",
        },
        "u2": {
            "id": "u2",
            "parentId": None,
            "childrenIds": ["a2"],
            "role": "user",
            "content": "What is a lifetime in Rust?",
            "timestamp": int(T0) + 20,
            "models": ["llama3.1:8b"],
        },
        "a2": {
            "id": "a2",
            "parentId": "u2",
            "childrenIds": [],
            "role": "assistant",
            "content": "The scope for which a borrow is valid.",
            "timestamp": int(T0) + 21,
            "model": "llama3.1:8b",
        },
    }
    return {
        "id": chat_id,
        "user_id": "someone",
        "title": title,
        "chat": {
            "id": "",
            "title": title,
            "models": ["llama3.1:8b"],
            "params": {"system": "Answer briefly.", "temperature": 0.4},
            "history": {"messages": messages, "currentId": "a2"},
            "messages": [messages["u2"], messages["a2"]],
            "timestamp": int(T0 * 1000) + 10,
        },
        "updated_at": int(T0) + 21,
        "created_at": int(T0) + 10,
        "share_id": None,
        "archived": False,
    }


def write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


def write_chatgpt_zip(path: Path, conversations: list[dict[str, Any]]) -> Path:
    """The shape of ChatGPT's data export: conversations.json beside chat.html and other files."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("conversations.json", json.dumps(conversations))
        archive.writestr("chat.html", "<html></html>")
        archive.writestr("user.json", json.dumps({"id": "user-x"}))
    return path


# -- the files of issue 28's attacks, at any size (small in the tests, real size in `bench.import_attacks`) ----------

_FILLER = "All work and no play makes a long message. "


def _text(chars: int) -> str:
    return (_FILLER * (chars // len(_FILLER) + 1))[:chars]


def write_nested(path: Path, depth: int) -> Path:
    """`[[[[…]]]]`: 2 bytes a level (the attack: ~400 KB, 200,000 levels)."""
    path.write_bytes(b"[" * depth + b"]" * depth)
    return path


def _write_with_huge_text(path: Path, document: Any, chars: int) -> Path:
    """`document` as JSON with its one `"<HUGE>"` string replaced by `chars` characters, written in pieces."""
    before, after = json.dumps(document).split('"<HUGE>"')
    piece = _text(1024 * 1024)
    with path.open("w", encoding="utf-8") as out:
        out.write(before + '"')
        for _ in range(chars // len(piece)):
            out.write(piece)
        out.write(piece[: chars % len(piece)] + '"' + after)
    return path


def write_huge_first_message(path: Path, chars: int, kind: str = "chatgpt", others: int = 3) -> Path:
    """A ChatGPT (or Open WebUI) export whose first conversation holds one message of `chars` characters, then
    `others` ordinary conversations."""
    if kind == "chatgpt":
        first = chatgpt_conversation("huge", "Huge first")
        first["mapping"]["u1"]["message"]["content"] = {"content_type": "text", "parts": ["<HUGE>"]}
        rest = [chatgpt_conversation(f"after-{i}", f"After {i}") for i in range(others)]
    else:
        first = openwebui_chat("huge", "Huge first")
        first["chat"]["history"]["messages"]["u1"]["content"] = "<HUGE>"
        rest = [openwebui_chat(f"after-{i}", f"After {i}") for i in range(others)]
    return _write_with_huge_text(path, [first, *rest], chars)


def chatui_conversation(index: int, messages: int, chars: int, created: str | None = None) -> dict[str, Any]:
    """A chatui/1 conversation: a straight path of `messages` messages of `chars` characters each."""
    at = "2024-05-01T12:00:00+00:00"
    return {
        "id": f"conv-{index}",
        "title": f"Conversation {index}",
        "model": "ollama:llama3.2:3b",
        "created_at": created or at,
        "updated_at": at,
        "system_prompt": None,
        "temperature": None,
        "active_message_id": f"m{index}-{messages - 1}",
        "messages": [
            {
                "id": f"m{index}-{i}",
                "parent_id": f"m{index}-{i - 1}" if i else None,
                "role": "user" if i % 2 == 0 else "assistant",
                "content": _text(chars),
                "status": "done",
                "model": None if i % 2 == 0 else "ollama:llama3.2:3b",
                "created_at": created or at,
                "usage": {"prompt_tokens": None, "completion_tokens": None},
                "error": None,
            }
            for i in range(messages)
        ],
    }


def write_chatui_export(
    path: Path, total_bytes: int, messages: int = 40, chars: int = 2000, bad_created: dict[int, str] | None = None
) -> int:
    """A chatui/1 export of about `total_bytes`, conversations of `messages` messages of `chars` characters;
    `bad_created` gives some conversations (by index) that `created_at`. Returns the number of conversations."""
    with path.open("w", encoding="utf-8") as out:
        out.write('{"format": "chatui/1", "exported_at": "2024-05-02T00:00:00+00:00", "conversations": [')
        index = written = 0
        while written < total_bytes or index == 0:
            piece = json.dumps(chatui_conversation(index, messages, chars, (bad_created or {}).get(index)))
            out.write(("," if index else "") + piece)
            written += len(piece)
            index += 1
        out.write("]}")
    return index


def write_zip_bomb(path: Path, inflated_bytes: int) -> Path:
    """A ChatGPT-style zip whose conversations.json is `inflated_bytes` of JSON whitespace around one conversation:
    deflate packs whitespace about 1,000 to 1 (3.6 MB inflate to 3.5 GB)."""
    conversation = json.dumps(chatgpt_conversation("bomb", "Bomb")).encode()
    spaces = b" " * (4 * 1024 * 1024)
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("conversations.json", "w", force_zip64=True) as member,
    ):
        member.write(b"[")
        left = inflated_bytes - len(conversation) - 2
        while left > 0:
            member.write(spaces[: min(left, len(spaces))])
            left -= len(spaces)
        member.write(conversation + b"]")
    return path


# -- LibreChat --------------------------------------------------------------------------------------------------------

LIBRECHAT_ROOT = "00000000-0000-0000-0000-000000000000"


def librechat_message(message_id: str, parent: str, text: str, *, user: bool, at: str, **extra: Any) -> dict[str, Any]:
    message = {
        "messageId": message_id,
        "conversationId": "lc-1",
        "parentMessageId": parent,
        "sender": "User" if user else "GPT-4",
        "isCreatedByUser": user,
        "text": text,
        "createdAt": at,
        "error": False,
        "unfinished": False,
        "model": None if user else "gpt-4o",
        "endpoint": "openAI",
    }
    message.update(extra)
    return message


def librechat_flat(conversation_id: str = "lc-1", title: str = "Sourdough starter") -> dict[str, Any]:
    """LibreChat's flat export (`recursive: false`): a question, two answers to it (regenerated; the second has an
    agent's `content` parts, one of them reasoning), a follow-up under the second."""
    m = librechat_message
    messages = [
        m("q1", LIBRECHAT_ROOT, "How often do I feed a starter?", user=True, at="2024-05-01T10:00:00.000Z"),
        m("a1", "q1", "Once a day at room temperature.", user=False, at="2024-05-01T10:00:05.000Z"),
        m(
            "a2",
            "q1",
            "",
            user=False,
            at="2024-05-01T10:01:00.000Z",
            content=[
                {"type": "think", "think": "The user keeps it on the counter."},
                {"type": "text", "text": "Every 12 hours if it lives on the counter."},
            ],
        ),
        m("q2", "a2", "And in the fridge?", user=True, at="2024-05-01T10:02:00.000Z", files=[{"filename": "jar.jpg"}]),
        m("a3", "q2", "Once a week.", user=False, at="2024-05-01T10:02:03.000Z", model=None),
    ]
    return {
        "conversationId": conversation_id,
        "endpoint": "openAI",
        "title": title,
        "exportAt": "10:05:00 GMT+0000 (Coordinated Universal Time)",
        "branches": True,
        "recursive": False,
        "options": {
            "model": "gpt-4o",
            "promptPrefix": "Be brief.",
            "temperature": 0.7,
            "top_p": 1,
            "endpoint": "openAI",
        },
        "messages": messages,
    }


def librechat_tree(conversation_id: str = "lc-1", title: str = "Sourdough starter") -> dict[str, Any]:
    """The same conversation as `librechat_flat`, in the tree form (`recursive: true`, `messagesTree`)."""
    flat = librechat_flat(conversation_id, title)
    nodes = {m["messageId"]: {**m, "children": []} for m in flat.pop("messages")}
    roots = []
    for node in nodes.values():
        above = nodes.get(node["parentMessageId"])
        (above["children"] if above else roots).append(node)
    return {**flat, "recursive": True, "messagesTree": roots}


def write_librechat_chain(path: Path, exchanges: int, conversation_id: str = "lc-long") -> Path:
    """A LibreChat tree of `exchanges` questions and answers, one nested in the other (2 levels a message): written
    piece by piece, as Python's `json` cannot nest it."""
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"conversationId": conversation_id, "title": "A long chat", "recursive": True})[:-1])
        out.write(', "messagesTree": [')
        for i in range(2 * exchanges):
            user = i % 2 == 0
            node = {
                "messageId": f"m{i}",
                "isCreatedByUser": user,
                "text": f"{'Question' if user else 'Answer'} {i // 2}",
                "createdAt": "2024-05-01T10:00:00.000Z",
            }
            out.write(json.dumps(node)[:-1] + ', "children": [')
        out.write("]}" * (2 * exchanges) + "]}")
    return path
