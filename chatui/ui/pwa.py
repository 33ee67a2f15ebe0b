"""An installable web app: a web manifest, icons and a service worker that caches the app shell and nothing else.

Browsers offer "Install" (Chrome) or "Add to Home Screen" (Safari) for a site with a manifest naming a start URL, a
standalone display and 192/512 px icons; the installed app opens full screen, without the browser's bars.

chatui cannot work offline (every page is built live by the server, over its socket), so the service worker does
not try. It keeps the files every page loads and that change only with a release: chatui's own stylesheet, scripts,
icons and KaTeX (`/chatui-static/`) and NiceGUI's versioned assets (`/_nicegui/<version>/`, which NiceGUI already
marks immutable). Everything else, and above all navigations (each page embeds a fresh per-tab client id: a cached
one would reconnect as a dead client), the API, `/ws`, NiceGUI's socket and uploads, goes to the network untouched:
the worker does not even answer for them, so no conversation and no API answer ever reaches its cache. The cache's
name carries a digest of the shell's files and the versions, so a release (or an edited file) changes the worker's
bytes, the browser installs it, and the new worker drops the old cache.

The worker runs under the policy of its own script response; `chatui.web.csp` gives `/sw.js` one that lets it fetch
from its own origin (the non-HTML policy, `default-src 'none'`, would block its every fetch).

The icons were drawn with Pillow (a white speech bubble on chatui's blue); the maskable ones keep the bubble inside
the central 80% that any mask shape leaves visible.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from fastapi import Response
from nicegui import __version__ as nicegui_version
from nicegui import app

from chatui.launcher import version
from chatui.web.csp import SERVICE_WORKER_PATH

MANIFEST_URL = "/manifest.webmanifest"
LIGHT = "#ffffff"
DARK = "#18191b"
"""The page's background in each theme (chatui.css `--chatui-bg`): the title bar of the installed app matches it."""


def _icons(static_url: str) -> list[dict[str, str]]:
    return [
        {"src": f"{static_url}/icons/chatui-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any"},
        {"src": f"{static_url}/icons/chatui-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any"},
        {
            "src": f"{static_url}/icons/chatui-maskable-192.png",
            "sizes": "192x192",
            "type": "image/png",
            "purpose": "maskable",
        },
        {
            "src": f"{static_url}/icons/chatui-maskable-512.png",
            "sizes": "512x512",
            "type": "image/png",
            "purpose": "maskable",
        },
    ]


def manifest(static_url: str) -> dict[str, object]:
    return {
        "id": "/",
        "name": "chatui",
        "short_name": "chatui",
        "description": "Chat with large language models: Ollama, OpenAI-compatible servers, Anthropic.",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": LIGHT,
        "theme_color": LIGHT,
        "icons": _icons(static_url),
    }


def head_html(static_url: str) -> str:
    """The page's links to the manifest and icons, and the title bar's colour in each theme."""
    return (
        f'<link rel="manifest" href="{MANIFEST_URL}">'
        f'<meta name="theme-color" media="(prefers-color-scheme: light)" content="{LIGHT}">'
        f'<meta name="theme-color" media="(prefers-color-scheme: dark)" content="{DARK}">'
        f'<link rel="apple-touch-icon" href="{static_url}/icons/apple-touch-icon.png">'
    )


WORKER = """// chatui's service worker (chatui/ui/pwa.py): the app shell from a cache, everything else from the network.
const CACHE = %(cache)s;
const SHELL = %(shell)s;
const CACHED = %(cached)s;  // path prefixes answered from the cache (filled on first use)

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  // Not answered here, so the browser fetches them as if there were no worker: pages, the API, /ws, sockets.
  if (request.method !== 'GET' || request.mode === 'navigate' || url.origin !== self.location.origin) return;
  if (!CACHED.some((prefix) => url.pathname.startsWith(prefix))) return;
  event.respondWith(
    caches.open(CACHE).then((cache) =>
      cache.match(request).then((hit) => hit || fetch(request).then((response) => {
        if (response.ok) cache.put(request, response.clone());
        return response;
      })),
    ),
  );
});
"""


def worker_script(static_dir: Path, static_url: str) -> str:
    """The worker's source; its cache name changes with any shell file, chatui's version or NiceGUI's."""
    digest = hashlib.sha256(f"{version()} {nicegui_version}".encode())
    for path in sorted(static_dir.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(static_dir).as_posix().encode() + b"\0" + path.read_bytes())
    shell = [
        f"{static_url}/chatui.css",
        f"{static_url}/chatui.js",
        f"{static_url}/attach.js",
        f"{static_url}/cite.js",
        f"{static_url}/markdown.js",
        *(icon["src"] for icon in _icons(static_url)),
    ]
    return WORKER % {
        "cache": json.dumps(f"chatui-shell-{digest.hexdigest()[:16]}"),
        "shell": json.dumps(shell),
        "cached": json.dumps([f"{static_url}/", f"/_nicegui/{nicegui_version}/"]),
    }


def mount(static_dir: Path, static_url: str) -> None:
    """Serve the manifest and the worker at the root (a worker controls only the paths below its own URL)."""
    manifest_body = json.dumps(manifest(static_url))
    worker_body = worker_script(static_dir, static_url)

    @app.get(MANIFEST_URL, include_in_schema=False)
    def web_manifest() -> Response:
        return Response(
            manifest_body, media_type="application/manifest+json", headers={"Cache-Control": "public, max-age=3600"}
        )

    @app.get(SERVICE_WORKER_PATH, include_in_schema=False)
    def service_worker() -> Response:
        # no-cache: the browser checks for a new worker on every visit (it does at most once a day on its own).
        return Response(worker_body, media_type="text/javascript", headers={"Cache-Control": "no-cache"})
