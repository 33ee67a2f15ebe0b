"""Saved prompts in the message box: typing `/` at its start lists them, and Tab, Enter or a click inserts one.

The list shows the prompts whose name starts with what follows `/` (then those whose name or title holds it), and
narrows as the person types; ↑/↓ move the highlight, Esc closes it. A prompt with `{{variables}}` asks for them in a
small dialog and is inserted filled in (`chatui.conversations.prompts.fill`). The box's value reaches the server at
each keystroke anyway; this reads it there, so typing sends nothing more. Tab and the arrows are taken from the
browser only while the list is open (a guard in the listener), so Tab still moves focus the rest of the time; Enter
inserts instead of sending while the list offers a prompt (`take`, called first by the page's send).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from nicegui import ui

from chatui.conversations.prompts import fill, variables
from chatui.ui import dialogs
from chatui.ui.chat.typeahead import SHOWN, Typeahead
from storage.presets import SavedPrompt

if TYPE_CHECKING:
    from chatui.ui.chat.view import ChatView

COMMAND = re.compile(r"/([\w-]{0,40})")


def matching(prompts: list[SavedPrompt], typed: str) -> list[SavedPrompt]:
    """The prompts for `/typed`: names that start with it first, then names or titles that hold it."""
    query = typed.lower()
    first = [p for p in prompts if p.name.startswith(query)]
    then = [p for p in prompts if p not in first and (query in p.name or query in (p.title or "").lower())]
    return (first + then)[:SHOWN]


class SlashPrompts(Typeahead[SavedPrompt]):
    """The `/` list above the message box."""

    def __init__(self, view: ChatView) -> None:
        self.prompts: list[SavedPrompt] = []
        self.box = view.box
        view.box.textarea.props["aria-autocomplete"] = "list"
        with view.box.footer:
            panel = ui.element("div").classes("chatui-column").mark("slash-menu")
        super().__init__(view, panel, "chatui-slash")

    async def opening(self) -> None:
        """The prompts are read as `/` opens the list (one query), not when the page is built: a prompt saved in
        another tab, or through the API, is offered at once."""
        view = self._view()
        if view is not None:
            self.prompts = await view.services.prompts.list(view.user.id)

    def trigger(self, value: str) -> str | None:
        command = COMMAND.fullmatch(value)
        return None if command is None else command.group(1)

    def matching(self, typed: str) -> list[SavedPrompt]:
        return matching(self.prompts, typed)

    def _draw(self, typed: str = "") -> None:
        self._opened()
        with self.panel:
            if self.matches:
                with ui.list().props('dense role=listbox aria-label="Saved prompts"') as listbox:
                    options = [self._option(prompt, i == self.index) for i, prompt in enumerate(self.matches)]
                self._announce(f"c{listbox.id}", f"c{options[self.index].id}")
            else:
                self._announce(None, None)
                said = "No saved prompts yet" if not self.prompts else f"No saved prompt matches /{typed}"
                with ui.row().classes("items-center gap-2 q-px-md q-py-sm").mark("slash-empty"):
                    ui.label(said).classes("text-sm chatui-muted")
                    ui.link("Add prompts in Settings", "/settings#prompts").classes("text-sm")
        self.panel.update()

    def _announce(self, listbox: str | None, active: str | None) -> None:
        """Tell assistive technology which option is highlighted while focus stays in the box (the box's textarea
        gets these attributes: Quasar passes them on)."""
        textarea = self.box.textarea
        for name, value in (("aria-controls", listbox), ("aria-activedescendant", active)):
            if value is None:
                textarea.props.pop(name, None)
            else:
                textarea.props[name] = value
        textarea.update()

    def _option(self, prompt: SavedPrompt, active: bool) -> ui.item:
        item = ui.item(on_click=lambda: self.insert(prompt)).props("clickable").mark("slash-prompt")
        item.props(f"role=option aria-selected={'true' if active else 'false'}")
        if active:
            item.classes("chatui-slash-active")
        with item, ui.item_section():
            ui.item_label(f"/{prompt.name}").classes("text-weight-medium")
            if prompt.title:
                ui.item_label(prompt.title).classes("text-xs chatui-muted")
        return item

    def close(self) -> None:
        if self.matches:
            self._announce(None, None)
        super().close()

    async def pick(self, choice: SavedPrompt) -> None:
        await self.insert(choice)

    async def insert(self, prompt: SavedPrompt) -> None:
        """Put the prompt in the message box, its variables asked for first (cancelling leaves the box as it was)."""
        view = self._view()
        if view is None:
            return
        self.close()
        text = prompt.text
        names = variables(text)
        if names:
            fields = [dialogs.Field(name, name) for name in names]
            values = await dialogs.form(f"/{prompt.name}", fields, "Insert", text=prompt.title, marker="insert-prompt")
            if values is None:
                return
            text = fill(text, values)
        view.composer.value = text
        view.composer.run_method("focus")
