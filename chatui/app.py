"""`create_app()`: the one function that builds the services and wires pages, API, socket and middleware.

`main.py` calls it before `ui.run`; NiceGUI's `user` test fixture re-runs `main.py` for every test, so everything
is registered here rather than at import time.
"""

from __future__ import annotations

import logging

from nicegui import app

from chatui.api import admin, auth, conversations, models, ws
from chatui.config import Settings
from chatui.middleware import SecurityMiddleware
from chatui.pages import register_pages
from chatui.services import Services, build_services
from chatui.single_user import LoopbackHostOnly

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> Services:
    services = build_services(settings)
    services.prepare()
    app.state.services = services
    app.add_middleware(SecurityMiddleware)
    if settings.single_user:
        app.add_middleware(LoopbackHostOnly)
    for router in (admin.router, auth.router, conversations.router, models.router, ws.router):
        app.include_router(router)
    register_pages(services)
    app.on_startup(services.start)
    app.on_shutdown(services.stop)
    return services
