"""The administration page: who may sign up, invitation links, and every account with its role and state — create,
approve or reject, promote or demote, disable or enable, reset a password, delete (after typing the name).

Every action goes through the account service (`chatui.accounts.service`, `chatui.accounts.signup`), whose rules
hold whatever page asks; hiding a button (one's own Delete) is a courtesy here, not the rule.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui
from nicegui.events import ValueChangeEventArguments

from chatui.accounts.errors import AuthError
from chatui.accounts.signup import SignupMode, invite_url
from chatui.bootstrap import Services
from chatui.ui import dialogs
from chatui.ui.admin_tools import tool_servers_card
from chatui.ui.frame import page_frame
from chatui.ui.share_links import AllSharesCard
from storage import SignedIn, User

MODES = {
    SignupMode.OPEN.value: "Open: anyone who reaches this address",
    SignupMode.APPROVAL.value: "Approval: an administrator approves each new account",
    SignupMode.CLOSED.value: "Closed: only accounts you create or invite",
}


class AdminView:
    def __init__(self, services: Services, signed_in: SignedIn, base_url: str) -> None:
        self.services = services
        self.signed_in = signed_in
        self.admin = signed_in.user
        self.base_url = base_url
        self.query = ""

    async def build(self) -> None:
        page_frame(self.services, self.signed_in, "Administration", back=True)
        with ui.column().classes("chatui-column gap-3 py-4"):
            with ui.card().classes("chatui-card w-full gap-2").mark("signup-card"):
                ui.label("Sign-up").classes("text-base font-medium").props("role=heading aria-level=2")
                mode = await self.services.signup.mode()
                switch = ui.select(MODES, value=mode.value, label="Who may sign up", on_change=self._mode)
                switch.props("outlined dense options-dense").classes("w-full").mark("signup-mode")
                with ui.row().classes("gap-2"):
                    ui.button("Create user", icon="person_add", on_click=self._create).props("flat no-caps")
                    ui.button("Invitation link", icon="link", on_click=self._invite).props("flat no-caps")
            tool_servers_card(self.services.tools)
            await AllSharesCard(self.services).build()
            ui.input("Search users", on_change=lambda e: self._search(e.value)).props(
                "outlined dense clearable type=search"
            ).classes("w-full").mark("user-search")
            await self.users()

    async def _search(self, query: str | None) -> None:
        self.query = (query or "").strip().lower()
        await self.users.refresh()

    @ui.refreshable_method
    async def users(self) -> None:
        try:
            everyone = await self.services.accounts.list_users(by=self.admin)
        except AuthError as exc:
            ui.label(exc.message).classes("text-negative")
            return
        users = [u for u in everyone if self.query in u.username.lower()]
        if not users:
            ui.label("No user matches.").classes("text-grey-7")
            return
        users.sort(key=lambda u: u.is_approved)  # those waiting for approval first
        with ui.list().props("bordered separator").classes("w-full chatui-card").mark("user-list"):
            for user in users:
                with (
                    ui.item().mark(f"user-{user.username}"),
                    ui.item_section(),
                    ui.row().classes("items-center w-full gap-x-2 gap-y-1"),
                ):
                    ui.label(user.username).classes("font-medium")
                    ui.badge("admin" if user.is_admin else "user").props("outline").classes("chatui-role")
                    if not user.is_approved:
                        ui.badge("waiting for approval").props("outline").classes("chatui-pending")
                    if user.is_disabled:
                        ui.badge("disabled", color="negative")
                    ui.space()
                    self._actions(user)

    def _actions(self, user: User) -> None:
        def button(label: str, act: Callable[[], Awaitable[None]], marker: str, danger: bool = False) -> None:
            # danger: the theme's error colour (Quasar's `negative` is too dark on the dark theme for axe)
            shown = ui.button(label, on_click=act, color=None if danger else "primary")
            shown.props("flat dense no-caps").classes("chatui-danger" if danger else "")
            shown.mark(f"{marker}-{user.username}")

        if not user.is_approved:
            button("Approve", lambda: self._change(user, "approved", True), "approve")
            button("Reject", lambda: self._reject(user), "reject", danger=True)
            return
        if user.id != self.admin.id:
            promote = ("Demote", False) if user.is_admin else ("Make admin", True)
            button(promote[0], lambda: self._change(user, "is_admin", promote[1]), "role")
            button("Enable" if user.is_disabled else "Disable", lambda: self._toggle(user), "disable")
        button("Reset password", lambda: self._reset(user), "reset")
        if user.id != self.admin.id:
            button("Delete", lambda: self._delete(user), "delete", danger=True)

    async def _act(self, work: Awaitable[object], done: str) -> None:
        """Run one service call; its refusal is shown, else `done`, and the list is drawn again from the database."""
        try:
            await work
        except AuthError as exc:
            ui.notify(exc.message, type="warning")
        else:
            ui.notify(done)
        await self.users.refresh()

    async def _change(self, user: User, what: str, value: bool) -> None:
        accounts = self.services.accounts
        if what == "approved":
            await self._act(accounts.set_approved(user.id, value, by=self.admin), f"{user.username} can sign in now.")
        else:
            said = "an administrator" if value else "no longer an administrator"
            await self._act(accounts.set_admin(user.id, value, by=self.admin), f"{user.username} is {said}.")

    async def _toggle(self, user: User) -> None:
        state = "enabled" if user.is_disabled else "disabled"
        work = self.services.accounts.set_disabled(user.id, not user.is_disabled, by=self.admin)
        await self._act(work, f"{user.username} is {state}.")

    async def _reject(self, user: User) -> None:
        work = self.services.accounts.reject(user.id, by=self.admin)
        await self._act(work, f"{user.username}'s sign-up was rejected.")

    async def _delete(self, user: User) -> None:
        async def check(values: dict[str, str]) -> str | None:
            return None if values["value"].strip() == user.username else f"Type {user.username} to confirm."

        typed = await dialogs.form(
            f"Delete {user.username}?",
            [dialogs.Field("value", "Username")],
            "Delete for good",
            text=f"Their conversations and messages are deleted with the account. Type {user.username} to confirm.",
            check=check,
            danger=True,
            marker="confirm-delete",
        )
        if typed is not None:
            work = self.services.accounts.delete_user(user.id, by=self.admin)
            await self._act(work, f"{user.username} and their data were deleted.")

    async def _reset(self, user: User) -> None:
        async def check(values: dict[str, str]) -> str | None:
            try:
                await self.services.accounts.reset_password(user.id, values["value"], by=self.admin)
            except AuthError as exc:
                return exc.message
            return None

        changed = await dialogs.prompt(
            f"New password for {user.username}", "New password", "Set password", password=True, check=check
        )
        if changed is not None:
            ui.notify(f"The password of {user.username} was changed; their sessions ended.")

    async def _create(self) -> None:
        async def check(values: dict[str, str]) -> str | None:
            try:
                await self.services.accounts.create_user(values["username"], values["password"], by=self.admin)
            except AuthError as exc:
                return exc.message
            return None

        fields = [
            dialogs.Field("username", "Username", autocomplete="off"),
            dialogs.Field("password", "Password", password=True, autocomplete="new-password"),
        ]
        made = await dialogs.form("Create user", fields, "Create", check=check, marker="create-user")
        if made is not None:
            ui.notify(f"{made['username'].strip()} can sign in now.")
            await self.users.refresh()

    async def _invite(self) -> None:
        try:
            token = await self.services.signup.invite(by=self.admin)
        except AuthError as exc:
            ui.notify(exc.message, type="warning")
            return
        url = invite_url(self.base_url, token)
        days = self.services.settings.invite_days
        with ui.dialog() as dialog, ui.card().classes("chatui-dialog"):
            ui.label("Invitation link").classes("text-lg font-medium").props("role=heading aria-level=2")
            ui.label(f"It creates one account, whatever the sign-up mode, within {days:g} days.")
            ui.input("Link", value=url).props("outlined dense readonly").classes("w-full").mark("invite-url")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button("Copy", icon="content_copy", on_click=lambda: _copy(url)).props("flat no-caps")
                ui.button("Done", on_click=dialog.close).props("unelevated no-caps")
        dialog.open()

    async def _mode(self, event: ValueChangeEventArguments) -> None:
        value = str(event.value)
        try:
            await self.services.signup.set_mode(SignupMode(value), by=self.admin)
        except AuthError as exc:
            ui.notify(exc.message, type="warning")
            return
        ui.notify(f"Sign-up: {MODES[value].split(':')[0].lower()}.")


def _copy(text: str) -> None:
    ui.clipboard.write(text)
    ui.notify("Copied")
