"""The browser binding of the UI's sign-in: a one-time ticket works only in the browser that asked for it.

The UI signs in over NiceGUI's socket, which cannot set cookies, so it hands a one-time ticket to
`/auth/complete?ticket=...`, a plain GET that sets the session cookie. Without more, anyone holding a ticket for
*their own* account could make someone else's browser open that URL (a link in a chat message is enough) and sign
it in as themselves ("login CSRF"): what the victim types next lands in the attacker's account.

So every browser that opens the sign-in page gets a random cookie, `chatui_sign_in` (HttpOnly, SameSite=Strict,
for the browser session), and a ticket is issued for that value: the database keeps only the HMAC of ticket and
value together. `/auth/complete` recomputes it from the ticket in the URL and the cookie of the browser that opens
it; another browser has another value (or none), and the ticket is refused as if it had never existed.

The cookie is set here, in a small ASGI layer around `GET /login`, because a NiceGUI page cannot set cookies on its
own response; the value is also put into the request's cookie header, so the page reads it the same way whether the
browser sent it or it was just made.
"""

from __future__ import annotations

import secrets
from http.cookies import SimpleCookie

from starlette.types import ASGIApp, Message, Receive, Scope, Send

BINDING_COOKIE = "chatui_sign_in"
SIGN_IN_PATH = "/login"


class SignInBinding:
    def __init__(self, app: ASGIApp, secure_cookies: bool = False) -> None:
        self.app = app
        self.secure_cookies = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != SIGN_IN_PATH or scope["method"] not in {"GET", "HEAD"}:
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = list(scope["headers"])
        sent = b"; ".join(value for name, value in headers if name == b"cookie").decode("latin-1")
        cookies = SimpleCookie()
        try:
            cookies.load(sent)
        except Exception:  # an unparsable cookie header: treat it as if it carried no binding
            cookies = SimpleCookie()
        if BINDING_COOKIE in cookies and cookies[BINDING_COOKIE].value:
            await self.app(scope, receive, send)
            return
        value = secrets.token_urlsafe(32)
        merged = f"{sent}; {BINDING_COOKIE}={value}" if sent else f"{BINDING_COOKIE}={value}"
        scope = {**scope, "headers": [h for h in headers if h[0] != b"cookie"] + [(b"cookie", merged.encode())]}
        attributes = "; HttpOnly; Path=/; SameSite=Strict"
        if self.secure_cookies or scope.get("scheme") == "https":
            attributes += "; Secure"
        set_cookie = (b"set-cookie", f"{BINDING_COOKIE}={value}{attributes}".encode())

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), set_cookie]
            await send(message)

        await self.app(scope, receive, send_with_cookie)
