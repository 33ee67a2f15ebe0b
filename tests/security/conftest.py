"""Fixtures for the security tests: a live server per module (shared with the API tests), Chromium, a loopback
"tracking" server that counts every request it gets, and `Watch`, which records what a page does that it must not.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.async_api import Page, Request
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import Response
from starlette.routing import Route

from testing.fakes.server import ThreadedServer
from tests.api.conftest import live_app, make_account
from tests.browser.conftest import browser, page

__all__ = ["Tracker", "Watch", "browser", "live_app", "make_account", "page", "tracker"]


class Tracker:
    """A loopback server that answers everything with a 1×1 GIF and counts the hits (a "tracking pixel")."""

    GIF = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")

    def __init__(self) -> None:
        self.hits: list[str] = []
        self._lock = threading.Lock()

        async def pixel(request: StarletteRequest) -> Response:
            with self._lock:
                self.hits.append(str(request.url))
            return Response(self.GIF, media_type="image/gif")

        self.server = ThreadedServer(Starlette(routes=[Route("/{path:path}", pixel)]))

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module")
def tracker() -> Iterator[Tracker]:
    tracker = Tracker()
    tracker.server.start()
    yield tracker
    tracker.server.stop()


# Runs in every frame before the page's own scripts: `window.__xss` reports any write to it, CSP violations are
# reported, and a MutationObserver reports every element or attribute inside a chat bubble that could run script
# or load something — at the moment it appears, so a transient state while a reply streams is caught too.
WATCH_SCRIPT = """
(() => {
  const report = (kind, detail) => window.__chatuiWatch(JSON.stringify({kind, detail, url: location.href}));
  let value;
  Object.defineProperty(window, "__xss", {
    configurable: false,
    get() { return value; },
    set(v) { value = v; report("xss", String(v)); },
  });
  document.addEventListener("securitypolicyviolation", (e) => report("csp", {
    directive: e.effectiveDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber,
  }));
  const inBubble = 'script, iframe, frame, object, embed, base, form, meta, link, style, ' +
    '[onerror], [onload], [onclick], [onmouseover], [onfocus], [ontoggle], [onbegin], [srcdoc], [formaction], ' +
    'a[href^="javascript:" i], a[href^="data:" i], a[href^="vbscript:" i], [xlink\\\\:href]';
  const inMarkdown = "img, svg, math, video, audio, source, picture, input, button, textarea, select";
  // The one element of our own that rendered Markdown holds: the code block's Copy code button, exactly as the
  // renderer writes it (Markdown input cannot produce a tag, so any other button is a finding).
  const copyButton = (el) =>
    el.matches('button.chatui-copy[type="button"]') && el.attributes.length === 2 && el.textContent === "Copy code";
  // And what the page's script makes of Markdown (static/markdown.js), each exactly where that script puts it: KaTeX's
  // output (MathML, and SVG for stretchy symbols) inside a typeset formula, a Mermaid drawing as an image of SVG
  // data in its block, a task list's disabled checkbox with only the attributes the renderer writes.
  const TASK_ATTRIBUTES = ["type", "class", "disabled", "checked", "aria-label"];
  const formula = ".chatui-math[data-typeset] > .katex, .chatui-math[data-typeset] > .katex-display";
  const typeset = (el) => el.matches("math, svg") && el.closest(formula);
  const diagram = (el) =>
    el.matches('img.chatui-diagram[src^="data:image/svg+xml"]') && el.parentElement?.matches(".chatui-mermaid");
  const task = (el) =>
    el.matches('input.chatui-task[type="checkbox"][disabled]') &&
    [...el.attributes].every((a) => TASK_ATTRIBUTES.includes(a.name));
  const ours = (el) => copyButton(el) || typeset(el) || diagram(el) || task(el);
  const offending = (el) =>
    (el.matches(inBubble) && el.closest(".q-message")) ||
    (el.matches(inMarkdown) && el.closest(".chat-markdown") && !ours(el));
  const check = (node) => {
    if (node.nodeType !== 1) return;
    for (const el of [node, ...node.querySelectorAll("*")]) {
      if (offending(el)) report("dom", el.outerHTML.slice(0, 300));
    }
  };
  new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === "childList") record.addedNodes.forEach(check);
      else check(record.target);
    }
  }).observe(document, { subtree: true, childList: true, attributes: true });
})();
"""


@dataclass
class Watch:
    """What the page did: writes to `window.__xss`, CSP violations, dangerous elements in bubbles, requests, errors."""

    page: Page
    xss: list[str] = field(default_factory=list)
    csp: list[dict[str, Any]] = field(default_factory=list)
    dom: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @classmethod
    async def start(cls, page: Page) -> Watch:
        watch = cls(page)
        await page.expose_function("__chatuiWatch", watch._report)
        await page.add_init_script(WATCH_SCRIPT)
        page.on("request", watch._request)
        page.on("pageerror", lambda error: watch.errors.append(f"pageerror: {error}"))
        page.on("console", lambda m: watch.errors.append(f"console: {m.text}") if m.type == "error" else None)
        return watch

    def _report(self, raw: str) -> None:
        event = json.loads(raw)
        {"xss": self.xss, "csp": self.csp, "dom": self.dom}[event["kind"]].append(event["detail"])

    def _request(self, request: Request) -> None:
        self.requests.append(request.url)
