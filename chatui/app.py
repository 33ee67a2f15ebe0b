"""`create_app()`: the one function that builds the services and wires pages, API, socket and middleware.

`main.py` calls it before `ui.run`; NiceGUI's `user` test fixture re-runs `main.py` for every test, so everything
is registered here rather than at import time.
"""

from __future__ import annotations

import gc
import logging

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from nicegui import app, helpers

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
from chatui.config import Settings
from chatui.ui.routes import register_pages
from chatui.web.body_limits import BodyLimits
from chatui.web.csp import SecurityHeaders
from chatui.web.csrf import CrossSiteRefusal
from chatui.web.hosts import LoopbackHostOnly
from chatui.web.sign_in_binding import SignInBinding

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> Services:
    services = build_services(settings)
    services.prepare()
    app.state.services = services
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
    routers = (
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
        ws,
    )
    _patches.include_routers(app, (module.router for module in routers))
    register_pages(services)

    async def start() -> None:
        await services.start()
        _tune_garbage_collector()
        # Registered now, after NiceGUI's own shutdown handlers: pages' tasks end before the database closes.
        app.on_shutdown(services.stop)

    app.on_startup(start)
    return services


def _tune_garbage_collector() -> None:
    """Fewer and shorter full collections: they stop the event loop for as long as they walk the heap.

    With 100 pages streaming, a full (generation 2) collection took 110-250 ms, the largest pauses the lag benchmark
    saw. Two changes: what start-up built (modules, classes, settings: ~200,000 objects that live as long as the
    process) is frozen out of every later collection, and a full collection is considered after 100 rather than 10
    middle-generation ones. Cycles are still collected; they are just looked for less often. (Not under the test
    `user` fixture, which starts the app again in the same process for every test.)

    The launcher turns collection off while it imports and builds the app (`chatui.launcher.main`): nothing is
    collected before the freeze, which would walk every object built so far (0.3-0.5 s, before the server answers).
    The ~10,000 objects of cyclic garbage that start-up leaves (~3 MB, measured) stay frozen with the rest. Started
    any other way, with collection on, only the young generations are collected first (cheap: a full collection here
    walked 174,000 objects to free ~20).
    """
    if helpers.is_user_simulation():
        return
    if gc.isenabled():
        gc.collect(1)
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 100)
    gc.enable()


async def _invalid_request(_: Request, exc: Exception) -> JSONResponse:
    """422 that names what is wrong without echoing the input (a password, a megabyte, text JSON cannot encode)."""
    assert isinstance(exc, RequestValidationError)  # registered for that class only (Starlette types handlers wide)
    detail = [{"type": e["type"], "loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
    return JSONResponse({"detail": detail}, status_code=422)
