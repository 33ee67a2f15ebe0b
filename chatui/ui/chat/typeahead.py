"""A list that opens above the message box while a trigger is typed (`/` for saved prompts, `#` for knowledge).

The box's value reaches the server at each keystroke anyway, so the list is computed there and typing sends nothing
more. Tab, ↑/↓ and Esc are taken from the browser only while the list is open — a guard in each listener looks for
the panel's `data-open` — so the rest of the time Tab moves focus as usual; Enter picks instead of sending while the
list offers something (`take`, called first by the page's send).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from nicegui import ui

if TYPE_CHECKING:
    from chatui.ui.chat.view import ChatView

T = TypeVar("T")
SHOWN = 8


class Typeahead(Generic[T]):
    """The list's state and keys; a subclass fills the panel (`_draw`) and says what picking does (`pick`)."""

    def __init__(self, view: ChatView, panel: ui.element, open_class: str) -> None:
        self._view = weakref.ref(view)  # the view holds this: no cycle to keep a closed page alive
        self.matches: list[T] = []
        self.index = 0
        self.panel = panel
        panel.classes(open_class)
        box = view.box
        panel.move(box.footer, target_index=box.footer.default_slot.children.index(box.row))  # just above the box
        panel.visible = False
        guard = (
            f"(e) => {{ if (document.querySelector('.{open_class}[data-open]')) {{ e.preventDefault(); emit(); }} }}"
        )
        box.textarea.on_value_change(self._typed)
        box.textarea.on("keydown.tab", self.take, js_handler=guard)
        box.textarea.on("keydown.down", lambda: self._move(1), js_handler=guard)
        box.textarea.on("keydown.up", lambda: self._move(-1), js_handler=guard)
        box.textarea.on("keydown.esc", self.close, js_handler=guard)

    async def _typed(self, event: Any) -> None:
        typed = self.trigger(event.value or "")
        if typed is None:
            if self.panel.visible:
                self.close()
            return
        if not self.panel.visible:
            await self.opening()
            typed = self.trigger(self.box_value())  # the box may have changed while the choices were read
            if typed is None:
                return
        self.matches, self.index = self.matching(typed)[:SHOWN], 0
        self._draw(typed)

    async def opening(self) -> None:
        """Called as the list opens, before it is drawn: the place to read choices fresh (once an opening, not at
        each keystroke), so that one added in another tab is offered without a reload."""

    def box_value(self) -> str:
        view = self._view()
        return "" if view is None else str(view.box.textarea.value or "")

    def trigger(self, value: str) -> str | None:
        """What follows the trigger in the box's `value`, or None when the list should not be open."""
        raise NotImplementedError

    def matching(self, typed: str) -> list[T]:
        raise NotImplementedError

    def _draw(self, typed: str = "") -> None:
        raise NotImplementedError

    async def pick(self, choice: T) -> None:
        raise NotImplementedError

    def _opened(self) -> None:
        """The panel shown, marked open (for the keys' guard) only while it offers something."""
        self.panel.clear()
        self.panel.visible = True
        if self.matches:
            self.panel.props["data-open"] = ""
        else:
            self.panel.props.pop("data-open", None)

    def _move(self, step: int) -> None:
        if self.matches:
            self.index = (self.index + step) % len(self.matches)
            self._draw()

    def close(self) -> None:
        self.matches = []
        self.panel.props.pop("data-open", None)
        self.panel.visible = False
        self.panel.clear()

    async def take(self) -> bool:
        """Pick the highlighted choice if the list offers one (True: Enter was for this, not for sending)."""
        if not self.panel.visible or not self.matches:
            return False
        await self.pick(self.matches[self.index])
        return True
