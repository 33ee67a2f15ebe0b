"""What every page shares: the stylesheet and the scroll-keeping script, served as static files (CSP-friendly)."""

from __future__ import annotations

from pathlib import Path

from nicegui import app, ui

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
STATIC_URL = "/chatui-static"


def mount_static() -> None:
    app.add_static_files(STATIC_URL, STATIC_DIR)
    for route in app.routes:  # files, not API: keep them out of the OpenAPI schema
        if getattr(route, "path", "").startswith(STATIC_URL):
            route.include_in_schema = False  # type: ignore[attr-defined]


def page_head() -> None:
    ui.add_head_html(
        f'<link rel="stylesheet" href="{STATIC_URL}/chatui.css"><script src="{STATIC_URL}/chatui.js" defer></script>'
    )
