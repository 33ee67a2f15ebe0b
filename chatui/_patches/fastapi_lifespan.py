"""`include_routers`: FastAPI's `include_router`, keeping the app's own lifespan instead of nesting it once more.

What it changes: at every `include_router` FastAPI replaces `app.router.lifespan_context` by a new context that
enters the old one and the included router's (`fastapi.routing._merge_lifespan_context`), even for routers without a
lifespan of their own (chatui's have none). NiceGUI's `user` test fixture runs `main.py`, and so `create_app`, once
per test in one process: the nesting grew by one per router (eight) per test until the lifespan's start-up hit
Python's recursion limit. So the app's `lifespan_context` is saved before the routers are included and put back
after.

What breaks on upgrade: a FastAPI that renames `lifespan_context` would make the restore set an attribute nobody
reads, and the recursion comes back in the `user` fixture after a few hundred tests (loud, but late);
`tests/test_framework_contract.py` checks the attribute, that `include_router` still replaces it and that the
router's lifespan enters whatever it holds. A router with a lifespan of its own would have it dropped here.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, FastAPI


def include_routers(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """`app.include_router` for each of `routers` (which have no lifespan), the app's lifespan left as it was."""
    lifespan = app.router.lifespan_context
    for router in routers:
        app.include_router(router)
    app.router.lifespan_context = lifespan
