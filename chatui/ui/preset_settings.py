"""The Presets section of the settings page (`/settings#presets`): make, change and delete the presets **New chat**
offers, through the same service as `/api/presets`.

Each row says what the preset sets. A preset someone else published is listed with a "Published" badge and no edit
buttons (it is read-only for everyone but its owner and administrators); an administrator's dialog has a **Publish
to everyone** switch. The dialog stays open with the rule's words when a value is refused.
"""

from __future__ import annotations

from typing import Any

from nicegui import ui

from chatui.bootstrap import Services
from chatui.conversations.errors import ConversationError
from chatui.conversations.rules import SYSTEM_PROMPT_MAX
from chatui.ui import dialogs
from chatui.ui.sections import list_section
from chatui.ui.wording import counted
from storage import SignedIn
from storage.presets import Preset


def summary(preset: Preset) -> str:
    """What the preset sets, in a few words."""
    parts = [preset.model or "the default model"]
    if preset.temperature is not None:
        parts.append(f"temperature {preset.temperature:g}")
    if preset.tools:
        parts.append(counted(len(preset.tools), "tool"))
    if preset.system_prompt:
        parts.append("system prompt")
    return " · ".join(parts)


class PresetSection:
    def __init__(self, services: Services, signed_in: SignedIn) -> None:
        self.services = services
        self.user = signed_in.user

    async def build(self) -> None:
        self.list = list_section(
            "preset",
            "Presets",
            "A model, a system prompt, a temperature and tools to start a chat with: New chat's menu offers them.",
            lambda: self.edit(None),
        )
        await self.refresh()

    def writable(self, preset: Preset) -> bool:
        return preset.user_id == self.user.id or self.user.is_admin

    async def refresh(self) -> None:
        presets = await self.services.presets.list(self.user.id)
        self.list.clear()
        with self.list:
            if not presets:
                with ui.item():
                    ui.item_label("No presets yet.").classes("chatui-muted text-sm").mark("no-presets")
            for preset in presets:
                with ui.item().mark("preset-row"):
                    with ui.item_section():
                        with ui.row().classes("items-center gap-2 no-wrap"):
                            ui.item_label(preset.name).classes("text-weight-medium")
                            if preset.shared:
                                ui.badge("Published", color="primary").props("outline").mark("published")
                        ui.item_label(summary(preset)).classes("text-xs chatui-muted")
                    if self.writable(preset):
                        with ui.item_section().props("side"), ui.row().classes("no-wrap gap-0"):
                            edit = ui.button(icon="edit", on_click=lambda p=preset: self.edit(p))
                            edit.props(f'flat round dense aria-label="Edit {preset.name}"').mark("edit-preset")
                            delete = ui.button(icon="delete", on_click=lambda p=preset: self.delete(p))
                            delete.props(f'flat round dense aria-label="Delete {preset.name}"').mark("delete-preset")

    async def delete(self, preset: Preset) -> None:
        text = f"“{preset.name}” leaves New chat's menu. Chats started from it keep their settings."
        if not await dialogs.confirm("Delete this preset?", text, "Delete", danger=True, marker="confirm-delete"):
            return
        try:
            await self.services.presets.delete(self.user.id, preset.id, admin=self.user.is_admin)
        except ConversationError as exc:
            ui.notify(exc.message, type="warning")
        await self.refresh()

    async def edit(self, preset: Preset | None) -> None:
        """The dialog for a new preset (None) or one to change; the list shows the result."""
        models = [m.id for m in (await self.services.models.models())[0] if m.available]
        tools = [t.id for t in self.services.tools.tools()]
        current = list(preset.tools or []) if preset else []
        with (
            ui.dialog().props('aria-label="Preset"') as dialog,
            ui.card().classes("chatui-dialog chatui-settings-dialog").mark("preset-dialog"),
        ):
            ui.label("New preset" if preset is None else "Edit preset").classes("text-lg font-medium")
            name = ui.input("Name", value=preset.name if preset else "").props("outlined dense autofocus")
            name.classes("w-full").mark("preset-name")
            options = list(dict.fromkeys([*([preset.model] if preset and preset.model else []), *models]))
            model = ui.select(options, label="Model (empty: the default)", value=preset.model if preset else None)
            model.props("outlined dense clearable use-input new-value-mode=add-unique").classes("w-full")
            model.mark("preset-model")
            prompt = ui.textarea("System prompt", value=(preset.system_prompt if preset else None) or "")
            prompt.props(f"outlined autogrow counter maxlength={SYSTEM_PROMPT_MAX}").classes("w-full")
            prompt.mark("preset-system-prompt")
            temperature = ui.number("Temperature", value=preset.temperature if preset else None, step=0.1)
            temperature.props('outlined dense clearable hint="0 to 2; empty: the model\'s default"')
            temperature.mark("preset-temperature")
            chosen = ui.select(list(dict.fromkeys([*current, *tools])), label="Tools", multiple=True, value=current)
            chosen.props('outlined dense use-chips clearable hint="Empty: your default tools"').classes("w-full")
            chosen.mark("preset-tools")
            shared = None
            if self.user.is_admin:  # publishing is for administrators
                shared = ui.switch("Publish to everyone", value=bool(preset and preset.shared)).mark("preset-shared")
            error = ui.label().classes("chatui-error-text text-sm").props("role=alert").mark("dialog-error")
            error.visible = False

            async def save() -> None:
                values: dict[str, Any] = {
                    "model": model.value or None,
                    "system_prompt": prompt.value,
                    "temperature": temperature.value,
                    "tools": list(chosen.value or []) or None,
                }
                if shared is not None:
                    values["shared"] = bool(shared.value)
                try:
                    if preset is None:
                        await self.services.presets.create(
                            self.user.id, name.value or "", admin=self.user.is_admin, **values
                        )
                    else:
                        await self.services.presets.update(
                            self.user.id, preset.id, admin=self.user.is_admin, name=name.value or "", **values
                        )
                except ConversationError as exc:
                    error.text, error.visible = exc.message, True
                    return
                dialog.submit(True)

            with ui.row().classes("w-full justify-end gap-2"):
                ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
                ui.button("Save", on_click=save).props("unelevated no-caps").mark("save-preset")
        saved = await dialog
        dialog.delete()
        if saved:
            await self.refresh()
