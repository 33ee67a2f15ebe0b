"""The server-side session check on every NiceGUI UI event, in one place.

NiceGUI delivers every click, value change and key press of a page as a socket.io `event` naming the page's
`client_id`, and runs its handler; nothing in between asks who is still signed in. So a page whose session was
revoked or expired kept acting for as long as its socket stayed open, whatever the server told it to do (issue 11).

Here each page is bound to its session when it is built (`PageGuard.enter`, called by every signed-in page route),
and socket.io's handlers are wrapped so that an event reaches NiceGUI only when

- the sending socket really is the page's (NiceGUI's handshake put it in the room named after the client id; NiceGUI
  itself trusts the `client_id` in the message), and
- the page is bound to a session that is alive right now (`AuthService.alive`, in memory: the check must not await,
  or a later event could overtake an earlier one), or the page is a public one (sign-in).

When the session ends (sign-out, password change, disabled account, idle or absolute expiry) its pages are sent to
`/login` and their clients deleted: their elements are gone, and NiceGUI ignores any later event for them.

The browser's `log` event (console messages forwarded to the server log) is replaced: only a page's own socket may
use it, at a known level, truncated, on one line (`%r`), so nobody can forge log lines.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from nicegui import Client, background_tasks, core, ui

from chatui.accounts.auth import COOKIE_NAME, AuthService
from storage import SignedIn

log = logging.getLogger(__name__)
browser_log = logging.getLogger("chatui.browser")

LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
MAX_LOG_CHARS = 500

_current: PageGuard | None = None  # the app's guard; `install` wraps socket.io's handlers once per process


class PageGuard:
    """Binds pages to sessions and decides which UI events may run."""

    def __init__(self, auth: AuthService, max_pages_per_session: int) -> None:
        self.auth = auth
        self.max_pages_per_session = max_pages_per_session
        self._session_of: dict[str, str] = {}  # client id → session id, for pages of a signed-in user
        self._pages: dict[str, set[str]] = {}  # session id → its pages' client ids
        self._public: set[str] = set()  # client ids of pages anyone may use (sign-in)

    def install(self) -> None:
        """Make this the guard of NiceGUI's socket (wrapping its handlers the first time)."""
        global _current
        _current = self
        _wrap_socketio_handlers()

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

    def allows(self, socket_id: str, msg: Any) -> bool:
        """Whether a UI event may run: sent by the page's own socket, for a page whose session is alive (or public)."""
        client_id = _own_client_id(socket_id, msg)
        if client_id is None:
            return False
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
        outbox = client.outbox
        sent_by = outbox.next_message_id + len(outbox.messages) + (1 if outbox.updates else 0) + 1
        with client:
            ui.navigate.to("/login")
        background_tasks.create(_delete_when_sent(client, sent_by), name=f"drop page {client.id}")

    def _forget(self, client_id: str) -> None:
        session_id = self._session_of.pop(client_id, None)
        pages = self._pages.get(session_id) if session_id else None
        if pages is not None:
            pages.discard(client_id)
            if not pages:
                del self._pages[session_id]  # type: ignore[arg-type]

    def pages_of(self, session_id: str) -> int:
        return len(self._pages.get(session_id, ()))


async def _delete_when_sent(client: Client, sent_by: int, patience: float = 3.0) -> None:
    """Delete the client once its outbox has sent the navigation to `/login` (deleting stops the outbox at once).

    The outbox signals nothing when it has sent, so this looks every 50 ms, for at most `patience` seconds.
    """
    for _ in range(int(patience / 0.05)):
        if client.outbox.next_message_id >= sent_by or client.is_deleted:
            break
        await asyncio.sleep(0.05)
    if not client.is_deleted and client.id in Client.instances:
        client.delete()


def _own_client_id(socket_id: str, msg: Any) -> str | None:
    """The message's client id if the sending socket belongs to that page (joined its room at the handshake)."""
    client_id = msg.get("client_id") if isinstance(msg, dict) else None
    if not isinstance(client_id, str) or client_id not in core.sio.rooms(socket_id):
        return None
    return client_id


def _guard_events(original: Callable[[str, Any], Any]) -> Callable[[str, Any], Any]:
    def event(socket_id: str, msg: Any) -> Any:
        if _current is None or not _current.allows(socket_id, msg):
            return None
        return original(socket_id, msg)

    return event


def _own_socket_only(original: Callable[[str, Any], Any]) -> Callable[[str, Any], Any]:
    def handler(socket_id: str, msg: Any) -> Any:
        if _own_client_id(socket_id, msg) is None:
            return None
        return original(socket_id, msg)

    return handler


def _log(socket_id: str, msg: Any) -> None:
    """The browser's console message for the server log, neutralised (see the module's docstring)."""
    client_id = _own_client_id(socket_id, msg)
    if client_id is None or Client.instances.get(client_id) is None:
        return
    level = LOG_LEVELS.get(str(msg.get("level")).lower())
    if level is None:
        return
    message = str(msg.get("message"))[:MAX_LOG_CHARS]
    browser_log.log(min(level, logging.WARNING), "browser of page %s: %r", client_id, message)


def _wrap_socketio_handlers() -> None:
    handlers = core.sio.handlers["/"]
    if getattr(handlers.get("event"), "chatui_guarded", False):
        return
    wrapped = {
        "event": _guard_events(handlers["event"]),
        "javascript_response": _own_socket_only(handlers["javascript_response"]),
        "ack": _own_socket_only(handlers["ack"]),
        "log": _log,
    }
    for name, handler in wrapped.items():
        handler.chatui_guarded = True  # type: ignore[attr-defined]
        core.sio.on(name, handler)
