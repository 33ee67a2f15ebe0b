"""Share links in the pages (issue 26): the conversation menu's Share dialog, the person's Shared links in Settings,
and the administrator's card of every link. Each action goes through `ShareService`, whose rules (whose link, which
conversation) hold whatever page asks.
"""

from __future__ import annotations

import contextlib
from datetime import datetime

from nicegui import ui

from chatui.bootstrap import Services
from chatui.conversations.errors import ConversationError
from chatui.conversations.shares import ShareLink
from chatui.ui import dialogs
from chatui.ui.wording import counted
from storage.shares import ShareInfo

KEEP = -1
"""The expiry choice of an update that keeps the link's current expiry date."""
EXPIRY = {0: "Never expires", 1: "Expires in 1 day", 7: "Expires in 7 days", 30: "Expires in 30 days"}


def _day(at: datetime) -> str:
    return f"{at.day} {at.strftime('%b %Y')}"


def _state(info: ShareInfo, expired: bool) -> str:
    """What a list says of a link: when it was shared, how much, and until when it opens."""
    shown = f"Shared {_day(info.updated_at)} · {counted(info.messages, 'message')}"
    if expired:
        return shown + " · expired"
    return shown + (f" · until {_day(info.expires_at)}" if info.expires_at else "")


def _url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/s/{token}"


def page_base_url() -> str:
    """The address the page was opened at (what the link is shared under: the same host, scheme and port)."""
    return str(ui.context.client.request.base_url)


async def share_dialog(services: Services, user_id: str, conversation_id: str) -> None:
    """Create the link, copy it, share the conversation again as it is now, or revoke the link."""
    base_url = page_base_url()
    link: ShareLink | None = await services.shares.link_of(user_id, conversation_id)
    with (
        ui.dialog().props('aria-label="Share this chat"') as dialog,
        ui.card().classes("chatui-dialog").mark("share-dialog"),
    ):
        ui.label("Share this chat").classes("text-lg font-medium").props("role=heading aria-level=2")
        who = "People signed in here" if services.settings.share_requires_login else "Anyone with the link"
        ui.label(
            f"{who} can read this conversation as it is now, and copy it into their own account to carry it on. "
            "Later messages are not shared until you update the link."
        ).classes("text-sm")
        current = link.info.expires_at if link is not None and not link.expired else None
        choices = {KEEP: f"Keeps its expiry: {_day(current)}", **EXPIRY} if current is not None else EXPIRY
        expiry = ui.select(choices, value=KEEP if current is not None else 0, label="Expiry")
        expiry.props("outlined dense options-dense").classes("w-full").mark("share-expiry")

        @ui.refreshable
        def body() -> None:
            if link is not None:
                url = _url(base_url, link.token)
                ui.input("Link", value=url).props("outlined dense readonly").classes("w-full").mark("share-url")
                ui.label(_state(link.info, link.expired)).classes("chatui-muted text-xs").mark("share-state")
            with ui.row().classes("w-full justify-end gap-2"):
                if link is not None:
                    ui.button("Revoke", on_click=revoke).props("flat no-caps color=negative").mark("revoke-share")
                    ui.button("Update", on_click=create).props("flat no-caps").mark("update-share")
                    ui.button("Copy link", icon="content_copy", on_click=lambda: copy(link)).props(
                        "unelevated no-caps autofocus"
                    ).mark("copy-share")
                else:
                    ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
                    ui.button("Create link", icon="link", on_click=create).props("unelevated no-caps").mark(
                        "create-share"
                    )

        def copy(shown: ShareLink | None) -> None:
            if shown is not None:
                ui.clipboard.write(_url(base_url, shown.token))
                ui.notify("Link copied.", type="positive")

        async def create() -> None:
            nonlocal link
            try:
                days = int(expiry.value or 0)
                until = current if days == KEEP else None
                link = await services.shares.share(user_id, conversation_id, max(days, 0) or None, until=until)
            except ConversationError as exc:
                ui.notify(exc.message, type="warning")
                return
            body.refresh()
            copy(link)

        async def revoke() -> None:
            nonlocal link
            with contextlib.suppress(ConversationError):  # already gone (revoked elsewhere): shown so either way
                await services.shares.revoke(user_id, conversation_id)
            link = None
            body.refresh()
            ui.notify("The link no longer opens.", type="info")

        body()
    await dialog
    dialog.delete()


