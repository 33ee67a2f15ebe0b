"""Knowledge in the message box (issue 25): typing `#` lists the person's collections (and those shared with
everyone), then their single documents; Tab, Enter or a click attaches one to the chat, and its chip above the box
(✕ detaches it) says the replies answer from it. In a new chat the choice waits for the first message, which makes
the conversation with it.

Works like the `/` list of saved prompts (`chatui.ui.chat.slash`): the box's value reaches the server at each
keystroke anyway, and the keys are taken from the browser only while the list is open. The `#name` typed is taken
out of the message once a collection is chosen.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nicegui import ui

from chatui.conversations.errors import ConversationError

if TYPE_CHECKING:
    from chatui.ui.chat.view import ChatView

SHOWN = 8
HASH = re.compile(r"(^|\s)#([\w-]{0,40})$")
GUARD = "(e) => { if (document.querySelector('.chatui-hash[data-open]')) { e.preventDefault(); emit(); } }"


@dataclass(frozen=True, slots=True)
class Option:
    """A collection or a single document the `#` list offers."""

    id: str
    name: str
    caption: str


class KnowledgePicker:
    """The `#` list above the message box, and the chips of the collections attached."""

    def __init__(self, view: ChatView) -> None:
        self._view = weakref.ref(view)  # the view holds this: no cycle to keep a closed page alive
        self.options: list[Option] = []
        self.attached: list[str] = []
        self.matches: list[Option] = []
        self.index = 0
        box = view.box
        with box.footer:
            self.chips = ui.row().classes("chatui-column gap-0").mark("knowledge-chips")
            self.panel = ui.list().props('dense role=listbox aria-label="Knowledge collections"')
            self.panel.classes("chatui-column chatui-slash chatui-hash").mark("knowledge-menu")
        for element in (self.chips, self.panel):
            element.move(box.footer, target_index=box.footer.default_slot.children.index(box.row))
        self.panel.visible = False
        box.textarea.on_value_change(self._typed)
        box.textarea.on("keydown.tab", self.take, js_handler=GUARD)
        box.textarea.on("keydown.down", lambda: self._move(1), js_handler=GUARD)
        box.textarea.on("keydown.up", lambda: self._move(-1), js_handler=GUARD)
        box.textarea.on("keydown.esc", self.close, js_handler=GUARD)

    async def load(self) -> None:
        view = self._view()
        if view is None:
            return
        collections = await view.services.knowledge.collections(view.user.id)
        names = {c.id: c.name for c in collections}
        self.options = [
            Option(
                c.id,
                c.name,
                f"{c.documents} document{'s' if c.documents != 1 else ''}" + (" · shared" if c.shared else ""),
            )
            for c in collections
        ] + [
            Option(d.id, d.name, f"in {names.get(d.collection_id, 'a collection')}")
            for d in await view.services.knowledge.documents(view.user.id)
        ]
        if view.conversation is not None and view.conversation.knowledge:
            self.attached = await view.services.knowledge.readable(view.user.id, view.conversation.knowledge)
        self._draw_chips()

    def for_new_conversation(self) -> dict[str, Any]:
        return {"knowledge": list(self.attached)} if self.attached else {}

    def _typed(self, event: Any) -> None:
        found = HASH.search(event.value or "")
        if found is None:
            if self.panel.visible:
                self.close()
            return
        typed = found.group(2).lower()
        chosen = [c for c in self.options if c.id not in self.attached]
        first = [c for c in chosen if c.name.lower().startswith(typed)]
        self.matches = (first + [c for c in chosen if c not in first and typed in c.name.lower()])[:SHOWN]
        self.index = 0
        self._draw(typed)

    def _draw(self, typed: str = "") -> None:
        self.panel.clear()
        self.panel.visible = True
        if self.matches:
            self.panel.props["data-open"] = ""
        else:
            self.panel.props.pop("data-open", None)
        with self.panel:
            for i, option in enumerate(self.matches):
                item = ui.item(on_click=lambda o=option: self.attach(o)).props("clickable").mark("knowledge-option")
                item.props(f"role=option aria-selected={'true' if i == self.index else 'false'}")
                if i == self.index:
                    item.classes("chatui-slash-active")
                with item, ui.item_section():
                    ui.item_label(f"#{option.name}").classes("text-weight-medium")
                    ui.item_label(option.caption).props("caption")
            if not self.matches:
                said = "No knowledge collections yet" if not self.options else f"Nothing matches #{typed}"
                with ui.item().mark("knowledge-empty"), ui.item_section():
                    ui.item_label(said).classes("text-sm chatui-muted")
                    ui.link("Add documents in Knowledge", "/knowledge").classes("text-sm")
        self.panel.update()

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
        """Attach the highlighted collection if the list offers one (True: Enter was for this, not for sending)."""
        if not self.panel.visible or not self.matches:
            return False
        await self.attach(self.matches[self.index])
        return True

    async def attach(self, collection: Option) -> None:
        view = self._view()
        if view is None:
            return
        self.close()
        view.composer.value = HASH.sub(lambda m: m.group(1), view.composer.value or "").rstrip()
        if await self._save([*self.attached, collection.id]):
            ui.notify(f"Replies in this chat now answer from {collection.name}.")
        view.composer.run_method("focus")

    async def detach(self, collection_id: str) -> None:
        await self._save([c for c in self.attached if c != collection_id])

    async def _save(self, attached: list[str]) -> bool:
        view = self._view()
        if view is None:
            return False
        if view.conversation is not None:
            try:
                view.conversation = await view.services.conversations.update_settings(
                    view.user.id, view.conversation.id, knowledge=attached
                )
            except ConversationError as exc:
                ui.notify(exc.message, type="warning")
                return False
        self.attached = attached
        self._draw_chips()
        return True

    def _draw_chips(self) -> None:
        names = {option.id: option.name for option in self.options}
        self.chips.clear()
        with self.chips:
            for collection_id in self.attached:
                chip = ui.chip(
                    f"#{names.get(collection_id, 'collection')}",
                    icon="menu_book",
                    removable=True,
                    on_value_change=lambda _e, c=collection_id: self.detach(c),
                )
                chip.props("dense outline").classes("chatui-knowledge-chip").mark("knowledge-chip")
        self.chips.visible = bool(self.attached)
