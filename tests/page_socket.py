"""A NiceGUI page driven over its own socket.io connection, as a hostile client would: no browser, no redirects.

`PageSocket.open()` loads a page with a cookie, reads the page's `client_id` and elements from the HTML, and
connects to `/_nicegui_ws` like `nicegui.js` does. It then fires UI events itself (`click`, `set_value`) and keeps
the element tree current from the server's `update` messages; whatever the server tells it (`navigate` to
`/login`, ...) is only recorded, never obeyed.
"""

from __future__ import annotations

import ast
import asyncio
import json
import re
import uuid
from typing import Any
from urllib.parse import urlencode

import httpx
import socketio

_ELEMENTS = re.compile(r"parseElements\(String\.raw`(.*?)`\)", re.DOTALL)
_QUERY = re.compile(r"query: (\{.*?\}),\n")


def _unescape(raw: str) -> str:
    """What `parseElements()` in nicegui.js undoes before `JSON.parse`."""
    for escaped, plain in (("&#36;", "$"), ("&#96;", "`"), ("&gt;", ">"), ("&lt;", "<"), ("&amp;", "&")):
        raw = raw.replace(escaped, plain)
    return raw


class PageSocket:
    def __init__(self, base_url: str, html: str) -> None:
        self.base_url = base_url
        self.elements: dict[str, dict[str, Any]] = json.loads(_unescape(_ELEMENTS.search(html).group(1)))  # type: ignore[union-attr]
        self.query: dict[str, Any] = ast.literal_eval(_QUERY.search(html).group(1))  # type: ignore[union-attr]  # a Python repr
        self.client_id: str = self.query["client_id"]
        self.known = dict(self.elements)  # every element ever shown, deleted ones too: a forger may still name them
        self.received: list[tuple[str, Any]] = []
        self._arrived = asyncio.Event()
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on("*", self._record)

    @classmethod
    async def open(cls, base_url: str, path: str, cookie: str | None = None) -> PageSocket:
        cookies = {"chatui_session": cookie} if cookie else {}
        async with httpx.AsyncClient(base_url=base_url, cookies=cookies) as http:
            response = await http.get(path)
        assert response.status_code == 200, response.text[:500]
        page = cls(base_url, response.text)
        await page.connect()
        return page

    async def connect(self, client_id: str | None = None) -> None:
        """Connect as the page's browser tab does (implicit handshake in the query); `client_id` to forge one."""
        query = {
            **{k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in self.query.items()},
            "client_id": client_id or self.client_id,
            "tab_id": str(uuid.uuid4()),
            "document_id": str(uuid.uuid4()),
        }
        await self.sio.connect(
            f"{self.base_url}?{urlencode(query)}", socketio_path="/_nicegui_ws/socket.io", transports=["websocket"]
        )

    async def close(self) -> None:
        await self.sio.disconnect()

    async def _record(self, event: str, data: Any = None) -> None:
        self.received.append((event, data))
        if event == "update" and isinstance(data, dict):
            for element_id, element in data.items():
                if element_id.startswith("_"):
                    continue
                if element is None:
                    self.elements.pop(element_id, None)
                else:
                    self.elements[element_id] = self.known[element_id] = element
        self._arrived.set()

    async def wait_for(self, event: str, within: float = 5.0, count: int = 1) -> Any:
        """The `count`th message of that type the server sent (already or within `within` s); TimeoutError otherwise."""
        async with asyncio.timeout(within):
            while True:
                found = [data for name, data in self.received if name == event]
                if len(found) >= count:
                    return found[count - 1]
                self._arrived.clear()
                await self._arrived.wait()

    async def wait_for_text(self, text: str, within: float = 5.0) -> str | None:
        """The id of an element showing `text` (now or within `within` s); None if none appeared."""
        try:
            async with asyncio.timeout(within):
                while (found := self.find(text)) is None:
                    self._arrived.clear()
                    await self._arrived.wait()
                return found
        except TimeoutError:
            return None

    def find(self, text: str, near: str | None = None) -> str | None:
        """An element whose text or label is `text`; with `near`, one in the same row as an element showing `near`."""
        candidates = [i for i, e in self.elements.items() if text in (e.get("text"), e.get("props", {}).get("label"))]
        if near is not None:
            rows = [self._parent(i) for i, e in self.elements.items() if e.get("text") == near]
            candidates = [i for i in candidates if self._parent(i) in rows]
        return self._listening(candidates[0]) if candidates else None

    def _listening(self, element_id: str) -> str:
        """The element, or its nearest ancestor that has event listeners (a menu item's text sits in a child)."""
        current: str | None = element_id
        while current is not None and "events" not in self.known[current]:
            current = self._parent(current)
        return current or element_id

    def _parent(self, element_id: str) -> str | None:
        return next((i for i, e in self.known.items() if int(element_id) in e.get("children", [])), None)

    async def fire(self, element_id: str, event_type: str, *args: Any) -> None:
        listener = next(e for e in self.known[element_id]["events"] if e["type"] == event_type)
        await self.sio.emit(
            "event",
            {
                "id": int(element_id),
                "client_id": self.client_id,
                "listener_id": listener["listener_id"],
                "args": [json.dumps(a) for a in args],
            },
        )

    async def click(self, element_id: str) -> None:
        await self.fire(element_id, "click")

    async def set_value(self, element_id: str, value: str) -> None:
        kind = next(e["type"] for e in self.known[element_id]["events"] if e["type"].startswith("update:"))
        await self.fire(element_id, kind, value)
