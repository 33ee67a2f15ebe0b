"""Requests that another site makes a browser send are refused before they reach a route (CSRF), as pure ASGI.

- A state-changing request (anything but GET/HEAD/OPTIONS) that a browser marks as coming from another site — a
  foreign `Origin`, `Origin: null`, or `Sec-Fetch-Site: cross-site` (`chatui.web.client.is_cross_site`) — gets 403.
- The one GET route that changes the session (`/auth/complete`, which turns a sign-in ticket into the cookie) gets
  403 too when another site navigates to it (`Sec-Fetch-Site: cross-site` or `same-site`), on top of the ticket's
  binding to the browser that asked for it (`chatui.web.sign_in_binding`). Signing out is never a GET.

Requests without these headers (curl, scripts, old browsers) are not cross-site.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from chatui.web.client import is_cross_site

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_CHANGING_GETS = frozenset({"/auth/complete"})


def refusal(method: str, path: str, headers: Headers) -> str | None:
    """Why this request is refused as cross-site, or None."""
    if method not in SAFE_METHODS and is_cross_site(headers):
        return "Cross-site requests are not allowed."
    if path in SESSION_CHANGING_GETS and headers.get("sec-fetch-site") in {"cross-site", "same-site"}:
        return "Another site cannot sign you in."
    return None


class CrossSiteRefusal:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            detail = refusal(scope["method"], scope["path"], Headers(scope=scope))
            if detail is not None:
                await JSONResponse({"detail": detail}, status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)
