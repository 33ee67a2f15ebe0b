"""`GET /api/search`: the signed-in user's messages and conversation titles that match, best first."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from chatui.api.deps import CurrentUser, ServicesDep
from chatui.api.schemas import SearchPage, SearchResult

router = APIRouter(prefix="/api", tags=["search"])

MAX_OFFSET = 1_000


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The offset an earlier answer's `next_cursor` stands for; 400 for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if raw[:1] == "o" and raw[1:].isdigit() and int(raw[1:]) <= MAX_OFFSET:
            return int(raw[1:])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise HTTPException(status.HTTP_400_BAD_REQUEST, "That cursor is not one this server gave out.")


@router.get("/search", response_model=SearchPage)
async def search(
    signed_in: CurrentUser,
    services: ServicesDep,
    q: Annotated[str, Query(max_length=500, description='Words, "phrases"; the last word matches as a prefix')],
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
) -> SearchPage:
    """Ranked matches among your own messages and conversation titles.

    Words are ANDed, `"double quotes"` make a phrase, and the last word also matches longer words unless the query
    ends with a space. Every other character (`*`, `-`, `(`, `NEAR`, `OR`) is searched as text: no query fails.
    """
    offset = decode_cursor(cursor) if cursor else 0
    hits = await services.conversations.search(signed_in.user.id, q, limit=limit + 1, offset=offset)
    more = len(hits) > limit and offset + limit < MAX_OFFSET
    return SearchPage(
        results=[SearchResult.model_validate(hit, from_attributes=True) for hit in hits[:limit]],
        next_cursor=encode_cursor(offset + limit) if more else None,
    )
