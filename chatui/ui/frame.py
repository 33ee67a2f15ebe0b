"""The frame every page is built in: header, drawer, account menu, theme, and the session hook.

One frame for the chat, administration and sign-in pages, so they look like one app and fit a phone the same way:

- the header is one row at any width: the drawer's menu button, the page title (cut with an ellipsis), the page's
  own controls (`Frame.actions`), and the account menu (the person's name; just an icon on a phone);
- the drawer (`Frame.drawer`, chat page only) is open beside the page on a wide screen and closed on a phone, on
  every load: Quasar's `show-if-above` decides on the client, before the first paint;
- the account menu holds the theme (System / Light / Dark, stored with the account), the settings page (default
  instructions), the keyboard shortcuts, password, administration and sign-out;
- a signed-in page is closed (sent to sign-in) as soon as its session ends: `chatui.ui.guard`, bound by the route.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from nicegui import Client, ui
from nicegui.elements.mixins.text_element import TextElement

from chatui.accounts.errors import AuthError
from chatui.bootstrap import Services
from chatui.ui import dialogs, transfer
from chatui.ui.theme import THEMES, page_head
from chatui.web.client import client_ip
from storage import SignedIn

APP_NAME = "chatui"


@dataclass
class Frame:
    client: Client
    dark: ui.dark_mode
    title: ui.label
    actions: ui.row
    """The page's own header controls, left of the account menu."""
    drawer: ui.left_drawer | None = None
    on_imported: Callable[[], Awaitable[None]] | None = None
    """What the page does when an import from the account menu has stored conversations (the chat page lists them)."""
    shortcuts: list[tuple[str, str]] = field(default_factory=list)
    """(keys, what they do), listed by the Keyboard shortcuts dialog."""

    def set_title(self, title: str) -> None:
        """The header title and the browser tab's."""
        self.title.text = title
        ui.page_title(f"{title} · {APP_NAME}")

    async def show_shortcuts(self) -> None:
        with ui.dialog().props('aria-label="Keyboard shortcuts"') as dialog, ui.card().classes("chatui-dialog"):
            ui.label("Keyboard shortcuts").classes("text-lg font-medium").props("role=heading aria-level=2")
            with ui.element("dl").classes("chatui-shortcuts").mark("shortcuts"):
                for keys, what in self.shortcuts:
                    TextElement(tag="dt", text=keys).classes("chatui-kbd")  # a plain element has no text to set
                    TextElement(tag="dd", text=what)
            with ui.row().classes("w-full justify-end"):
                ui.button("Close", on_click=dialog.close).props("flat no-caps autofocus")
        await dialog
        dialog.delete()


def page_frame(
    services: Services,
    signed_in: SignedIn | None,
    title: str,
    *,
    drawer: bool = False,
    back: bool = False,
    on_revoked: Callable[[], None] | None = None,
    theme: str | None = None,
) -> Frame:
    """Build the frame of a page; the page then adds its content at the top level (and into `actions`/`drawer`).
    `theme`: the colour theme of a page without the account menu (a shared conversation seen signed in)."""
    client = ui.context.client
    theme = theme or (signed_in.user.theme if signed_in is not None else "system")
    dark = page_head(theme)
    ui.page_title(f"{title} · {APP_NAME}")
    with ui.header().classes("chatui-header items-center no-wrap gap-1 px-2 py-1") as header:
        side: ui.left_drawer | None = None
        if drawer:
            ui.button(icon="menu", on_click=lambda: side.toggle() if side else None).props(
                "flat round dense aria-label='Conversations'"
            ).mark("drawer-toggle")
        if back:
            ui.button(icon="arrow_back", on_click=lambda: ui.navigate.to("/")).props(
                "flat round dense aria-label='Back to your chats'"
            )
        heading = ui.label(title).classes("chatui-title text-lg font-medium").props("role=heading aria-level=1")
        heading.mark("page-title")
        actions = ui.row().classes("items-center no-wrap gap-1 ml-auto")
    if drawer:
        # Closed in Python, `show-if-above` in the browser: Quasar opens it on a wide screen before the first paint
        # and reports it; `value=None` would do the same but ask the browser with an extra round trip per load.
        side = ui.left_drawer(value=False).props("show-if-above width=280 breakpoint=1023").classes("chatui-drawer")
    frame = Frame(client, dark, heading, actions, side)
    frame.shortcuts.append(("Ctrl + /", "Show these shortcuts"))
    ui.on("chatui_shortcuts", frame.show_shortcuts)  # emitted by static/chatui.js on Ctrl + /
    if signed_in is not None:
        with header:
            _account_menu(services, signed_in, frame)
        _watch_session(services, signed_in, client, on_revoked)
    return frame


