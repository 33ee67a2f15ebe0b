"""NiceGUI's socket.io handlers, re-registered so that no UI event of a page runs without the page guard's consent.

What it changes: NiceGUI registers one socket.io handler per message type (`nicegui.nicegui`: `@sio.on('event')`
and so on) and each trusts the `client_id` inside the message: any socket that knows a page's id can click its
buttons, and a page whose session ended keeps acting for as long as its socket stays open (issue 11). `install()`
registers wrappers under the same names (`core.sio.on` replaces a handler of the same name), once per process:

- `event` (clicks, value changes, key presses) runs only when the sending socket is the page's own and the page
  guard's check (`chatui.ui.guard.PageGuard.allows`) says the page may act now;
- `javascript_response` and `ack` run only for the page's own socket;
- `log` (browser console messages forwarded to the server log) is replaced: own socket only, a known level, at most
  `MAX_LOG_CHARS`, on one line (`%r`), so nobody can forge server log lines;
- `connect`, `handshake` and `disconnect` stay NiceGUI's: the handshake is what puts a socket in the room named after
  its page's client id, which is how "the page's own socket" is told here (`own_client_id`).

What breaks on upgrade: a renamed handler is a loud `KeyError` at start-up; a NEW handler type would run unguarded,
so `tests/test_framework_contract.py` compares NiceGUI's handler set with `HANDLERS` below and fails on any change.
NiceGUI joining a page's socket to a room other than its client id would make every event refused (loudly: the
page tests fail).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from nicegui import Client, core

from chatui._patches.marks import mark, marked

browser_log = logging.getLogger("chatui.browser")

LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
MAX_LOG_CHARS = 500

HANDLERS = {
    "connect": "NiceGUI's (an implicit handshake)",
    "handshake": "NiceGUI's (joins the socket to its page's room)",
    "disconnect": "NiceGUI's",
    "event": "the page's own socket, and the page guard allows the page",
    "javascript_response": "the page's own socket",
    "ack": "the page's own socket",
    "log": "replaced: own socket, known level, truncated, one line",
}
"""Every socket.io handler NiceGUI registers, and what passes it here."""

PageCheck = Callable[[str], bool]
"""Whether the page with this client id may act now."""

_allows: PageCheck | None = None  # None: refuse every UI event (no page guard yet)


def guard_pages_with(allows: PageCheck) -> None:
    """Let UI events run only for pages that `allows` (the app's page guard; each `create_app` brings a new one)."""
    global _allows
    _allows = allows


def own_client_id(socket_id: str, msg: Any) -> str | None:
    """The message's client id if the sending socket belongs to that page (joined its room at the handshake)."""
    client_id = msg.get("client_id") if isinstance(msg, dict) else None
    if not isinstance(client_id, str) or client_id not in core.sio.rooms(socket_id):
        return None
    return client_id


def install() -> None:
    """Re-register NiceGUI's socket.io handlers behind the checks above (once: the `user` fixture re-runs the app)."""
    handlers = core.sio.handlers["/"]
    if marked(handlers.get("event"), "chatui_guarded"):
        return
    wrapped = {
        "event": _guarded(handlers["event"]),
        "javascript_response": _own_socket_only(handlers["javascript_response"]),
        "ack": _own_socket_only(handlers["ack"]),
        "log": _log,
    }
    for name, handler in wrapped.items():
        core.sio.on(name, mark(handler, "chatui_guarded"))


def _guarded(original: Callable[[str, Any], Any]) -> Callable[[str, Any], Any]:
    @functools.wraps(original)  # NiceGUI's handler stays reachable as `__wrapped__` (the contract test reads it)
    def event(socket_id: str, msg: Any) -> Any:
        client_id = own_client_id(socket_id, msg)
        if client_id is None or _allows is None or not _allows(client_id):
            return None
        return original(socket_id, msg)

    return event


def _own_socket_only(original: Callable[[str, Any], Any]) -> Callable[[str, Any], Any]:
    @functools.wraps(original)
    def handler(socket_id: str, msg: Any) -> Any:
        if own_client_id(socket_id, msg) is None:
            return None
        return original(socket_id, msg)

    return handler


def _log(socket_id: str, msg: Any) -> None:
    """The browser's console message for the server log, neutralised (see the module's docstring)."""
    client_id = own_client_id(socket_id, msg)
    if client_id is None or Client.instances.get(client_id) is None:
        return
    level = LOG_LEVELS.get(str(msg.get("level")).lower())
    if level is None:
        return
    message = str(msg.get("message"))[:MAX_LOG_CHARS]
    browser_log.log(min(level, logging.WARNING), "browser of page %s: %r", client_id, message)
