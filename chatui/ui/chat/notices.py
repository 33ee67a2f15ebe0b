"""What the chat page says about its model, above the messages: the provider banner when the chosen model cannot
answer; in a new chat that started on a stand-in for the default, a quiet note (dismissed per person, remembered for
that default); in an imported chat moved to a model that answers here, which model wrote it. At most one shows."""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from nicegui import ui

from chatui.ui.provider_banner import fallback_note, model_problem, show_note, show_problem
from providers.registry import ModelInfo, ProviderStatus

if TYPE_CHECKING:
    from chatui.ui.chat.view import ChatView


class ModelNotices:
    def __init__(self, view: ChatView) -> None:
        # A weak reference: the view holds these notices, and a cycle would keep a closed page for the full collection.
        self._view = weakref.ref(view)
        self.listing: tuple[list[ModelInfo], list[ProviderStatus]] | None = None
        """The models and the providers' states, once read (`ChatView._load_models`)."""
        self.banner: ui.element | None = None
        self.note: ui.element | None = None
        self.imported_note: str | None = None
        """Which model wrote this imported conversation and which it continues on (`chatui.conversations.imported`)."""
        self.fallback: str | None = None
        """The model a new chat started on because the default cannot answer (`ModelRegistry.model_for_new_chat`)."""

    @property
    def view(self) -> ChatView:
        view = self._view()
        if view is None:  # only a closed page's notices, whose clicks no longer arrive
            raise RuntimeError("the page of these notices is gone")
        return view

    def show(self) -> None:
        """The banner, the note, or nothing, for the model chosen now; the empty chat's prompt when nothing is
        wrong."""
        view = self.view
        for shown in (self.banner, self.note):
            if shown is not None:
                shown.delete()
        self.banner = self.note = None
        admin = view.user.is_admin
        problem = model_problem(view.model, *self.listing, admin=admin) if self.listing is not None else None
        if problem is not None:
            with view.messages.element:
                self.banner = show_problem(problem)
            self.banner.move(view.messages.element, target_index=0)
        elif self.listing is not None and self.fallback == view.model and self._wanted():
            default = view.services.models.default_model
            why = model_problem(default, *self.listing)
            self._note(fallback_note(default, view.model, why, admin=admin), self._dismiss)
        elif self.imported_note is not None:
            self._note(self.imported_note, self._hide_imported_note)
        view.messages.empty_state.visible = problem is None and not view.messages.shown

    def _note(self, text: str, dismiss: Callable[[], Awaitable[None]]) -> None:
        messages = self.view.messages
        with messages.element:
            self.note = show_note(text, dismiss)
        self.note.move(messages.element, target_index=0)

    async def _hide_imported_note(self) -> None:
        self.imported_note = None
        self.show()

    def _wanted(self) -> bool:
        view = self.view
        return view.user.dismissed_fallback != view.services.models.default_model

    async def _dismiss(self) -> None:
        view = self.view
        default = view.services.models.default_model
        await view.services.accounts.dismiss_fallback_note(view.user.id, default)
        view.user.dismissed_fallback = default
        self.show()
