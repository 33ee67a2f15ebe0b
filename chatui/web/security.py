"""HTTP hardening as one pure ASGI middleware.

- A state-changing request (anything but GET/HEAD/OPTIONS) that a browser marks as coming from another site — a
  foreign `Origin`, `Origin: null`, or `Sec-Fetch-Site: cross-site` — is refused with 403 before it reaches a route.
  The one GET route that changes the session (`/auth/complete`, which turns a sign-in ticket into the cookie) is
  refused too when another site navigates to it (`Sec-Fetch-Site: cross-site` or `same-site`), on top of the
  ticket's binding to the browser that asked for it (`chatui.web.sign_in_binding`). Signing out is never a GET.
  Requests without these headers (curl, scripts, old browsers) are not cross-site.
- Request bodies larger than `max_body_bytes` are refused with 413: at once when `Content-Length` says so, and
  while reading when a chunked body grows past the limit. `large_bodies` raises the limit for named paths only
  (the import upload, which streams to disk); every other route keeps the small one.
- A JSON body must be interoperable JSON (I-JSON, RFC 7493): a lone UTF-16 surrogate (`"\\ud800"`) or a number
  that is not finite (`NaN`, `Infinity`, `1e999`) is refused with 400. Python's parser accepts both, but they cannot
  be stored or sent back as JSON: FastAPI's 422 answer echoes the bad value and fails to encode it (a 500), and
  SQLite cannot store a lone surrogate. Other parse errors are left to the route (400/422 as usual).
- Every response gets the security headers below; HTML gets a Content-Security-Policy with a fresh nonce, which is
  added to the page's own `<script>` tags. Only HTML responses and JSON request bodies (at most `max_body_bytes`)
  are buffered; every other body, streamed replies included, passes through as it comes.

Content-Security-Policy, found empirically with headless Chromium on NiceGUI 3.18 (sign in, send, a streaming
reply, the rename dialog, the model select, a reload; `securitypolicyviolation` events and console collected):

    default-src 'self'; script-src 'self' 'nonce-<per response>' 'unsafe-eval'; style-src 'self' 'unsafe-inline';
    img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self';
    form-action 'self'; frame-ancestors 'none'

- `'unsafe-inline'` is NOT needed for scripts. NiceGUI's page template has four inline scripts (the import map, the
  `addStyle` helper, the module that loads Vue, the module that mounts the app with the page's elements); without
  `'unsafe-inline'` or a nonce all four are blocked and the page stays blank. They get the nonce instead. Adding the
  nonce by rewriting the HTML is robust here because every literal `<script` in a NiceGUI page is NiceGUI's or ours:
  element data is embedded with `<`, `>`, `&`, backtick and `$` escaped (`nicegui.client.HTML_ESCAPE_TABLE`), the
  title is autoescaped by Jinja, and message text is rendered by `chatui.ui.rendering` with raw HTML disabled. With a
  nonce and no `'unsafe-inline'`, the browser also refuses inline event handlers (`onerror=`, `onload=`) and
  `javascript:` URLs, so an injection that got past both the Markdown renderer and DOMPurify still cannot run.
- `'unsafe-eval'` IS needed: NiceGUI ships Vue's in-browser template compiler (`vue.esm-browser.prod.js` compiles
  every component's `template` with `new Function`), and `nicegui.js` evaluates `:prop` expressions, JS event
  handlers and `run_javascript` with `eval`/`new Function`. Without it the page stays blank (violation: `eval` in
  vue.esm-browser.prod.js). It cannot be narrowed while NiceGUI compiles templates in the browser; the nonce still
  keeps any *injected* script from running, since eval only runs strings NiceGUI's own code hands it.
- `style-src 'unsafe-inline'`: the template's `<style>` blocks, Quasar, Tailwind's browser build and `addStyle`
  create style elements at run time (no nonce possible). Styles cannot run script.
- `connect-src 'self'`: Chromium matches `ws://`/`wss://` of the same host and port with `'self'` (CSP Level 3);
  NiceGUI's socket connects with the WebSocket transport under this policy (checked, no violation, no fallback to
  long-polling). `img-src 'self' data:` loads no remote image (Markdown images are links anyway);
  `frame-ancestors 'none'` (plus X-Frame-Options) stops clickjacking; `object-src 'none'`, `base-uri 'self'` and
  `form-action 'self'` close the classic non-script injection routes.

Responses that are not HTML (JSON, static files) get `default-src 'none'; frame-ancestors 'none'`: nothing in them
may load or run anything if a browser is made to open one as a document.

`/docs` and `/redoc` (FastAPI's Swagger UI and ReDoc) load their JavaScript, CSS and fonts from jsDelivr/Google
Fonts; they get the page policy plus exactly those hosts (and their inline bootstrap script gets the nonce). Offline
they render empty, but answer 200 and `/openapi.json` is always served locally. These pages show only the API
schema, never user data.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger(__name__)

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SESSION_CHANGING_GETS = {"/auth/complete"}
DOCS_PATHS = {"/docs", "/docs/oauth2-redirect", "/redoc"}

_COMMON = [
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
]
NON_HTML_POLICY = "default-src 'none'; frame-ancestors 'none'"
_SCRIPT_TAG = re.compile(rb"<script(?=[\s>/])", re.IGNORECASE)


def page_policy(nonce: str) -> str:
    """The policy of every HTML page (see the module docstring for why each source is there)."""
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}' 'unsafe-eval'",
            "style-src 'self' 'unsafe-inline'",
            *_COMMON,
        ]
    )


def docs_policy(nonce: str) -> str:
    """`/docs` and `/redoc`: the page policy plus the CDNs FastAPI's documentation pages load from."""
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}' https://cdn.jsdelivr.net",
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com",
            "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly",
            "font-src 'self' data: https://fonts.gstatic.com",
            "worker-src 'self' blob:",
            *[d for d in _COMMON if not d.startswith(("img-src", "font-src"))],
        ]
    )


