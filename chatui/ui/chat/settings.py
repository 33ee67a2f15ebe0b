"""Chat settings: the dialog that sets a chat's system prompt, temperature, max tokens, top-p and seed, and the chip
that shows a set system prompt under the conversation (it opens the dialog).

A new chat has no conversation until its first message, so what is chosen there is kept by the page (`ChatSettings`)
and given to the conversation that message creates; an open conversation's settings are saved at once. Every value
is checked by the service's own rules (`chatui.conversations.rules`), and the dialog stays open with the rule's words
when one is broken.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from nicegui import ui

from chatui.conversations.errors import ConversationError, InvalidInput
from chatui.conversations.rules import SYSTEM_PROMPT_MAX, clean_settings
from storage import Conversation

if TYPE_CHECKING:
    from chatui.ui.chat.view import ChatView

CHIP_CHARS = 80
"""How much of the system prompt the chip shows (the dialog shows it whole)."""


@dataclass
class ChatSettings:
    """What a conversation's replies are asked with; None leaves the provider's default (no system prompt)."""

    system_prompt: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None
    seed: int | None = None

    @classmethod
    def of(cls, conversation: Conversation) -> ChatSettings:
        return cls(
            conversation.system_prompt,
            conversation.temperature,
            conversation.max_tokens,
            conversation.top_p,
            conversation.seed,
        )

    def values(self) -> dict[str, Any]:
        return asdict(self)


Save = Callable[[ChatSettings], Awaitable[str | None]]
"""Stores the settings; a message when they were refused (the dialog then stays open)."""


async def settings_dialog(current: ChatSettings, save: Save, *, new_chat: bool) -> ChatSettings | None:
    """Show the settings; the saved ones, or None when the person cancels."""
    with (
        ui.dialog().props('aria-label="Chat settings"') as dialog,
        ui.card().classes("chatui-dialog chatui-settings-dialog").mark("settings-dialog"),
    ):
        ui.label("Chat settings").classes("text-lg font-medium").props("role=heading aria-level=2")
        ui.label(
            "For this chat's first reply and every one after it."
            if new_chat
            else "This chat's next replies use them. Empty: the model's own default."
        ).classes("text-sm")
        prompt = (
            ui.textarea("System prompt", value=current.system_prompt or "")
            .props(f"outlined autogrow autofocus counter maxlength={SYSTEM_PROMPT_MAX}")
            .classes("w-full chatui-system-prompt")
            .mark("system-prompt")
        )
        with ui.element("div").classes("chatui-settings-grid w-full"):
            temperature = _number("Temperature", current.temperature, "0 to 2", 0.1, "temperature")
            top_p = _number("Top-p", current.top_p, "above 0, at most 1", 0.05, "top-p")
            max_tokens = _number("Max tokens", current.max_tokens, "the longest reply", 1, "max-tokens")
            seed = _number("Seed", current.seed, "not sent to Anthropic: its API has none", 1, "seed")
        error = ui.label().classes("chatui-error-text text-sm").props("role=alert").mark("dialog-error")
        error.visible = False

        async def submit() -> None:
            try:
                chosen = ChatSettings(
                    **clean_settings(
                        system_prompt=prompt.value,
                        temperature=temperature.value,
                        max_tokens=_whole(max_tokens.value),
                        top_p=top_p.value,
                        seed=_whole(seed.value),
                    )
                )
            except InvalidInput as exc:
                problem: str | None = exc.message
            else:
                problem = await save(chosen)
            if problem:
                error.text = problem
                error.visible = True
                return
            dialog.submit(chosen)

        with ui.row().classes("w-full justify-end gap-2"):
            ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
            ui.button("Save", on_click=submit).props("unelevated no-caps").mark("save-settings")
    result = await dialog
    dialog.delete()
    return result if isinstance(result, ChatSettings) else None


def _number(label: str, value: float | None, hint: str, step: float, marker: str) -> ui.number:
    """A number field that may be left empty (the model's default). No min/max on the element: Quasar would clamp
    what is typed without a word, where the rules say what is wrong."""
    return (
        ui.number(label, value=value, step=step)
        .props(f'outlined dense clearable hint="{hint}"')
        .classes("chatui-setting")
        .mark(marker)
    )


def _whole(value: float | None) -> Any:
    """A whole number as an int (ui.number gives floats); anything else as it is, for the rule to refuse."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


class SystemPromptChip:
    """Under the conversation, above the message box: the system prompt in force (its start), shown while there is
    one; pressing it opens the settings."""

    def __init__(self, on_open: Callable[[], Awaitable[None]]) -> None:
        with ui.row().classes("chatui-column chatui-chip-row no-wrap") as self.row:
            self.chip = (
                ui.button(icon="tune", on_click=on_open)
                .props("flat dense no-caps size=sm")
                .classes("chatui-prompt-chip")
                .mark("system-prompt-chip")
            )
        self.show(None)

    def show(self, prompt: str | None) -> None:
        self.row.visible = bool(prompt)
        if prompt:
            start = " ".join(prompt.split())
            start = start if len(start) <= CHIP_CHARS else start[:CHIP_CHARS].rstrip() + "…"
            self.chip.text = f"System prompt: {start}"
            self.chip.props["title"] = "Open chat settings"
            self.chip.update()


class SettingsControl:
    """The chat page's settings: the Chat settings button beside the message box, the chip above it, and, in a new
    chat, the settings chosen before its first message (`for_new_conversation`)."""

    def __init__(self, view: ChatView) -> None:
        # A weak reference: the view holds this control, and a cycle would keep a closed page for the full collection.
        self._view = weakref.ref(view)
        self.pending: ChatSettings | None = None
        """Chosen in a new chat, for the conversation its first message creates (None: the account's defaults)."""
        self.default_prompt: str | None = None
        box = view.box
        with box.row:
            button = ui.button(icon="tune", on_click=self.open).props("flat round dense aria-label='Chat settings'")
            button.mark("chat-settings-button")
        button.move(box.row, target_index=0)
        with box.footer:
            self.chip = SystemPromptChip(self.open)
        self.chip.row.move(box.footer, target_index=0)

    @property
    def view(self) -> ChatView:
        view = self._view()
        if view is None:  # only a closed page's control, whose clicks no longer arrive
            raise RuntimeError("the page of these settings is gone")
        return view

    async def load(self) -> None:
        """A new chat starts with the account's default instructions: read them, and show them on the chip."""
        view = self.view
        if view.conversation is None:
            self.default_prompt = await view.conversations.default_system_prompt(view.user.id)
        self.refresh()

    def refresh(self) -> None:
        """Show the system prompt in force on the chip (the conversation's, or what a new chat will start with)."""
        view = self.view
        if view.conversation is not None:
            self.chip.show(view.conversation.system_prompt)
        else:
            self.chip.show(self.pending.system_prompt if self.pending else self.default_prompt)

    def for_new_conversation(self) -> dict[str, Any] | None:
        """The settings the first message's conversation is created with (None: the account's defaults)."""
        return self.pending.values() if self.pending is not None else None

    async def open(self) -> None:
        view = self.view
        if view.conversation is None:
            current = self.pending or ChatSettings(system_prompt=self.default_prompt)

            async def keep(chosen: ChatSettings) -> str | None:
                self.pending = chosen
                return None

            await settings_dialog(current, keep, new_chat=True)
        else:
            conversation = await view.conversations.get(view.user.id, view.conversation.id)

            async def save(chosen: ChatSettings) -> str | None:
                try:
                    view.conversation = await view.conversations.update_settings(
                        view.user.id, conversation.id, **chosen.values()
                    )
                except ConversationError as exc:
                    return exc.message
                return None

            await settings_dialog(ChatSettings.of(conversation), save, new_chat=False)
        self.refresh()