def _account_menu(services: Services, signed_in: SignedIn, frame: Frame) -> None:
    user = signed_in.user
    with (
        ui.button(icon="account_circle")
        .props(f"flat dense no-caps aria-label='Account: {user.username}'")
        .classes("chatui-account")
        .mark("account"),
    ):
        ui.label(user.username).classes("chatui-account-name gt-xs ml-1")
        with ui.menu().props("anchor='bottom right' self='top right'"):
            ui.item_label("Theme").props("header").classes("text-xs")
            theme_items: dict[str, ui.menu_item] = {}

            async def choose(theme: str) -> None:
                await services.accounts.set_theme(user.id, theme)
                user.theme = theme  # the page's copy; the next load reads the stored one
                _apply_theme(frame, theme)
                for name, item in theme_items.items():
                    item.props(f"aria-checked={'true' if name == theme else 'false'}")
                    if name == theme:
                        item.classes(add="chatui-chosen")
                    else:
                        item.classes(remove="chatui-chosen")

            for name in THEMES:
                theme_items[name] = (
                    ui.menu_item(name.capitalize(), on_click=lambda n=name: choose(n))
                    .props(f"role=menuitemradio aria-checked={'true' if name == user.theme else 'false'}")
                    .classes("chatui-chosen" if name == user.theme else "")
                    .mark(f"theme-{name}")
                )
            ui.separator()
            ui.menu_item("Settings", on_click=lambda: ui.navigate.to("/settings")).mark("settings")
            ui.menu_item("Knowledge", on_click=lambda: ui.navigate.to("/knowledge")).mark("knowledge")
            ui.menu_item("Keyboard shortcuts", on_click=frame.show_shortcuts).mark("shortcuts-item")
            ui.menu_item("Export all", on_click=transfer.export_all).mark("export-all")
            ui.menu_item(
                "Import", on_click=lambda: transfer.import_dialog(services, signed_in, frame.on_imported)
            ).mark("import")
            if not services.settings.single_user:
                ui.menu_item(
                    "Change password",
                    on_click=lambda: change_password(services, signed_in, client_ip(frame.client.request)),
                ).mark("change-password")
            if user.is_admin:
                ui.menu_item("Administration", on_click=lambda: ui.navigate.to("/admin")).mark("administration")
            if not services.settings.single_user:
                # Revoked on the server by this event (not by a GET a link could also make): the page then goes to
                # sign-in like every page of the session.
                ui.menu_item("Sign out", on_click=lambda: services.auth.end_session(signed_in.session.id)).mark(
                    "sign-out"
                )


def _apply_theme(frame: Frame, theme: str) -> None:
    dark = THEMES[theme]
    frame.dark.set_value(dark)
    scheme = {None: "light dark", False: "light", True: "dark"}[dark]
    ui.run_javascript(f"document.documentElement.style.colorScheme = '{scheme}'")


async def change_password(services: Services, signed_in: SignedIn, ip: str) -> None:
    user = signed_in.user

    async def check(values: dict[str, str]) -> str | None:
        try:  # the current password's guesses are limited like sign-ins
            await services.auth.change_own_password(user.id, values["current"], values["new"], ip)
        except AuthError as exc:  # wrong, too many guesses, new one too short or too long
            return exc.message
        return None  # every session ended, this page's too: it goes to sign-in

    await dialogs.form(
        "Change password",
        [
            dialogs.Field("current", "Current password", password=True, autocomplete="current-password"),
            dialogs.Field("new", "New password", password=True, autocomplete="new-password"),
        ],
        "Change password",
        check=check,
        marker="save-password",
    )


def _watch_session(
    services: Services, signed_in: SignedIn, client: Client, on_revoked: Callable[[], None] | None
) -> None:
    """Run the page's own `on_revoked` the moment its session ends (sign-out elsewhere, disabled, password changed).

    Sending the page to sign-in and refusing its later UI events is the guard's job (`chatui.ui.guard`): the page
    route's `guard.enter(request)` bound this page to its session before the frame was built.
    """
    if on_revoked is None:
        return
    unsubscribe = services.auth.on_revoked(signed_in, on_revoked)
    client.on_delete(unsubscribe)
