"""What every page shares: the stylesheet and script (static files, CSP-friendly) and the colour theme.

The theme is chosen per account (`users.theme`: system, light or dark) and applied while the page is built, so the
HTML already carries it (`<meta name="color-scheme">` and Quasar's dark flag are set before the first paint): no
flash of the wrong theme, even before the socket connects. `system` follows the device (`prefers-color-scheme`).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import Response
from fastapi.routing import APIRoute
from nicegui import app, ui

from chatui._patches import set_page_options
from chatui.ui import pwa
from chatui.ui.highlight import HIGHLIGHT_CSS_URL, stylesheet

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_URL = "/chatui-static"

THEMES = {"system": None, "light": False, "dark": True}
"""Each theme and the value NiceGUI's dark mode takes for it (None: follow the device)."""


VIEWPORT = "width=device-width, initial-scale=1, interactive-widget=resizes-content"
"""`resizes-content`: a phone's on-screen keyboard shrinks the page, so the message box stays just above it."""


def mount_static() -> None:
    app.add_static_files(STATIC_URL, STATIC_DIR)
    pwa.mount(STATIC_DIR, STATIC_URL)
    ui.menu_item.default_props("role=menuitem")  # Quasar's QItem says listitem, which a menu may not contain

    @app.get(HIGHLIGHT_CSS_URL, include_in_schema=False)
    def highlight_css() -> Response:
        return Response(stylesheet(), media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})

    for route in app.routes:  # files, not API: keep them out of the OpenAPI schema
        if isinstance(route, APIRoute) and route.path.startswith(STATIC_URL):
            route.include_in_schema = False


def page_head(theme: str = "system") -> ui.dark_mode:
    """Link the stylesheet and script, and paint the page in `theme` from its first frame; returns the switch."""
    dark = THEMES.get(theme)
    set_page_options(ui.context.client, dark=dark, viewport=VIEWPORT, language="en-US")  # lang: for screen readers
    head = (
        f'<link rel="stylesheet" href="{STATIC_URL}/chatui.css"><link rel="stylesheet" href="{HIGHLIGHT_CSS_URL}">'
        f'<script src="{STATIC_URL}/chatui.js" defer></script>'
        f'<script src="{STATIC_URL}/attach.js" defer></script>'
        f'<script src="{STATIC_URL}/cite.js" defer></script>'
        f'<script type="module" src="{STATIC_URL}/markdown.js"></script>'  # before NiceGUI's: it hooks DOMPurify
    )
    head += pwa.head_html(STATIC_URL)
    if dark is None:  # let the browser pick the canvas colour from the device before any script runs
        head += "<style>:root { color-scheme: light dark }</style>"
    ui.add_head_html(head)
    return ui.dark_mode(dark)
