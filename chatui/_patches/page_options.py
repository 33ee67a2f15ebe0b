"""A page's dark mode, viewport and language, chosen for one load of the page while it is built.

What it changes: NiceGUI keeps these on the route's `page` object (`@ui.page(dark=..., viewport=..., language=...)`),
shared by every load of the route, and reads them through `page.resolve_dark/viewport/language` when it renders the
HTML. chatui's theme is per account and must be in the HTML already (no flash of the wrong theme before the socket
connects), so `set_page_options` gives the loading client a shallow copy of its page object with its own values:
the route's object is never edited, so the next user's load does not get this user's theme.

What breaks on upgrade: the page object has no `__slots__`, so renamed attributes would be set and silently ignored
(the page renders NiceGUI's defaults: light theme, no `lang`); `tests/test_framework_contract.py` checks that the
three attributes exist and that `resolve_*` read them, and the browser theme tests see the result.
"""

from __future__ import annotations

import copy

from nicegui import Client
from nicegui.language import Language


def set_page_options(client: Client, *, dark: bool | None, viewport: str, language: Language) -> None:
    """Render `client`'s page (this load only) with these options; `dark=None` follows the device."""
    client.page = copy.copy(client.page)
    client.page.dark = dark
    client.page.viewport = viewport
    client.page.language = language
