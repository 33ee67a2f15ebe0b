"""Security headers on every answer, and a Content-Security-Policy with a fresh nonce on every HTML page (pure ASGI).

Every response gets `X-Content-Type-Options`, `Referrer-Policy`, `X-Frame-Options` and `Cross-Origin-Opener-Policy`
(unless the app set them) and a policy. HTML gets the page policy with a nonce, which is added to the page's own
`<script>` tags: only HTML responses are buffered for that; every other body, streamed replies included, passes
through as it comes. The layer sits outermost among chatui's, so the refusals of the inner ones carry the headers too.

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
may load or run anything if a browser is made to open one as a document. The one exception is the service worker's
script (`/sw.js`, chatui.ui.pwa): a worker runs under the policy of its own response, and it must fetch the app's
files from its origin, so it gets `default-src 'self'` (still nothing from elsewhere, no eval, no inline script).

`/docs` and `/redoc` (FastAPI's Swagger UI and ReDoc) load their JavaScript, CSS and fonts from jsDelivr/Google
Fonts; they get the page policy plus exactly those hosts (and their inline bootstrap script gets the nonce). Offline
they render empty, but answer 200 and `/openapi.json` is always served locally. These pages show only the API
schema, never user data.
"""

from __future__ import annotations

import logging
import re
import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

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
SERVICE_WORKER_PATH = "/sw.js"
SHARE_PREFIX = "/s/"
SERVICE_WORKER_POLICY = "default-src 'self'; frame-ancestors 'none'"
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


def add_nonce(html: bytes, nonce: str) -> bytes:
    """Give every `<script` tag of a page the nonce (a second `nonce=` on a tag is ignored by browsers)."""
    return _SCRIPT_TAG.sub(b'<script nonce="' + nonce.encode() + b'"', html)


def add_headers(start: Message, path: str) -> str | None:
    """Put the policy and the common headers on a response's start (those the app did not set itself); for HTML,
    return the nonce its policy allows."""
    raw = list(start.get("headers", []))
    names = {k.lower() for k, _ in raw}
    content_type = next((v for k, v in raw if k.lower() == b"content-type"), b"")
    nonce = secrets.token_urlsafe(18) if content_type.lower().startswith(b"text/html") else None
    policy = SERVICE_WORKER_POLICY if path == SERVICE_WORKER_PATH else NON_HTML_POLICY
    if nonce is not None:
        policy = docs_policy(nonce) if path in DOCS_PATHS else page_policy(nonce)
    extra = [(b"content-security-policy", policy.encode()), *COMMON_HEADERS]
    if path.startswith(SHARE_PREFIX):  # a shared conversation (and its files): never in a search engine's index
        extra.append((b"x-robots-tag", b"noindex, nofollow"))
    start["headers"] = raw + [(k, v) for k, v in extra if k not in names]
    if nonce is not None and b"content-encoding" in names:  # cannot add the nonce: the page would run nothing
        log.warning("SecurityHeaders must sit inside compression to add CSP nonces (%s)", path)
        return None
    return nonce


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        head = scope["method"] == "HEAD"
        nonce: str | None = None
        held: Message | None = None  # the start of an HTML response, sent once its body has the nonce
        chunks: list[bytes] = []

        async def send_secured(message: Message) -> None:
            nonlocal held, nonce
            if message["type"] == "http.response.start":
                nonce = add_headers(message, path)
                if nonce is not None and not head:
                    held = message
                    return
            elif held is not None and nonce is not None and message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = add_nonce(b"".join(chunks), nonce)
                start, held = held, None
                start["headers"] = [
                    (k, str(len(body)).encode() if k.lower() == b"content-length" else v) for k, v in start["headers"]
                ]
                await send(start)
                message = {"type": "http.response.body", "body": body}
            await send(message)

        await self.app(scope, receive, send_secured)
