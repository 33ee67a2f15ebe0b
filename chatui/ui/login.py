"""Sign-in and account creation. A successful sign-in hands over to `/auth/complete`, which sets the cookie."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from nicegui import ui

from chatui.accounts.errors import AuthError
from chatui.bootstrap import Services
from chatui.ui.frame import page_frame
from chatui.web.client import client_ip
from chatui.web.sign_in_binding import BINDING_COOKIE


class LoginView:
    def __init__(self, services: Services, request: Request) -> None:
        self.services = services
        self.ip = client_ip(request)
        self.binding = request.cookies.get(BINDING_COOKIE, "")  # set by `SignInBinding` on this page's request
        self.expired = request.query_params.get("expired") == "1"

    def build(self) -> None:
        page_frame(self.services, None, "chatui")
        ui.page_title("Sign in · chatui")
        with ui.element("main").classes("chatui-login"), ui.card().classes("chatui-card w-full gap-3"):
            ui.label("Welcome to chatui").classes("text-xl font-medium").props("role=heading aria-level=2")
            self.username = (
                ui.input("Username")
                .props("outlined autofocus autocomplete=username")
                .classes("w-full")
                .on("keydown.enter", self.sign_in)
            )
            self.password = (
                ui.input("Password", password=True, password_toggle_button=True)
                .props("outlined autocomplete=current-password")
                .classes("w-full")
                .on("keydown.enter", self.sign_in)
            )
            self.error = ui.label().classes("text-negative").mark("login-error")
            self.error.visible = self.expired
            if self.expired:
                self.error.text = "That sign-in link expired; please sign in again."
            with ui.row().classes("w-full justify-between"):
                ui.button("Create account", on_click=self.create_account).props("flat no-caps")
                ui.button("Sign in", on_click=self.sign_in).props("unelevated no-caps")

    def _show_error(self, message: str) -> None:
        self.error.text = message
        self.error.visible = True

    async def sign_in(self) -> None:
        try:
            user = await self.services.auth.authenticate(self.username.value or "", self.password.value or "", self.ip)
        except AuthError as exc:
            self._show_error(exc.message)
            return
        ticket = await self.services.auth.issue_ticket(user, self.binding)
        ui.navigate.to(f"/auth/complete?ticket={quote(ticket)}")

    async def create_account(self) -> None:
        try:
            await self.services.auth.register(self.username.value or "", self.password.value or "", self.ip)
        except AuthError as exc:
            self._show_error(exc.message)
            return
        await self.sign_in()
