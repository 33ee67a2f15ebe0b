"""Finding one's way in a long chat: **Jump to start** and **Jump to latest**, and stepping through search hits.

The chat is a window of a few pages over the conversation (`chatui.ui.message_list`), so a jump is a new window:
the first page (`open(start=True)`), the last, or the page around a hit, which then lands centred in the view
(`chatui.centre` in chatui.js). The jump buttons show once the conversation is longer than the window.

Search remembers: the sidebar's query and its hits (`chatui.ui.search.SearchPanel`) stay after a hit is opened. A hit
in this conversation opens in place; one in another opens that conversation's page with the query (`?q=`), which
runs it again. Once a hit is open, a bar says "Result i of n" and steps to the previous or next hit without retyping;
✕ ends the search. The address follows (`?message=…&q=…`), so a reload comes back to the same hit.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nicegui import ui

from chatui.ui.search import SearchPanel, hit_url
from chatui.ui.weak import weakly

if TYPE_CHECKING:
    from chatui.ui.chat.view import ChatView


class Finder:
    def __init__(self, view: ChatView, search: SearchPanel, query: str, at: str | None) -> None:
        # A weak reference: the view holds this, and a cycle would keep a closed page for the full collection.
        self._view = weakref.ref(view)
        self.search = search
        self.index: int | None = None
        """Which hit is open (its place in `search.hits`), None before one is."""
        self.opened: str | None = None
        """The message of the hit opened last."""
        self._restore = (query, at) if query and at else None
        search.on_choose = weakly(self.open_hit)  # weakly: the view holds both, and they must not hold each other
        search.on_results = weakly(self._results)
        view.messages.on_window = weakly(self._window)
        with ui.page_sticky(position="top-right", x_offset=12, y_offset=8):
            with ui.row().classes("chatui-finder items-center no-wrap gap-0").mark("search-stepper") as self.bar:
                self.label = ui.label().classes("text-sm q-px-sm").props("aria-live=polite").mark("search-position")
                self.previous = self._button("Previous result", "keyboard_arrow_up", lambda: self.step(-1))
                self.next = self._button("Next result", "keyboard_arrow_down", lambda: self.step(1))
                self._button("Close search", "close", self.close)
            self.bar.visible = False
        with ui.page_sticky(position="bottom-right", x_offset=16, y_offset=16):
            with ui.column().classes("chatui-jumps gap-2") as self.jumps:
                self._button("Jump to start", "vertical_align_top", self.to_start).mark("jump-start")
                self._button("Jump to latest", "vertical_align_bottom", self.to_latest).mark("jump-latest")
            self.jumps.visible = False
        if self._restore:
            search.input.value = query  # the sidebar's box runs the query again; `_results` then finds the hit

    @staticmethod
    def _button(label: str, icon: str, action: Callable[[], Any]) -> ui.button:
        button = ui.button(icon=icon, on_click=action).props("round dense flat").classes("chatui-jump")
        button.props["aria-label"] = button.props["title"] = label
        return button

    @property
    def view(self) -> ChatView:
        view = self._view()
        if view is None:  # only a closed page's, whose clicks no longer arrive
            raise RuntimeError("the page of this finder is gone")
        return view

    # -- jumps ----------------------------------------------------------------------------------------------------

    def _window(self) -> None:
        messages = self.view.messages
        if messages.has_older or messages.has_newer:
            self.jumps.visible = True  # a long chat stays long: the buttons stay once shown

    async def _reopen(self, *, at: str | None = None, start: bool = False) -> bool:
        view = self.view
        assert view.conversation is not None
        current = view.conversations.current(view.conversation.id)
        found = await view.messages.open(view.conversation.id, current, at, start=start)
        view.rows.mark_last()
        return found

    async def to_start(self) -> None:
        if self.view.messages.has_older:
            await self._reopen(start=True)
        ui.run_javascript("chatui.toTop()")

    async def to_latest(self) -> None:
        if self.view.messages.has_newer:
            await self._reopen()
        ui.run_javascript("chatui.toBottom()")

    # -- search hits ----------------------------------------------------------------------------------------------

    async def open_hit(self, index: int) -> None:
        """Open hit `index`: in place when it is in this conversation, else on its conversation's page."""
        hit = self.search.hits[index]
        view = self.view
        if view.conversation is None or hit.conversation_id != view.conversation.id or not hit.message_id:
            ui.navigate.to(hit_url(hit, self.search.query))
            return
        self.index, self.opened = index, hit.message_id
        if await self._reopen(at=hit.message_id) and view.messages.target is not None:
            ui.run_javascript(f"chatui.centre({view.messages.target.id})")
        ui.navigate.history.replace(hit_url(hit, self.search.query))
        self._show()

    async def step(self, by: int) -> None:
        if self.index is not None and 0 <= self.index + by < len(self.search.hits):
            await self.open_hit(self.index + by)

    def close(self) -> None:
        self.index = self.opened = None
        self.bar.visible = False
        self.search.input.value = ""

    def _results(self) -> None:
        """The hits changed (a new query, or the one carried here run again): where the open message is among them."""
        if self._restore is not None:
            query, self.opened = self._restore
            if self.search.query != query:
                return  # not yet the answer to the carried query
            self._restore = None
        ids = [hit.message_id for hit in self.search.hits]
        self.index = ids.index(self.opened) if self.opened is not None and self.opened in ids else None
        self._show()

    def _show(self) -> None:
        count = len(self.search.hits)
        self.bar.visible = self.index is not None and bool(self.search.query)
        if self.index is None:
            return
        self.label.text = f"Result {self.index + 1} of {count}"
        self.previous.set_enabled(self.index > 0)
        self.next.set_enabled(self.index < count - 1)
