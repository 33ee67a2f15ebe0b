"""The administration page: every account with its role and state, a search, disable/enable and password reset."""

from __future__ import annotations

from nicegui import ui

from chatui.accounts.errors import AuthError
from chatui.bootstrap import Services
from chatui.ui import dialogs
from chatui.ui.frame import page_frame
from storage import SignedIn, User


class AdminView:
    def __init__(self, services: Services, signed_in: SignedIn) -> None:
        self.services = services
        self.signed_in = signed_in
        self.admin = signed_in.user
        self.query = ""

    async def build(self) -> None:
        page_frame(self.services, self.signed_in, "Administration", back=True)
        with ui.column().classes("chatui-column gap-3 py-4"):
            ui.input("Search users", on_change=lambda e: self._search(e.value)).props(
                "outlined dense clearable type=search"
            ).classes("w-full").mark("user-search")
            await self.users()

    async def _search(self, query: str | None) -> None:
        self.query = (query or "").strip().lower()
        await self.users.refresh()

    @ui.refreshable_method
    async def users(self) -> None:
        users = [u for u in await self.services.accounts.list_users(by=self.admin) if self.query in u.username.lower()]
        if not users:
            ui.label("No user matches.").classes("text-grey-7")
            return
        with ui.list().props("bordered separator").classes("w-full chatui-card").mark("user-list"):
            for user in users:
                with (
                    ui.item().mark(f"user-{user.username}"),
                    ui.item_section(),
                    ui.row().classes("items-center w-full gap-2"),
                ):
                    ui.label(user.username).classes("font-medium")
                    ui.badge("admin" if user.is_admin else "user").props("outline").classes("chatui-role")
                    if user.is_disabled:
                        ui.badge("disabled", color="negative")
                    ui.space()
                    if user.id != self.admin.id:
                        label = "Enable" if user.is_disabled else "Disable"
                        ui.button(label, on_click=lambda u=user: self._toggle(u)).props("flat dense no-caps")
                    ui.button("Reset password", on_click=lambda u=user: self._reset(u)).props("flat dense no-caps")

    async def _toggle(self, user: User) -> None:
        try:
            await self.services.accounts.set_disabled(user.id, not user.is_disabled, by=self.admin)
        except AuthError as exc:
            ui.notify(exc.message, type="warning")
            return
        ui.notify(f"{user.username} is {'enabled' if user.is_disabled else 'disabled'}.")
        await self.users.refresh()

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
