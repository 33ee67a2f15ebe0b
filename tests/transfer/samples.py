"""Small export files in each format, built here from the formats' public descriptions (no real user's data)."""

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
