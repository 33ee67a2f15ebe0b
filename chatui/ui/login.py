"""Sign-in and account creation. A successful sign-in hands over to `/auth/complete`, which sets the cookie.

What the sign-up mode means for the person at the form is said before they type (`chatui.accounts.signup`): new
accounts wait for approval, or sign-up is closed; an invitation link (`/login?invite=...`) says it is one. An account
that waits for approval is told so instead of being signed in.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from nicegui import ui

from chatui.accounts.auth import INVITE_UNUSABLE
from chatui.accounts.errors import AuthError
from chatui.accounts.signup import SignupMode
from chatui.bootstrap import Services
from chatui.ui.frame import page_frame
from chatui.web.client import client_ip
from chatui.web.next_path import safe_next
from chatui.web.sign_in_binding import BINDING_COOKIE

PENDING_CREATED = "Your account was created. An administrator has to approve it before you can sign in."
APPROVAL_HINT = "New accounts wait for an administrator's approval."
CLOSED_HINT = "Sign-up is closed: ask an administrator for an account or an invitation link."
INVITED = "You were invited: choose a username and a password for your new account."


class LoginView:
    def __init__(self, services: Services, request: Request) -> None:
        self.services = services
        self.ip = client_ip(request)
        self.binding = request.cookies.get(BINDING_COOKIE, "")  # set by `SignInBinding` on this page's request
        self.expired = request.query_params.get("expired") == "1"
        self.invite = request.query_params.get("invite", "")[:100] or None
        self.next = safe_next(request.query_params.get("next"))
        """Where to go once signed in (a share link's page), or None for the chat."""

    async def build(self) -> None:
        page_frame(self.services, None, "chatui")
        ui.page_title("Sign in · chatui")
        hint = await self._hint()
        with ui.element("main").classes("chatui-login"), ui.card().classes("chatui-card w-full gap-3"):
            ui.label("Welcome to chatui").classes("text-xl font-medium").props("role=heading aria-level=2")
            if hint:
                ui.label(hint).classes("chatui-login-hint").mark("signup-hint")
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
            self.pending = ui.label(PENDING_CREATED).classes("chatui-login-pending").props("role=status")
            self.pending.mark("signup-pending")
            self.pending.visible = False
            with ui.row().classes("w-full justify-between"):
                ui.button("Create account", on_click=self.create_account).props("flat no-caps")
                ui.button("Sign in", on_click=self.sign_in).props("unelevated no-caps")

    async def _hint(self) -> str | None:
        """What the sign-up mode means here, or None when anyone may sign up (or this is the first account)."""
        if self.invite is not None:
            return INVITED if await self.services.signup.invite_usable(self.invite) else INVITE_UNUSABLE
        mode = await self.services.signup.mode()
        if mode == SignupMode.OPEN or await self.services.signup.first_account():
            return None
        return APPROVAL_HINT if mode == SignupMode.APPROVAL else CLOSED_HINT

    def _show_error(self, message: str) -> None:
        self.pending.visible = False
        self.error.text = message
        self.error.visible = True

    async def sign_in(self) -> None:
        try:
            user = await self.services.auth.authenticate(self.username.value or "", self.password.value or "", self.ip)
        except AuthError as exc:
            self._show_error(exc.message)
            return
        ticket = await self.services.auth.issue_ticket(user, self.binding)
        then = f"&next={quote(self.next, safe='')}" if self.next else ""
        ui.navigate.to(f"/auth/complete?ticket={quote(ticket)}{then}")

    async def create_account(self) -> None:
        try:
            user = await self.services.signup.register(
                self.username.value or "", self.password.value or "", self.ip, self.invite
            )
        except AuthError as exc:
            self._show_error(exc.message)
            return
        if not user.is_approved:
            self.error.visible = False
            self.pending.visible = True
            self.password.value = ""
            return
        await self.sign_in()
