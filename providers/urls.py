"""Provider base URLs may carry secrets: `http://user:password@host/` or `?token=...`. Use them, never show them."""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit


def without_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """The URL without its user name and password, and those two (percent-decoded) if it had them."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, host = parts.netloc.rpartition("@")
    username, _, password = userinfo.partition(":")
    clean = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return clean, (unquote(username), unquote(password))


def redact_url(url: str) -> str:
    """The URL as it may be shown (pages, `/api/models`, logs, errors): no user name or password, query values
    replaced by `***`, no fragment."""
    parts = urlsplit(url)
    query = urlencode([(key, "***") for key, _ in parse_qsl(parts.query, keep_blank_values=True)], safe="*")
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, query, ""))
