"""The Prompt library section of the settings page (`/settings#prompts`): the saved prompts the message box inserts
after `/`, made, changed and deleted through the same service as `/api/prompts`.

Each row shows `/name`, the title and the variables the prompt will ask for. The dialog stays open with the rule's
words when a value is refused (a name of two words, one already used, an empty text).
"""

from __future__ import annotations

from nicegui import ui

from chatui.bootstrap import Services
from chatui.conversations.errors import ConversationError
from chatui.conversations.prompts import PROMPT_TEXT_MAX, variables
from chatui.ui import dialogs
from chatui.ui.sections import list_section
from storage import SignedIn
from storage.presets import SavedPrompt


class PromptSection:
    def __init__(self, services: Services, signed_in: SignedIn) -> None:
        self.services = services
        self.user = signed_in.user

    async def build(self) -> None:
        self.list = list_section(
            "prompt",
            "Prompt library",
            "Type / at the start of a message to insert one; {{variables}} in its text are asked for.",
            lambda: self.edit(None),
        )
        await self.refresh()

    async def refresh(self) -> None:
        prompts = await self.services.prompts.list(self.user.id)
        self.list.clear()
        with self.list:
            if not prompts:
                with ui.item():
                    ui.item_label("No saved prompts yet.").classes("chatui-muted text-sm").mark("no-prompts")
            for prompt in prompts:
                with ui.item().mark("prompt-row"):
                    with ui.item_section():
                        ui.item_label(f"/{prompt.name}" + (f" · {prompt.title}" if prompt.title else ""))
                        names = variables(prompt.text)
                        caption = "Asks for " + ", ".join(names) if names else prompt.text.replace("\n", " ")[:80]
                        ui.item_label(caption).classes("text-xs chatui-muted ellipsis")
                    with ui.item_section().props("side"), ui.row().classes("no-wrap gap-0"):
                        edit = ui.button(icon="edit", on_click=lambda p=prompt: self.edit(p))
                        edit.props(f'flat round dense aria-label="Edit /{prompt.name}"').mark("edit-prompt")
                        delete = ui.button(icon="delete", on_click=lambda p=prompt: self.delete(p))
                        delete.props(f'flat round dense aria-label="Delete /{prompt.name}"').mark("delete-prompt")

    async def delete(self, prompt: SavedPrompt) -> None:
        if not await dialogs.confirm(
            "Delete this prompt?", f"/{prompt.name} leaves the library.", "Delete", danger=True, marker="confirm-delete"
        ):
            return
        try:
            await self.services.prompts.delete(self.user.id, prompt.id)
        except ConversationError as exc:
            ui.notify(exc.message, type="warning")
        await self.refresh()

    async def edit(self, prompt: SavedPrompt | None) -> None:
        with (
            ui.dialog().props('aria-label="Saved prompt"') as dialog,
            ui.card().classes("chatui-dialog chatui-settings-dialog").mark("prompt-dialog"),
        ):
            ui.label("New prompt" if prompt is None else "Edit prompt").classes("text-lg font-medium")
            name = ui.input("Name (typed after /)", value=prompt.name if prompt else "").props(
                "outlined dense autofocus"
            )
            name.classes("w-full").mark("prompt-name")
            title = ui.input("Title", value=(prompt.title if prompt else None) or "").props("outlined dense")
            title.classes("w-full").mark("prompt-title")
            text = ui.textarea("Text", value=prompt.text if prompt else "").classes("w-full").mark("prompt-text")
            text.props(f'outlined autogrow counter maxlength={PROMPT_TEXT_MAX} hint="{{{{name}}}} asks for name"')
            error = ui.label().classes("chatui-error-text text-sm").props("role=alert").mark("dialog-error")
            error.visible = False

            async def save() -> None:
                try:
                    if prompt is None:
                        await self.services.prompts.create(
                            self.user.id, name.value or "", text.value or "", title.value
                        )
                    else:
                        await self.services.prompts.update(
                            self.user.id, prompt.id, name=name.value or "", title=title.value, text=text.value or ""
                        )
                except ConversationError as exc:
                    error.text, error.visible = exc.message, True
                    return
                dialog.submit(True)

            with ui.row().classes("w-full justify-end gap-2"):
                ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
                ui.button("Save", on_click=save).props("unelevated no-caps").mark("save-prompt")
        saved = await dialog
        dialog.delete()
        if saved:
            await self.refresh()
