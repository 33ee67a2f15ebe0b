"""Messages that match what is typed in the sidebar's search box, each opening its conversation at that message.

The box is the sidebar's own ("Search conversations", Ctrl/Cmd+K): typing there filters the conversation rows by
title (`chatui.ui.sidebar`) and lists here, above them, the messages that match (full-text, `SearchRepository`,
the same ranking as `GET /api/search`; matches in titles are left to the rows). A snippet is plain text with match
ranges; it becomes HTML here only by escaping every piece of text and wrapping the ranges in `<mark>`, so nothing a
message says can become markup. Typing is debounced in the browser (the box's Quasar `debounce`), and an answer that
arrives after a newer query's is dropped.

The query and its hits stay after one is opened: the chat page (`chatui.ui.chat.finder`) opens a hit in the same
conversation in place, and carries the query to another conversation's page (`?q=`), which runs it again; there it
steps through the hits ("Result 2 of 14") without retyping.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from nicegui import ui

from chatui.conversations.service import ConversationService
from storage import SearchHit

RESULTS = 20
ROLE_NAMES = {"user": "You", "assistant": "Assistant"}


def marked_html(snippet: str, highlights: list[tuple[int, int]]) -> str:
    """The snippet as HTML: every character escaped, each match in `<mark>`."""
    parts: list[str] = []
    position = 0
    for start, end in sorted(highlights):
        if start < position or end > len(snippet):
            continue
        parts += [html.escape(snippet[position:start]), "<mark>", html.escape(snippet[start:end]), "</mark>"]
        position = end
    parts.append(html.escape(snippet[position:]))
    return "".join(parts)


def hit_url(hit: SearchHit, query: str = "") -> str:
    """The conversation, opened at the message (a title match opens the conversation itself), the query kept."""
    url = f"/chat/{hit.conversation_id}" + (f"?message={hit.message_id}" if hit.message_id else "")
    return url + (f"{'&' if hit.message_id else '?'}q={quote(query)}" if query else "")


class SearchPanel:
    """The "Messages" results under a search box; hidden while the box is empty."""

    def __init__(self, search: ConversationService, user_id: str) -> None:
        self.search = search
        self.user_id = user_id
        self._asked = 0
        self.query = ""
        self.hits: list[SearchHit] = []
        """The hits shown now, best first: what "Result i of n" counts."""
        self.on_choose: Callable[[int], Awaitable[None]] | None = None
        """Opens hit `i` (the chat page's finder); without it, its page is loaded."""
        self.on_results: Callable[[], None] | None = None
        """Told when the hits change."""

    def attach(self, box: ui.input, *, before: ui.element) -> None:
        """Follow `box` (already debounced in the browser) and show the results just above `before`."""
        self.input = box
        slot = before.parent_slot
        assert slot is not None
        with slot:
            self.results = ui.list().props("dense").classes("w-full q-mb-sm").mark("search-results")
        self.results.move(slot.parent, target_index=slot.children.index(before))
        self.results.visible = False
        box.on_value_change(self._changed)

    async def _changed(self) -> None:
        query = self.input.value or ""
        self._asked += 1
        asked = self._asked
        if not query.strip():
            self._show(None, [])
            return
        hits = [h for h in await self.search.search(self.user_id, query, limit=RESULTS) if h.message_id]
        if asked == self._asked:  # a newer query may have been answered first
            self._show(query, hits)

    async def choose(self, index: int) -> None:
        if self.on_choose is not None:
            await self.on_choose(index)
        else:
            ui.navigate.to(hit_url(self.hits[index], self.query))

    def _show(self, query: str | None, hits: list[SearchHit]) -> None:
        self.query, self.hits = query or "", hits
        if self.on_results is not None:
            self.on_results()
        self.results.clear()
        self.results.visible = query is not None
        if query is None:
            return
        with self.results:
            ui.item_label("Messages").props("header").classes("text-xs q-pt-sm q-pb-xs")
            if not hits:
                ui.item_label("No messages match.").classes("chatui-muted q-px-md text-sm").mark("search-empty")
            for index, hit in enumerate(hits):
                with (
                    ui.item(on_click=lambda i=index: self.choose(i)).props("clickable").mark("search-result"),
                    ui.item_section(),
                ):
                    ui.item_label(hit.conversation_title or "New chat").classes("text-weight-medium truncate")
                    ui.item_label(ROLE_NAMES.get(hit.role, "")).props("caption")
                    ui.html(marked_html(hit.snippet, hit.highlights)).classes("chatui-snippet text-sm")
