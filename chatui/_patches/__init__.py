"""Every patch of NiceGUI, uvicorn, FastAPI or socket.io internals, in one place (the README lists them).

Each module's docstring says what it changes, why (with the measurement where there is one) and what breaks on an
upgrade; `tests/test_framework_contract.py` asserts every private name they touch, one test per patch, so an upgrade
fails a named test instead of silently disabling a guard.

- `install(app)` applies those that hook the framework, once per app (`create_app`): NiceGUI's middlewares as plain
  ASGI, the outbox that sends on connect, a deleted page's cycles broken (freed without a full collection), closed
  pages deleted a few milliseconds apart rather than in one turn of the loop, the guarded socket.io handlers, and (at
  start-up, before the first connection) uvicorn's `websockets-sansio` protocol; and a closed socket ends engine.io's
  read loop without an exception, whose traceback would hold the socket in a cycle; and a closed httpx response no
  longer kept in a cycle by its stream (a provider's reply freed at once).
- `lean_imports` acts on import: the package's first line imports NiceGUI and httpx without the Redis and HTTP
  clients they never use here (the launcher imports this package before `chatui.app`).
- The rest are called where they act: `include_routers` (app.py), `header_timeout_protocol` (main.py's `ui.run`),
  `set_page_options` (the theme, while a page is built), `delete_after` and `guard_pages_with` (the page guard).
"""

from __future__ import annotations

from chatui._patches.lean_imports import import_nicegui_lean

import_nicegui_lean()  # before anything below imports NiceGUI

from nicegui import App  # noqa: E402

from chatui._patches import socketio_guard  # noqa: E402
from chatui._patches.engineio_cycles import close_without_cycles  # noqa: E402
from chatui._patches.fastapi_lifespan import include_routers  # noqa: E402
from chatui._patches.httpx_cycles import release_closed_responses  # noqa: E402
from chatui._patches.nicegui_cycles import free_deleted_pages  # noqa: E402
from chatui._patches.nicegui_middleware import use_plain_middleware  # noqa: E402
from chatui._patches.nicegui_outbox import send_on_connect, stop_outboxes_at_shutdown  # noqa: E402
from chatui._patches.outbox_progress import delete_after  # noqa: E402
from chatui._patches.page_options import set_page_options  # noqa: E402
from chatui._patches.socketio_guard import guard_pages_with  # noqa: E402
from chatui._patches.staggered_deletes import stagger_page_deletions  # noqa: E402
from chatui._patches.uvicorn_http import header_timeout_protocol  # noqa: E402
from chatui._patches.uvicorn_ws import use_websockets_sansio  # noqa: E402

__all__ = [
    "delete_after",
    "guard_pages_with",
    "header_timeout_protocol",
    "include_routers",
    "install",
    "set_page_options",
]


def install(app: App) -> None:
    """Apply the framework hooks to NiceGUI's `app` (again for every test of the `user` fixture: each applies once)."""
    use_plain_middleware(app)
    send_on_connect()
    stop_outboxes_at_shutdown(app)  # before NiceGUI's own shutdown handlers, which `app.start()` adds
    free_deleted_pages()
    stagger_page_deletions()
    close_without_cycles()
    release_closed_responses()
    socketio_guard.install()
    app.on_startup(use_websockets_sansio)  # synchronous: runs inside the lifespan's start-up, before any connection
