"""Who is asking: the client's address, as both edges (REST and pages) count limits against it, and whether a browser
request comes from this site (the one origin rule of `/ws` and of the cross-site refusal)."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection


def client_ip(connection: HTTPConnection) -> str:
    """The address limits count against: the peer's, or what a trusted proxy forwarded (`CHATUI_TRUSTED_PROXIES`;
    uvicorn rewrites the peer address for those only, see `Settings.proxy_options`)."""
    return connection.client.host if connection.client else "unknown"


def same_origin(origin: str, host: str | None) -> bool:
    """A browser's `Origin` header names this server: an http(s) origin whose host and port are the `Host` header's
    (the scheme aside: behind a TLS proxy the server sees http). `Origin: null` never is."""
    parts = urlsplit(origin)
    return bool(host) and parts.scheme in ("http", "https") and parts.netloc.lower() == (host or "").lower()


def is_cross_site(headers: Mapping[str, str]) -> bool:
    """A browser request that another site made: a foreign `Origin` (or `null`), or the browser's own cross-site
    marker (`Sec-Fetch-Site`). Requests without either header (curl, scripts, old browsers) are not."""
    if headers.get("sec-fetch-site") == "cross-site":
        return True
    origin = headers.get("origin")
    return origin is not None and not same_origin(origin, headers.get("host"))
