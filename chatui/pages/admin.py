"""The administration page: every account, with disable/enable and password reset."""

from __future__ import annotations

from nicegui import ui

from chatui.auth import AuthError
from chatui.pages.theme import page_head
from chatui.services import Services
from storage import SignedIn, User


class AdminView:
    def __init__(self, services: Services, signed_in: SignedIn) -> None:
        self.services = services
        self.admin = signed_in.user
        self._unrevoke = services.auth.on_revoked(signed_in, self._revoked)
        self.client = ui.context.client
        self.client.on_delete(self._unrevoke)

    async def build(self) -> None:
        page_head()
        ui.page_title("Administration · chatui")
        with ui.header().classes("items-center gap-2 bg-white text-black border-b"):
            ui.button(icon="arrow_back", on_click=lambda: ui.navigate.to("/")).props("flat round aria-label=Back")
            ui.label("Administration").classes("text-lg font-medium")
        with ui.column().classes("w-full max-w-3xl mx-auto"):
            await self.users()

    @ui.refreshable_method
    async def users(self) -> None:
        with ui.list().props("bordered separator").classes("w-full").mark("user-list"):
            for user in await self.services.accounts.list_users():
                with (
                    ui.item().mark(f"user-{user.username}"),
                    ui.item_section(),
                    ui.row().classes("items-center w-full"),
                ):
                    ui.label(user.username).classes("font-medium")
                    if user.is_admin:
                        ui.badge("admin")
                    if user.is_disabled:
                        ui.badge("disabled", color="negative")
                    ui.space()
                    if user.id != self.admin.id:
                        label = "Enable" if user.is_disabled else "Disable"
                        ui.button(label, on_click=lambda u=user: self._toggle(u)).props("flat dense")
                    ui.button("Reset password", on_click=lambda u=user: self._reset(u)).props("flat dense")

    async def _toggle(self, user: User) -> None:
        await self.services.auth.set_disabled(user.id, not user.is_disabled)
        ui.notify(f"{user.username} is {'enabled' if user.is_disabled else 'disabled'}.")
        await self.users.refresh()

    async def _reset(self, user: User) -> None:
        with ui.dialog() as dialog, ui.card().classes("w-96"):
            ui.label(f"New password for {user.username}").classes("text-lg")
            password = ui.input("New password", password=True).classes("w-full")
            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat")
                ui.button("Set password", on_click=lambda: dialog.submit(password.value))
        new_password = await dialog
        dialog.delete()
        if not isinstance(new_password, str):
            return
        try:
            await self.services.auth.change_password(user.id, new_password)
        except AuthError as exc:
            ui.notify(exc.message, type="warning")
            return
        ui.notify(f"The password of {user.username} was changed; their sessions ended.")

    def _revoked(self) -> None:
        with self.client:
            ui.navigate.to("/login")
