"""Knowledge in the message box (issue 25): typing `#` lists the person's collections (and those shared with
everyone), then their single documents; Tab, Enter or a click attaches one to the chat, and its chip above the box
(✕ detaches it) says the replies answer from it. A chip names what it is: a collection (its book icon), or a single
document (a page icon, and the collection it comes from), so one attached document is not mistaken for a whole
collection. In a new chat the choice waits for the first message, which makes
the conversation with it.

Works like the `/` list of saved prompts (`chatui.ui.chat.slash`): the box's value reaches the server at each
keystroke anyway, and the keys are taken from the browser only while the list is open. The `#name` typed is taken
out of the message once a collection is chosen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nicegui import ui

from chatui.ui.chat.typeahead import Typeahead
from chatui.ui.wording import counted

if TYPE_CHECKING:
    from chatui.ui.chat.view import ChatView

HASH = re.compile(r"(^|\s)#([\w-]{0,40})$")


@dataclass(frozen=True, slots=True)
class Option:
    """A collection or a single document the `#` list offers."""

    id: str
    name: str
    caption: str
    kind: Literal["collection", "document"] = "collection"
    within: str = ""
    """A document's collection."""

    @property
    def described(self) -> str:
        """What the chip says after the name, and what a screen reader hears with it."""
        return f"document in {self.within}" if self.kind == "document" else "collection"


class KnowledgePicker(Typeahead[Option]):
    """The `#` list above the message box, and the chips of the collections attached."""

    def __init__(self, view: ChatView) -> None:
        self.options: list[Option] = []
        self.attached: list[str] = []
        box = view.box
        with box.footer:
            self.chips = ui.row().classes("chatui-column gap-0").mark("knowledge-chips")
            panel = ui.list().props('dense role=listbox aria-label="Knowledge collections"')
            panel.classes("chatui-column chatui-slash").mark("knowledge-menu")
        self.chips.move(box.footer, target_index=box.footer.default_slot.children.index(box.row))
        super().__init__(view, panel, "chatui-hash")

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
                counted(c.documents, "document") + (" · shared" if c.shared else ""),
            )
            for c in collections
        ]
        for d in await view.services.knowledge.documents(view.user.id):
            within = names.get(d.collection_id, "a collection")
            self.options.append(Option(d.id, d.name, f"in {within}", "document", within))
        if view.conversation is not None and view.conversation.knowledge:
            self.attached = await view.services.knowledge.readable(view.user.id, view.conversation.knowledge)
        self._draw_chips()

    def for_new_conversation(self) -> dict[str, Any]:
        return {"knowledge": list(self.attached)} if self.attached else {}

    def trigger(self, value: str) -> str | None:
        found = HASH.search(value)
        return None if found is None else found.group(2).lower()

    def matching(self, typed: str) -> list[Option]:
        chosen = [c for c in self.options if c.id not in self.attached]
        first = [c for c in chosen if c.name.lower().startswith(typed)]
        return first + [c for c in chosen if c not in first and typed in c.name.lower()]

    def _draw(self, typed: str = "") -> None:
        self._opened()
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

    async def pick(self, choice: Option) -> None:
        await self.attach(choice)

    async def attach(self, chosen: Option) -> None:
        view = self._view()
        if view is None:
            return
        self.close()
        view.composer.value = HASH.sub(lambda m: m.group(1), view.composer.value or "").rstrip()
        if await self._save([*self.attached, chosen.id]):
            ui.notify(f"Replies in this chat now answer from {chosen.name} ({chosen.described}).")
        view.composer.run_method("focus")

    async def detach(self, collection_id: str) -> None:
        await self._save([c for c in self.attached if c != collection_id])

    async def _save(self, attached: list[str]) -> bool:
        view = self._view()
        if view is None:
            return False
        if view.conversation is not None and not await view.change_settings(knowledge=attached):
            return False
        self.attached = attached
        self._draw_chips()
        return True

    def _draw_chips(self) -> None:
        known = {option.id: option for option in self.options}
        self.chips.clear()
        with self.chips:
            for attached_id in self.attached:
                option = known.get(attached_id, Option(attached_id, "knowledge", ""))
                chip = ui.chip(
                    f"#{option.name}",
                    icon="description" if option.kind == "document" else "menu_book",
                    removable=True,
                    on_value_change=lambda _e, c=attached_id: self.detach(c),
                )
                chip.props("dense outline").classes("chatui-knowledge-chip").mark("knowledge-chip")
                with chip:
                    ui.label(option.described).classes("chatui-knowledge-kind")
        self.chips.visible = bool(self.attached)
