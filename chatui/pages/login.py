"""Sign-in and account creation. A successful sign-in hands over to `/auth/complete`, which sets the cookie."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from nicegui import ui

from chatui.auth import AuthError
from chatui.pages.theme import page_head
from chatui.services import Services


class LoginView:
    def __init__(self, services: Services, request: Request) -> None:
        self.services = services
        self.ip = request.client.host if request.client else "unknown"
        self.expired = request.query_params.get("expired") == "1"

    def build(self) -> None:
        page_head()
        ui.page_title("Sign in · chatui")
        with ui.card().classes("absolute-center w-96 gap-3"):
            ui.label("chatui").classes("text-2xl font-medium")
            self.username = ui.input("Username").props("autofocus autocomplete=username").classes("w-full")
            self.password = (
                ui.input("Password", password=True, password_toggle_button=True)
                .props("autocomplete=current-password")
                .classes("w-full")
                .on("keydown.enter", self.sign_in)
            )
            self.error = ui.label().classes("text-negative").mark("login-error")
            self.error.visible = self.expired
            if self.expired:
                self.error.text = "That sign-in link expired; please sign in again."
            with ui.row().classes("w-full justify-between"):
                ui.button("Create account", on_click=self.create_account).props("flat")
                ui.button("Sign in", on_click=self.sign_in)

    def _show_error(self, message: str) -> None:
        self.error.text = message
        self.error.visible = True

    async def sign_in(self) -> None:
        try:
            user = await self.services.auth.authenticate(self.username.value or "", self.password.value or "", self.ip)
        except AuthError as exc:
            self._show_error(exc.message)
            return
        ticket = await self.services.auth.issue_ticket(user)
        ui.navigate.to(f"/auth/complete?ticket={quote(ticket)}")

    async def create_account(self) -> None:
        try:
            await self.services.auth.register(self.username.value or "", self.password.value or "")
        except AuthError as exc:
            self._show_error(exc.message)
            return
        await self.sign_in()
