"""NiceGUI pages. Each checks the session cookie against the sessions table before building anything, and binds
itself to that session (`PageGuard.enter`): its UI events then run only while the session lives."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from nicegui import ui

from chatui.accounts.auth import COOKIE_NAME
from chatui.bootstrap import Services
from chatui.conversations.errors import ConversationError, ConversationNotFound
from chatui.conversations.shares import ShareNotFound
from chatui.files.errors import FileRefused
from chatui.ui.account_settings import AccountSettingsView
from chatui.ui.admin import AdminView
from chatui.ui.chat import ChatView
from chatui.ui.guard import PageGuard
from chatui.ui.knowledge import DocumentView, KnowledgeView
from chatui.ui.login import LoginView
from chatui.ui.pacing import UpdatePacer
from chatui.ui.shared import SharedView
from chatui.ui.theme import mount_static
from chatui.web.next_path import safe_next
from storage import SignedIn

PageBuilder = Callable[..., Awaitable[None]]


def signed_in_page(guard: PageGuard, path: str) -> Callable[[PageBuilder], PageBuilder]:
    """`@ui.page(path)` for a page only a signed-in person sees: `build(request, who, **params)` runs once the
    session is checked and the page bound to it (`PageGuard.enter`); without a live session (or with too many pages
    open) the guard's response is sent instead. `who` is not a parameter of the route."""

    def decorate(build: PageBuilder) -> PageBuilder:
        async def page(request: Request, **params: Any) -> Response | None:
            who = await guard.enter(request)
            if isinstance(who, Response):
                return who
            await build(request, who, **params)
            return None

        signature = inspect.signature(build, eval_str=True)
        params = [p for name, p in signature.parameters.items() if name != "who"]
        # what inspect (so FastAPI and NiceGUI) reads as the route's parameters: a function attribute that the type of
        # a function does not declare, so set through the function's `__dict__`
        vars(page)["__signature__"] = signature.replace(parameters=params, return_annotation=Response | None)
        page.__name__ = page.__qualname__ = build.__name__
        ui.page(path)(page)
        return build

    return decorate


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
            # already signed in (the back button to this page, say): to the link, without copying it again
            back = (safe_next(request.query_params.get("next")) or "/").removesuffix("?continue=1")
            return RedirectResponse(back, status_code=303)
        guard.public()
        await LoginView(services, request).build()
        return None

    @ui.page("/s/{token}")
    async def shared_page(request: Request, token: str) -> Response | None:
        """A share link: readable signed out unless CHATUI_SHARE_REQUIRES_LOGIN (`chatui.ui.shared`)."""
        token = token[:64]
        viewer = await services.auth.resolve(request.cookies.get(COOKIE_NAME))
        if viewer is None and services.settings.share_requires_login:
            return RedirectResponse(f"/login?next={quote('/s/' + token, safe='')}", status_code=303)
        try:
            shared = await services.shares.open(token)
        except ShareNotFound:
            guard.public()
            not_found("This link does not exist, was revoked or has expired.")
            return None
        if viewer is None:
            guard.public()
        else:
            entered = await guard.enter(request)
            if isinstance(entered, Response):
                return entered
            if request.query_params.get("continue") == "1":  # back from sign-in: copy it and open the copy
                try:
                    copied = await services.shares.continue_in(token, entered.user.id)
                except (ConversationError, FileRefused) as refused:
                    ui.notify(refused.message, type="warning")
                else:
                    return RedirectResponse(f"/chat/{copied}", status_code=303)
        SharedView(services, token, shared, viewer).build()
        return None

    @signed_in_page(guard, "/")
    async def new_chat_page(request: Request, who: SignedIn) -> None:
        await ChatView(services, who, request, None, pacer).build()

    @signed_in_page(guard, "/chat/{conversation_id}")
    async def chat_page(request: Request, who: SignedIn, conversation_id: str, message: str | None = None) -> None:
        try:
            conversation = await services.conversations.get(who.user.id, conversation_id[:64])
        except ConversationNotFound:  # someone else's conversation looks exactly like a missing one
            not_found("This conversation does not exist.")
            return
        at = message[:64] if message else None  # `?message=<id>` opens the conversation at that message
        await ChatView(services, who, request, conversation, pacer, at_message=at).build()

    @signed_in_page(guard, "/settings")
    async def settings_page(request: Request, who: SignedIn) -> None:
        await AccountSettingsView(services, who).build()

    @signed_in_page(guard, "/knowledge")
    async def knowledge_page(request: Request, who: SignedIn) -> None:
        await KnowledgeView(services, who).build()

    @signed_in_page(guard, "/knowledge/document/{document_id}")
    async def document_page(request: Request, who: SignedIn, document_id: str, chunk: int | None = None) -> None:
        found = await services.knowledge.document(who.user.id, document_id[:64])
        if found is None:
            not_found("This document does not exist.")
            return
        await DocumentView(services, who).build(*found, chunk)

    @signed_in_page(guard, "/admin")
    async def admin_page(request: Request, who: SignedIn) -> None:
        if not who.user.is_admin:  # the page does not exist for anyone else
            not_found("This page does not exist.")
            return
        await AdminView(services, who, str(request.base_url)).build()
