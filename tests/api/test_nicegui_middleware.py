"""NiceGUI's HTTP middlewares are replaced by plain ASGI ones (`chatui._patches.nicegui_middleware`) that answer the
same."""

from __future__ import annotations

import gzip
import re

import httpx
import pytest
from nicegui import app
from nicegui.testing import User
from nicegui.version import __version__
from starlette.middleware.base import BaseHTTPMiddleware


async def test_a_redirect_keeps_the_prefix_of_the_proxy_in_front(live_app) -> None:
    async with httpx.AsyncClient(base_url=live_app.url) as client:
        plain = await client.get("/")
        prefixed = await client.get("/", headers={"X-Forwarded-Prefix": "/team-chat"})
    assert (plain.status_code, plain.headers["location"]) == (303, "/login")
    assert (prefixed.status_code, prefixed.headers["location"]) == (303, "/team-chat/login")


async def test_nicegui_assets_may_be_cached_and_pages_not(live_app) -> None:
    async with httpx.AsyncClient(base_url=live_app.url) as client:
        page = await client.get("/login")
        assets = re.findall(rf'"(/_nicegui/{re.escape(__version__)}/static/[^"]+\.js)"', page.text)
        assert assets, "the sign-in page links no NiceGUI script"
        asset = await client.get(assets[0])
    assert asset.status_code == 200
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable, stale-while-revalidate=31536000"
    assert "immutable" not in page.headers.get("cache-control", "")


@pytest.mark.usefixtures("app_env")
async def test_no_layer_of_the_served_app_is_a_base_http_middleware(user: User) -> None:
    await user.open("/login")  # the app has answered, so Starlette has built its middleware stack
    assert app.middleware_stack is not None
    layers = [m.cls for m in app.user_middleware]
    assert {"RedirectWithPrefix", "CacheNiceGUIAssets"} <= {getattr(c, "__name__", "") for c in layers}
    assert not [c for c in layers if isinstance(c, type) and issubclass(c, BaseHTTPMiddleware)]


async def test_pages_come_compressed_at_a_level_that_spares_the_event_loop(live_app) -> None:
    """gzip at `GZIP_LEVEL` (5), not Starlette's 9: the gzip header's XFL byte says 2 for zlib's slowest levels."""
    async with httpx.AsyncClient(base_url=live_app.url) as client, client.stream("GET", "/login") as page:
        raw = b"".join([chunk async for chunk in page.aiter_raw()])
    assert page.headers["content-encoding"] == "gzip"
    assert raw[:2] == b"\x1f\x8b" and raw[8] == 0, f"XFL {raw[8]}"
    assert b"<html" in gzip.decompress(raw)
