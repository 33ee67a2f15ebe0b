"""The Think control: beside the message box, how hard the chat's model is asked to think (off, low, medium, high).

It shows only where the chosen model can think (`ModelRegistry.can_think`: Ollama's `/api/show` capabilities, OpenAI's
reasoning models, Claude from 3.7), asked off the page build and again when the model changes. An open conversation
stores the choice at once (`reasoning_effort`, as `PATCH /api/conversations/{id}` does); a new chat keeps it for the
conversation its first message creates. "Off" stores none: the model then thinks as it does by default (a model that
always thinks still does; the engine sends no effort).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from nicegui import ui

from providers.base import EFFORTS, Effort

if TYPE_CHECKING:
    from chatui.ui.chat.view import ChatView

LABELS: dict[Effort | None, str] = {None: "Off", "low": "Low", "medium": "Medium", "high": "High"}


class ThinkControl:
    """The Think button and its menu in the composer's row; hidden until the model is known to think."""

    def __init__(self, view: ChatView) -> None:
        self._view = weakref.ref(view)  # the view holds this control: no cycle to keep a closed page alive
        conversation = view.conversation
        effort = conversation.reasoning_effort if conversation is not None else None
        self.effort: Effort | None = effort if effort in EFFORTS else None
        self.pending = False
        """A new chat's choice was made (it goes with the first message)."""
        box = view.box
        with box.row:
            self.button = (
                ui.button(icon="psychology")
                .props("flat dense no-caps no-wrap")
                .classes("chatui-think")
                .mark("think-button")
            )
            with self.button, ui.menu().props('aria-label="Think"') as self.menu:
                self.items = {
                    choice: ui.menu_item(label, on_click=lambda _=None, e=choice: self.choose(e)).mark(
                        f"think-{label.lower()}"
                    )
                    for choice, label in LABELS.items()
                }
        place = box.row.default_slot.children.index(box.textarea)
        self.button.move(box.row, target_index=place)  # just before the message box, after the other controls
        self.button.visible = False
        self._show()

    @property
    def view(self) -> ChatView:
        view = self._view()
        if view is None:
            raise RuntimeError("the page of this control is gone")
        return view

    def _show(self) -> None:
        label = LABELS[self.effort]
        self.button.text = "Think" if self.effort is None else label
        self.button.props(f'aria-label="Think: {label.lower()}" title="Think: {label.lower()}"')
        if self.effort is None:  # a phone shows only its icon then (chatui.css)
            self.button.classes(add="chatui-think-off")
        else:
            self.button.classes(remove="chatui-think-off")
        self.button.update()
        for choice, item in self.items.items():  # the effort in force is marked in the menu
            if choice == self.effort:
                item.props("active aria-current=true")
            else:
                item.props(remove="active aria-current")

    async def refresh(self) -> None:
        """Show the control when the page's model can think, hide it when not (asked of the provider, cached there)."""
        view = self.view
        can = await view.services.models.can_think(view.model)
        with view.client:
            self.button.visible = can

    async def choose(self, effort: Effort | None) -> None:
        view = self.view
        if view.conversation is None:
            self.effort, self.pending = effort, True
        elif await view.change_settings(reasoning_effort=effort):
            self.effort = effort
        else:
            return
        self._show()

    def for_new_conversation(self) -> dict[str, Any]:
        """What the first message's conversation is created with: the effort, if one was chosen."""
        return {"reasoning_effort": self.effort} if self.pending else {}
