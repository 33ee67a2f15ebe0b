"""Single-user mode's guard: only requests addressed to this machine by a loopback name are served.

Without sign-in, the server must not answer a web page that reaches it through DNS rebinding (a foreign name that
resolves to 127.0.0.1): such a page is same-origin with itself, so Origin checks pass, but its `Host` header carries
the foreign name. Checked for HTTP and WebSocket alike.
"""

from __future__ import annotations

from chatui.web.security import ASGIApp, Receive, Scope, Send

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "[::1]", "::1"}


def host_is_loopback(host_header: str) -> bool:
    host = host_header.strip().lower()
    if host.startswith("["):
        name = host.split("]")[0] + "]"
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return name in LOOPBACK_NAMES or name.startswith("127.")


class LoopbackHostOnly:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            host = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"host"), "")
            if not host_is_loopback(host):
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                body = b"single-user mode answers only to localhost"
                await send(
                    {
                        "type": "http.response.start",
                        "status": 403,
                        "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
