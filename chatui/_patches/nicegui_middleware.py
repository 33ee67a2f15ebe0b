"""NiceGUI's two HTTP middlewares, rewritten as plain ASGI: the same headers, much less waiting under load.

`ui.run()` adds `RedirectWithPrefixMiddleware` (prefixes a redirect's `Location` with `X-Forwarded-Prefix`) and
`SetCacheControlMiddleware` (long caching for NiceGUI's versioned assets). Both derive from Starlette's
`BaseHTTPMiddleware`, which runs the rest of the app in a task group and hands the response back through a memory
stream: each layer adds turns of the event loop to every HTTP request. Idle that is a fraction of a millisecond; with
200 pages streaming, every turn is long. There, `GET /api/health` took p99 62-88 ms with NiceGUI's layers and
14-20 ms without them, while the loop itself was never late by more than ~10 ms (`python -m bench.ui_pages --n 200`,
BENCHMARKS.md).

The replacements do the same work on the response's first message. `use_plain_middleware()` swaps them in when
Starlette builds the middleware stack (at the first ASGI call, after `ui.run()` added NiceGUI's). A NiceGUI that
renames or drops its middlewares keeps its own, and the test that looks for `BaseHTTPMiddleware` in the stack fails.

What breaks on upgrade: it replaces `Starlette.build_middleware_stack` on the app and rewrites `app.user_middleware`
(`Middleware.cls/args/kwargs`). A NiceGUI that adds another `BaseHTTPMiddleware` would keep it (slow, not broken);
`tests/test_framework_contract.py` fails then, and when the two classes or `cache_control_directives` move.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import core
from nicegui.middlewares import RedirectWithPrefixMiddleware, SetCacheControlMiddleware
from nicegui.version import __version__
from starlette.applications import Starlette
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatui._patches.marks import marked, replace

ASSETS = f"/_nicegui/{__version__}/"
DYNAMIC_ASSETS = f"{ASSETS}dynamic_resources/"


class _OnResponseStart:
    """Base: call `edit(scope, headers)` on the headers of every HTTP response, before they are sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_edited(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.edit(scope, MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, send_edited)

    def edit(self, scope: Scope, headers: MutableHeaders) -> None:
        raise NotImplementedError


class RedirectWithPrefix(_OnResponseStart):
    """Behind a proxy that mounts the app under a prefix, a redirect to `/x` goes to `<prefix>/x`."""

    def edit(self, scope: Scope, headers: MutableHeaders) -> None:
        location = headers.get("location")
        if location is not None and location.startswith("/"):
            headers["location"] = Headers(scope=scope).get("x-forwarded-prefix", "") + location


class CacheNiceGUIAssets(_OnResponseStart):
    """NiceGUI's versioned assets never change, so browsers may keep them (NiceGUI's `cache_control_directives`)."""

    def edit(self, scope: Scope, headers: MutableHeaders) -> None:
        path: str = scope["path"]
        if path.startswith(ASSETS) and not path.startswith(DYNAMIC_ASSETS):
            headers["cache-control"] = core.app.config.cache_control_directives


REPLACEMENTS: dict[Any, type[_OnResponseStart]] = {
    RedirectWithPrefixMiddleware: RedirectWithPrefix,
    SetCacheControlMiddleware: CacheNiceGUIAssets,
}


def use_plain_middleware(app: Starlette) -> None:
    """Replace NiceGUI's middlewares by the plain ones when `app` builds its middleware stack."""
    build: Callable[[], ASGIApp] = app.build_middleware_stack
    if marked(build, "replaces_nicegui_middleware"):  # the `user` fixture creates the app for every test
        return

    def build_with_replacements() -> ASGIApp:
        app.user_middleware = [
            Middleware(REPLACEMENTS[m.cls], *m.args, **m.kwargs) if m.cls in REPLACEMENTS else m
            for m in app.user_middleware
        ]
        return build()

    replace(app, "build_middleware_stack", build_with_replacements, "replaces_nicegui_middleware")