class SharedLinksSection:
    """The person's links in Settings: each conversation shared, Copy link, Open, Revoke."""

    def __init__(self, services: Services, user_id: str) -> None:
        self.services = services
        self.user_id = user_id
        self.base_url = page_base_url()

    async def build(self) -> None:
        with ui.card().classes("chatui-card w-full gap-2 chatui-shared-links").mark("shared-links"):
            ui.label("Shared links").classes("text-base font-medium").props("role=heading aria-level=2")
            await self.links()

    @ui.refreshable_method
    async def links(self) -> None:
        links = await self.services.shares.links(self.user_id)
        if not links:
            ui.label("You have not shared any conversation. Share one from its ⋮ menu.").classes("text-sm")
            return
        with ui.list().props("separator").classes("w-full"):
            for link in links:
                url = _url(self.base_url, link.token)
                with ui.item().mark("shared-link"), ui.item_section(), ui.row().classes("items-center w-full gap-2"):
                    with ui.column().classes("gap-0 min-w-0 flex-1"):
                        ui.link(link.info.title or "Untitled", f"/chat/{link.info.conversation_id}").classes(
                            "font-medium ellipsis text-primary"
                        )
                        ui.label(_state(link.info, link.expired)).classes("chatui-muted text-xs")
                    ui.button(icon="content_copy", on_click=lambda u=url: self._copy(u)).props(
                        "flat round dense aria-label='Copy link'"
                    )
                    ui.button(icon="open_in_new").props(f"flat round dense href={url} target=_blank aria-label='Open'")
                    ui.button(icon="link_off", on_click=lambda i=link.info: self._revoke(i)).props(
                        "flat round dense color=negative aria-label='Revoke'"
                    ).mark("revoke-link")

    @staticmethod
    def _copy(url: str) -> None:
        ui.clipboard.write(url)
        ui.notify("Link copied.", type="positive")

    async def _revoke(self, info: ShareInfo) -> None:
        title = info.title or "this conversation"
        if not await dialogs.confirm(
            "Revoke the link?", f"The link to “{title}” stops opening at once.", "Revoke", marker="confirm-revoke"
        ):
            return
        with contextlib.suppress(ConversationError):  # revoked meanwhile: the list shows it gone either way
            await self.services.shares.revoke(self.user_id, info.conversation_id)
        await self.links.refresh()


class AllSharesCard:
    """The administrator's card: every link, whose it is, and Revoke."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def build(self) -> None:
        with ui.card().classes("chatui-card w-full gap-2 chatui-all-shares").mark("all-shares"):
            ui.label("Share links").classes("text-base font-medium").props("role=heading aria-level=2")
            await self.links()

    @ui.refreshable_method
    async def links(self) -> None:
        infos = await self.services.shares.all_links()
        if not infos:
            ui.label("No conversation is shared.").classes("text-sm")
            return
        with ui.list().props("separator").classes("w-full"):
            for info in infos:
                expired = info.expires_at is not None and info.expires_at <= datetime.now(info.expires_at.tzinfo)
                with ui.item().mark("any-share"), ui.item_section(), ui.row().classes("items-center w-full gap-2"):
                    with ui.column().classes("gap-0 min-w-0 flex-1"):
                        ui.label(f"{info.title or 'Untitled'} — {info.username}").classes("font-medium ellipsis")
                        ui.label(_state(info, expired)).classes("chatui-muted text-xs")
                    ui.button("Revoke", on_click=lambda i=info: self._revoke(i)).props(
                        "flat dense no-caps color=negative"
                    ).mark(f"revoke-share-{info.username}")

    async def _revoke(self, info: ShareInfo) -> None:
        text = f"{info.username}'s link to “{info.title or 'Untitled'}” stops opening at once."
        if not await dialogs.confirm("Revoke the link?", text, "Revoke", danger=True, marker="confirm-revoke"):
            return
        with contextlib.suppress(ConversationError):
            await self.services.shares.revoke_any(info.id)
        await self.links.refresh()
