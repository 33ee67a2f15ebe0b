"""Where a sign-in may send the person afterwards (`/login?next=...`): only back to a share link, so the parameter
can never become an open redirect (no other site, no `javascript:`, no `//host`)."""

from __future__ import annotations

import re

_SHARE_PATH = re.compile(r"/s/[A-Za-z0-9_-]{43}(\?continue=1)?")


def safe_next(path: str | None) -> str | None:
    """`path` if it is a share link's page (optionally asking to continue it), else None."""
    return path if path is not None and _SHARE_PATH.fullmatch(path) else None
