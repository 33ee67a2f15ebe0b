"""Who is asking: the client's address, as both edges (REST and pages) count limits against it."""

from __future__ import annotations

from starlette.requests import HTTPConnection


def client_ip(connection: HTTPConnection) -> str:
    """The address limits count against: the peer's, or what a trusted proxy forwarded (`CHATUI_TRUSTED_PROXIES`;
    uvicorn rewrites the peer address for those only, see `Settings.proxy_options`)."""
    return connection.client.host if connection.client else "unknown"
