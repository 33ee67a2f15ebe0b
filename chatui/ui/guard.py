"""The server-side session check on every NiceGUI UI event, in one place.

NiceGUI delivers every click, value change and key press of a page as a socket.io `event` naming the page's
`client_id`, and runs its handler; nothing in between asks who is still signed in. So a page whose session was
revoked or expired kept acting for as long as its socket stayed open, whatever the server told it to do (issue 11).

Here each page is bound to its session when it is built (`PageGuard.enter`, called by every signed-in page route),
and an event reaches NiceGUI only when the sending socket is the page's own and the page is bound to a session that
is alive right now (`AuthService.alive`, in memory: the check must not await, or a later event could overtake an
earlier one), or the page is a public one (sign-in). The hooking of socket.io's handlers that asks this guard (and
neutralises the browser's `log` event) is a patch of NiceGUI: `chatui._patches.socketio_guard`.

When the session ends (sign-out, password change, disabled account, idle or absolute expiry) its pages are sent to
`/login` and their clients deleted: their elements are gone, and NiceGUI ignores any later event for them.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from nicegui import Client, ui

from chatui._patches import delete_after, guard_pages_with
from chatui.accounts.auth import COOKIE_NAME, AuthService
from storage import SignedIn


class PageGuard:
    """Binds pages to sessions and decides which UI events may run."""

    def __init__(self, auth: AuthService, max_pages_per_session: int) -> None:
        self.auth = auth
        self.max_pages_per_session = max_pages_per_session
        self._session_of: dict[str, str] = {}  # client id → session id, for pages of a signed-in user
        self._pages: dict[str, set[str]] = {}  # session id → its pages' client ids
        self._public: set[str] = set()  # client ids of pages anyone may use (sign-in)

    def install(self) -> None:
        """Make this the guard of every page's UI events (`chatui._patches.socketio_guard` asks it)."""
        guard_pages_with(self.allows)

    async def enter(self, request: Request) -> SignedIn | Response:
        """For a signed-in page route: the session, with the page being built bound to it; or the response instead.

        A request without a live session gets the redirect to `/login`; a session that already has its maximum of
        open pages gets 429 (each page holds server memory and a socket for as long as it is open).
        """
        signed_in = await self.auth.resolve(request.cookies.get(COOKIE_NAME))
        if signed_in is None:
            return RedirectResponse("/login", status_code=303)
        if not self.bind(ui.context.client, signed_in):
            return HTMLResponse(
                "<!doctype html><title>Too many open pages · chatui</title>"
                "<p>This sign-in has too many pages open. Close some tabs, then reload this one.</p>",
                status_code=429,
            )
        return signed_in

    def public(self) -> None:
        """The page being built needs no session (sign-in): its events run for anyone holding its socket."""
        client = ui.context.client
        self._public.add(client.id)
        client.on_delete(lambda: self._public.discard(client.id))

    def bind(self, client: Client, signed_in: SignedIn) -> bool:
        """Let `client`'s events run only while `signed_in` lives; False if its session has too many pages."""
        session_id = signed_in.session.id
        pages = self._pages.setdefault(session_id, set())
        if len(pages) >= self.max_pages_per_session:
            if not pages:
                del self._pages[session_id]
            return False
        pages.add(client.id)
        self._session_of[client.id] = session_id
        unsubscribe = self.auth.on_revoked(signed_in, lambda: self._drop(client))

        def unbind() -> None:
            unsubscribe()
            self._forget(client.id)

        client.on_delete(unbind)
        return True

    def allows(self, client_id: str) -> bool:
        """Whether a UI event of this page (sent by its own socket) may run: its session is alive, or it is public."""
        session_id = self._session_of.get(client_id)
        if session_id is None:
            return client_id in self._public
        if self.auth.alive(session_id):
            return True
        client = Client.instances.get(client_id)
        if client is not None:
            self._drop(client)
        return False

    def _drop(self, client: Client) -> None:
        """The page's session ended: refuse its events from now on, send it to sign-in and delete its client."""
        self._forget(client.id)
        if client.is_deleted or client.id not in Client.instances:
            return
        delete_after(client, lambda: ui.navigate.to("/login"))

    def _forget(self, client_id: str) -> None:
        session_id = self._session_of.pop(client_id, None)
        pages = self._pages.get(session_id) if session_id else None
        if session_id and pages is not None:
            pages.discard(client_id)
            if not pages:
                del self._pages[session_id]

    def pages_of(self, session_id: str) -> int:
        return len(self._pages.get(session_id, ()))