COMMON_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
SECURITY_HEADERS = [(b"content-security-policy", NON_HTML_POLICY.encode()), *COMMON_HEADERS]


def is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


def json_problem(body: bytes) -> str | None:
    """Why a JSON body that Python can parse is still unacceptable (see the module docstring); None if fine."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None  # not JSON at all: the route answers that
    try:
        json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except UnicodeEncodeError:
        return "The request body contains a lone UTF-16 surrogate, which is not valid Unicode text."
    except ValueError:
        return "The request body contains a number that is not finite (NaN, Infinity or out of range)."
    except RecursionError:
        return None
    return None


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a body grows past the limit (FastAPI re-raises HTTPExceptions as they are)."""

    def __init__(self) -> None:
        super().__init__(413, "The request body is too large.")


def add_nonce(html: bytes, nonce: str) -> bytes:
    """Give every `<script` tag of a page the nonce (a second `nonce=` on a tag is ignored by browsers)."""
    return _SCRIPT_TAG.sub(b'<script nonce="' + nonce.encode() + b'"', html)


class SecurityMiddleware:
    def __init__(
        self, app: ASGIApp, max_body_bytes: int = 1_000_000, large_bodies: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.large_bodies = dict(large_bodies or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        method = scope.get("method", "GET")
        path = scope.get("path", "")
        if method not in SAFE_METHODS and is_cross_site(headers):
            await _reject(send, 403, "Cross-site requests are not allowed.")
            return
        if path in SESSION_CHANGING_GETS and headers.get("sec-fetch-site") in {"cross-site", "same-site"}:
            await _reject(send, 403, "Another site cannot sign you in.")
            return
        max_body_bytes = self.large_bodies.get(path, self.max_body_bytes) if method == "POST" else self.max_body_bytes
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > max_body_bytes:
            await _reject(send, 413, "The request body is too large.")
            return

        received = 0
        started = False
        nonce = secrets.token_urlsafe(18)
        held: Message | None = None  # the start of an HTML response, sent once its body has the nonce
        chunks: list[bytes] = []

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_body_bytes:
                    raise BodyTooLarge
            return message

        async def send_secured(message: Message) -> None:
            nonlocal started, held
            if message["type"] == "http.response.start":
                started = True
                raw = list(message.get("headers", []))
                names = {k.lower() for k, _ in raw}
                content_type = next((v for k, v in raw if k.lower() == b"content-type"), b"")
                html = content_type.lower().startswith(b"text/html")
                policy = NON_HTML_POLICY
                if html:
                    policy = docs_policy(nonce) if path in DOCS_PATHS else page_policy(nonce)
                extra = [(b"content-security-policy", policy.encode()), *COMMON_HEADERS]
                message["headers"] = raw + [(k, v) for k, v in extra if k not in names]
                if html and method != "HEAD":
                    if b"content-encoding" in names:  # cannot add the nonce: the page would run nothing
                        log.warning("SecurityMiddleware must sit inside compression to add CSP nonces (%s)", path)
                    else:
                        held = message
                        return
                await send(message)
                return
            if held is not None and message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = add_nonce(b"".join(chunks), nonce)
                start, held = held, None
                start["headers"] = [
                    (k, str(len(body)).encode() if k.lower() == b"content-length" else v) for k, v in start["headers"]
                ]
                await send(start)
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        app_receive = limited_receive
        if method not in SAFE_METHODS and is_json(headers.get("content-type", "")) and path not in self.large_bodies:
            try:
                body, app_receive = await _read_body(limited_receive)
            except BodyTooLarge:
                await _reject(send, 413, "The request body is too large.")
                return
            problem = json_problem(body)
            if problem is not None:
                await _reject(send, 400, problem)
                return

        try:
            await self.app(scope, app_receive, send_secured)
        except BodyTooLarge:
            if started:
                raise
            await _reject(send, 413, "The request body is too large.")


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole request body, and a `receive` that hands it to the app again (then the client's own events)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away: let the app see that
            pending: list[Message] = [message]
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            pending = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]
            break

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return b"".join(chunks), replay


def is_cross_site(headers: dict[str, str]) -> bool:
    """A browser request that another site made: a foreign Origin, or the browser's own cross-site marker."""
    if headers.get("sec-fetch-site") == "cross-site":
        return True
    origin = headers.get("origin")
    if origin is None:
        return False
    if origin == "null":
        return True
    return urlsplit(origin).netloc.lower() != headers.get("host", "").lower()


async def _reject(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *SECURITY_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
