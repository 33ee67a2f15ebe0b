"""The settings page (`/settings`, from the account menu): the account's default instructions, the system prompt
every new conversation starts with (`GET`/`PATCH /api/settings` in the API); the tools new chats start with
(`chatui.ui.tool_settings`); and the presets New chat offers
(`chatui.ui.preset_settings`), the prompt library (`chatui.ui.prompt_settings`), and the links to conversations the
person shared (`chatui.ui.share_links`).

Conversations made before a change keep theirs; a new chat shows the instructions it will start with on its chip and
can change them for that one chat before its first message (`chatui.ui.chat.settings`).
"""

from __future__ import annotations

from nicegui import ui

from chatui.bootstrap import Services
from chatui.conversations.errors import ConversationError
from chatui.conversations.rules import SYSTEM_PROMPT_MAX
from chatui.ui.frame import page_frame
from chatui.ui.preset_settings import PresetSection
from chatui.ui.prompt_settings import PromptSection
from chatui.ui.share_links import SharedLinksSection
from chatui.ui.tool_settings import ToolDefaultsSection
from storage import SignedIn


class AccountSettingsView:
    def __init__(self, services: Services, signed_in: SignedIn) -> None:
        self.services = services
        self.user = signed_in.user
        self.signed_in = signed_in

    async def build(self) -> None:
        page_frame(self.services, self.signed_in, "Settings", back=True)
        current = await self.services.conversations.default_system_prompt(self.user.id)
        column = ui.column().classes("chatui-column gap-3 py-4")
        with column, ui.card().classes("chatui-card w-full gap-2"):
            ui.label("Default instructions").classes("text-base font-medium").props("role=heading aria-level=2")
            ui.label(
                "Every new conversation starts with these instructions as its system prompt. Conversations you "
                "already have keep theirs; a new chat's Chat settings change them for that chat alone."
            ).classes("text-sm")
            self.prompt = (
                ui.textarea("Default instructions", value=current or "")
                .props(f"outlined autogrow counter maxlength={SYSTEM_PROMPT_MAX}")
                .classes("w-full chatui-system-prompt")
                .mark("default-instructions")
            )
            self.error = ui.label().classes("chatui-error-text text-sm").props("role=alert").mark("settings-error")
            self.error.visible = False
            with ui.row().classes("w-full justify-end"):
                ui.button("Save", on_click=self.save).props("unelevated no-caps").mark("save-instructions")
        with column:
            await ToolDefaultsSection(self.services, self.user.id).build()
            await PresetSection(self.services, self.signed_in).build()
            await PromptSection(self.services, self.signed_in).build()
            await SharedLinksSection(self.services, self.user.id).build()

    async def save(self) -> None:
        try:
            await self.services.conversations.set_default_system_prompt(self.user.id, self.prompt.value)
        except ConversationError as exc:
            self.error.text = exc.message
            self.error.visible = True
            return
        self.error.visible = False
        ui.notify("Saved: new chats start with these instructions.", type="positive")
