"""What `bench.ui_pages` streams and watches: realistic Markdown replies of an exact number of tokens, and a simulated
browser tab that follows a chat page over NiceGUI's socket.io (see `bench.ui_pages` for what it does and skips)."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import html
import json
import random
import re
import time
import uuid
from typing import Any

import httpx
import socketio

from bench._clients import Account

_WORDS = """
the a an of to in for on with by from about into over after before between under system server client request
response message reply model token stream page browser socket event loop thread queue buffer cache database table
index query value field record user session cookie header element update render block paragraph list item code
function method class object string number array result error status time memory fast slow small large simple clear
careful useful common modern quickly usually often always never only also then because while when where which that
this these those each every some many most other same new keeps sends reads writes builds checks starts stops waits
returns makes takes shows follows handles
"""
VOCABULARY = _WORDS.split()


# -- the replies --------------------------------------------------------------------------------------------------


def tokenize(text: str) -> list[str]:
    """Word-sized deltas as a model streams them: a word with its leading spaces, or a run of newlines."""
    tokens = re.findall(r"\n+|[^\S\n]*\S+", text)
    assert "".join(tokens) == text
    return tokens


def markdown_reply(seed: int, count: int) -> str:
    """A reply of exactly `count` tokens: heading, paragraphs, a list, a code block, more paragraphs."""
    rng = random.Random(seed)

    def words(k: int) -> str:
        return " ".join(rng.choice(VOCABULARY) for _ in range(k))

    def sentence() -> str:
        text = words(rng.randint(6, 14))
        return text[0].upper() + text[1:] + "."

    def paragraph() -> str:
        return " ".join(sentence() for _ in range(rng.randint(2, 4)))

    name = f"{rng.choice(VOCABULARY)}_{rng.choice(VOCABULARY)}"
    code = (
        f"```python\ndef {name}(items):\n    total = 0\n    for item in items:\n"
        f"        if item.size > {rng.randint(2, 99)}:\n            total += item.size * {rng.randint(2, 9)}\n"
        f"    return total\n```"
    )
    items = "\n".join(
        f"- **{rng.choice(VOCABULARY)}**: {words(rng.randint(4, 9))} `{rng.choice(VOCABULARY)}()`" for _ in range(5)
    )
    parts = [f"## {words(4).capitalize()}", paragraph(), paragraph(), "The main points:", items, paragraph(), code]
    for _ in range(count):  # each paragraph adds tokens, so this ends long before the bound
        parts.append(paragraph())
        tokens = tokenize("\n\n".join(parts))
        if len(tokens) >= count:  # the cut falls inside the paragraph just added
            return "".join(tokens[:count])
    raise AssertionError("unreachable")


# -- a simulated browser ------------------------------------------------------------------------------------------


class Page:
    """One browser tab on `/chat/{id}`: its element table, kept current from socket.io `update` messages."""

    def __init__(self, base_url: str, account: Account, conversation_id: str) -> None:
        self.base_url = base_url
        self.account = account
        self.conversation_id = conversation_id
        self.elements: dict[str, dict[str, Any]] = {}
        self.client_id = ""
        self.next_message_id = 0
        self.updates = 0
        self.update_times: list[float] = []
        self.sent_at = 0.0
        self.done_at: float | None = None
        self.done = asyncio.Event()
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on("update", self._on_update)
        self.sio.on("*", self._on_other)

    async def open(self, http: httpx.AsyncClient) -> None:
        response = await http.get(f"/chat/{self.conversation_id}", headers=self.account.headers)
        response.raise_for_status()
        self.open_from_html(response.text)
        await self.connect()

    def open_from_html(self, page: str) -> None:
        """Take the element table and the socket query from the page's HTML."""
        raw = re.search(r"parseElements\(String\.raw`(.*?)`\)", page, re.S)
        query_text = re.search(r"query: (\{.*?\}),\n", page)
        assert raw and query_text, "not a NiceGUI page"
        data = raw.group(1)
        for escaped, plain in (("&#36;", "$"), ("&#96;", "`"), ("&gt;", ">"), ("&lt;", "<"), ("&amp;", "&")):
            data = data.replace(escaped, plain)  # what parseElements() undoes, in the same order
        self.elements = json.loads(data)
        query = ast.literal_eval(query_text.group(1))  # rendered as a Python dict
        self.client_id = query["client_id"]
        self.next_message_id = int(query["next_message_id"])

    async def connect(self) -> None:
        params = {
            "client_id": self.client_id,
            "next_message_id": str(self.next_message_id),
            "implicit_handshake": "true",
            "document_id": str(uuid.uuid4()),
            "tab_id": str(uuid.uuid4()),
        }
        url = f"{self.base_url}/?{httpx.QueryParams(params)}"
        await self.sio.connect(
            url,
            headers=self.account.headers,
            transports=["websocket"],
            socketio_path="/_nicegui_ws/socket.io",
            wait_timeout=30,
        )

    def _take_id(self, data: Any) -> None:
        if isinstance(data, dict) and "_id" in data:
            self.next_message_id = int(data.pop("_id")) + 1

    async def _on_other(self, _event: str, data: Any = None) -> None:
        self._take_id(data)

    async def _on_update(self, data: dict[str, Any]) -> None:
        self._take_id(data)
        self.updates += 1
        self.update_times.append(time.perf_counter())
        for element_id, element in data.items():
            if element is None:
                self.elements.pop(element_id, None)
            else:
                self.elements[element_id] = element
                if self.done_at is None and str(element.get("text", "")).endswith((" token", " tokens")):
                    self.done_at = time.perf_counter()
                    self.done.set()

    async def ack(self) -> None:
        with contextlib.suppress(Exception):
            await self.sio.emit("ack", {"client_id": self.client_id, "next_message_id": self.next_message_id})

    def bubble_blocks(self) -> list[str]:
        """The `innerHTML` of every Markdown block in the assistant bubble, in page order."""
        bubbles = [i for i, e in self.elements.items() if "assistant-bubble" in (e.get("class") or [])]
        if not bubbles:
            return []
        blocks: list[str] = []

        def walk(element_id: str, depth: int = 0) -> None:
            element = self.elements.get(str(element_id))
            if element is None or depth > 50:
                return
            if "chat-markdown" in (element.get("class") or []):
                blocks.append(str((element.get("props") or {}).get("innerHTML", "")))
            children = list(element.get("children") or [])
            for slot in (element.get("slots") or {}).values():
                children += slot.get("ids", [])
            for child in children:
                walk(child, depth + 1)

        walk(max(bubbles, key=int))  # the newest (a conversation with a history shows older ones above it)
        return blocks

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.sio.disconnect()


def words_present(reply: str, blocks: list[str]) -> bool:
    shown = html.unescape(re.sub(r"<[^>]+>", " ", "".join(blocks)))
    remaining = re.findall(r"\w+", shown)
    wanted = re.findall(r"\w+", re.sub(r"```\w*", "```", reply))  # the fence's info string is not shown as text
    position = 0
    for word in wanted:  # every word, in order
        while position < len(remaining) and remaining[position] != word:
            position += 1
        if position == len(remaining):
            return False
        position += 1
    return True
