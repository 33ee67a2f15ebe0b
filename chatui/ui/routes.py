"""NiceGUI pages. Each checks the session cookie against the sessions table before building anything, and binds
itself to that session (`PageGuard.enter`): its UI events then run only while the session lives."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from nicegui import ui

from chatui.accounts.auth import COOKIE_NAME
from chatui.bootstrap import Services
from chatui.conversations.errors import ConversationNotFound
from chatui.ui.admin import AdminView
from chatui.ui.chat import ChatView
from chatui.ui.guard import PageGuard
from chatui.ui.login import LoginView
from chatui.ui.pacing import UpdatePacer
from chatui.ui.theme import mount_static


def register_pages(services: Services) -> None:
    mount_static()
    pacer = UpdatePacer(services.settings.ui_flush_seconds, services.settings.ui_updates_per_second)
    guard = PageGuard(services.auth, services.settings.max_pages_per_session)
    guard.install()

    def not_found(text: str) -> None:
        ui.context.client.status_code = 404
        ui.page_title("Not found · chatui")
        with ui.column().classes("absolute-center items-center"):
            ui.label(text).classes("text-xl").mark("not-found")
            ui.link("Back to your chats", "/")

    @ui.page("/login")
    async def login_page(request: Request) -> Response | None:
        if await services.auth.resolve(request.cookies.get(COOKIE_NAME)) is not None:
            return RedirectResponse("/", status_code=303)
        guard.public()
        LoginView(services, request).build()
        return None

    @ui.page("/")
    async def new_chat_page(request: Request) -> Response | None:
        who = await guard.enter(request)
        if isinstance(who, Response):
            return who
        await ChatView(services, who, request, None, pacer).build()
        return None

    @ui.page("/chat/{conversation_id}")
    async def chat_page(request: Request, conversation_id: str, message: str | None = None) -> Response | None:
        who = await guard.enter(request)
        if isinstance(who, Response):
            return who
        try:
            conversation = await services.conversations.get(who.user.id, conversation_id[:64])
        except ConversationNotFound:  # someone else's conversation looks exactly like a missing one
            not_found("This conversation does not exist.")
            return None
        at = message[:64] if message else None  # `?message=<id>` opens the conversation at that message
        await ChatView(services, who, request, conversation, pacer, at_message=at).build()
        return None

    @ui.page("/admin")
    async def admin_page(request: Request) -> Response | None:
        who = await guard.enter(request)
        if isinstance(who, Response):
            return who
        if not who.user.is_admin:  # the page does not exist for anyone else
            not_found("This page does not exist.")
            return None
        await AdminView(services, who).build()
        return None
