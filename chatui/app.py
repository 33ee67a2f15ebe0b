"""`create_app()`: the one function that builds the services and wires pages, API, socket and middleware.

`main.py` calls it before `ui.run`; NiceGUI's `user` test fixture re-runs `main.py` for every test, so everything
is registered here rather than at import time.
"""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from nicegui import Client, app, helpers

from chatui import _patches
from chatui.api import (
    admin,
    auth,
    conversations,
    errors,
    feedback,
    files,
    folders,
    knowledge,
    models,
    presets,
    prompts,
    search,
    shares,
    tools,
    transfer,
    ws,
)
from chatui.api import settings as account_settings
from chatui.bootstrap import Services, build_services
from chatui.bootstrap.collector import Collector
from chatui.config import Settings
from chatui.ui.routes import register_pages
from chatui.web.body_limits import BodyLimits
from chatui.web.csp import SecurityHeaders
from chatui.web.csrf import CrossSiteRefusal
from chatui.web.hosts import LoopbackHostOnly
from chatui.web.page_builds import PageBuildLimit
from chatui.web.sign_in_binding import SignInBinding

log = logging.getLogger(__name__)


# `/ws` first: FastAPI (0.165) matches a request against each included router's routes in turn, and a socket's
# handshake is on its first token's path (BENCHMARKS.md §26). No other route's path can match `/ws/...`, so the
# order changes nothing else.
API_MODULES = (
    ws,
    admin,
    auth,
    conversations,
    folders,
    feedback,
    presets,
    prompts,
    files,
    knowledge,
    models,
    search,
    shares,
    tools,
    transfer,
    account_settings,
)


def create_app(settings: Settings) -> Services:
    services = build_services(settings)
    services.prepare()
    app.state.services = services
    # innermost: a slot is held only while NiceGUI builds; its pages are the routes `@ui.page` registered
    app.add_middleware(PageBuildLimit, paths=lambda: Client.page_routes.values())
    if settings.single_user:
        app.add_middleware(LoopbackHostOnly)
    app.add_middleware(SignInBinding, secure_cookies=settings.secure_cookies)
    # Only the import and the attachments may be large (a file's limit plus room for its multipart framing).
    large_bodies = {
        "/api/import": services.imports.limits.max_bytes,
        "/api/files": files.body_limit(services.files.limits.max_bytes),
    }
    limits = services.knowledge.limits
    large_patterns = {knowledge.DOCUMENTS_PATH: knowledge.body_limit(limits.max_bytes, limits.files_per_upload)}
    app.add_middleware(BodyLimits, large_bodies=large_bodies, large_patterns=large_patterns)
    app.add_middleware(CrossSiteRefusal)
    app.add_middleware(SecurityHeaders)  # added last = outermost: its headers go on every answer, refusals included
    _patches.install(app)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    errors.install(app)
    _patches.include_routers(app, (module.router for module in API_MODULES))
    register_pages(services)
    collector = Collector()

    async def start() -> None:
        await services.start()
        if not helpers.is_user_simulation():  # the test `user` starts the app again in one process for every test
            collector.start()
            app.on_shutdown(collector.stop)
        # Registered now, after NiceGUI's own shutdown handlers: pages' tasks end before the database closes.
        app.on_shutdown(services.stop)

    app.on_startup(start)
    return services


async def _invalid_request(_: Request, exc: Exception) -> JSONResponse:
    """422 that names what is wrong without echoing the input (a password, a megabyte, text JSON cannot encode)."""
    assert isinstance(exc, RequestValidationError)  # registered for that class only (Starlette types handlers wide)
    detail = [{"type": e["type"], "loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
    return JSONResponse({"detail": detail}, status_code=422)
