"""Single-user mode's guard: only requests addressed to this machine by a loopback name are served.

Without sign-in, the server must not answer a web page that reaches it through DNS rebinding (a foreign name that
resolves to 127.0.0.1): such a page is same-origin with itself, so Origin checks pass, but its `Host` header carries
the foreign name. Checked for HTTP (403) and WebSocket (closed before the handshake completes) alike.

Not Starlette's `TrustedHostMiddleware`: it answers 400 rather than 403, and takes a list of exact names (or
`*.suffix`), where a loopback address is any of 127.0.0.0/8 and `::1`. The address is parsed as an address, so a
name that merely starts with `127.` (`127.attacker.example`, which anyone can point at 127.0.0.1) is foreign.
"""

from __future__ import annotations

import ipaddress

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocketClose


def host_is_loopback(host_header: str) -> bool:
    """`localhost` or a loopback address (IPv6 in brackets), with or without a port."""
    host = host_header.strip().lower()
    if host.startswith("["):
        name = host[1:].partition("]")[0]
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class LoopbackHostOnly:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and not host_is_loopback(Headers(scope=scope).get("host", "")):
            if scope["type"] == "websocket":
                await WebSocketClose(code=1008)(scope, receive, send)
            else:
                await PlainTextResponse("single-user mode answers only to localhost", 403)(scope, receive, send)
            return
        await self.app(scope, receive, send)
