"""Share links (issue 26): share a conversation's snapshot, list and revoke links, read one, continue it.

A link that does not exist, was revoked or has expired answers 404, exactly like another user's conversation. The
snapshot and its files are readable without signing in unless `CHATUI_SHARE_REQUIRES_LOGIN` is on; its files only
through `/s/{token}/files/{id}`, and only the files its messages carry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from chatui.accounts.auth import COOKIE_NAME
from chatui.api.deps import AdminUser, CurrentUser, ServicesDep
from chatui.api.files import file_response
from chatui.api.schemas import Strict
from chatui.conversations.shares import EXPIRY_DAYS_MAX, ShareLink, ShareNotFound
from storage.models import utcnow
from storage.shares import ShareInfo

router = APIRouter(tags=["shares"])

NOT_FOUND = {404: {"description": "No such link (revoked, expired), or not this user's conversation"}}


class ShareCreate(Strict):
    expires_in_days: int | None = Field(None, ge=1, le=EXPIRY_DAYS_MAX)
    """The link stops opening this many days from now; null or left out: it opens until revoked."""


class ShareCreated(BaseModel):
    token: str
    url: str
    shared_at: datetime
    expires_at: datetime | None


class SharePublic(BaseModel):
    """A link in a list; `token` and `url` only in the owner's own list."""

    id: str
    conversation_id: str
    title: str | None
    messages: int
    created_at: datetime
    shared_at: datetime
    expires_at: datetime | None
    expired: bool
    username: str | None = None
    token: str | None = None
    url: str | None = None


class ContinuedPublic(BaseModel):
    id: str


def _url(request: Request, token: str) -> str:
    return f"{request.base_url}s/{token}"


def _public(info: ShareInfo, link: ShareLink | None = None, request: Request | None = None) -> SharePublic:
    return SharePublic(
        id=info.id,
        conversation_id=info.conversation_id,
        title=info.title,
        messages=info.messages,
        created_at=info.created_at,
        shared_at=info.updated_at,
        expires_at=info.expires_at,
        expired=info.expires_at is not None and info.expires_at <= utcnow(),
        username=None if link is not None else info.username,
        token=link.token if link is not None else None,
        url=_url(request, link.token) if link is not None and request is not None else None,
    )


async def _may_read(request: Request, services: ServicesDep) -> None:
    """With `CHATUI_SHARE_REQUIRES_LOGIN`, links open for signed-in people only (401 for anyone else)."""
    settings = services.settings
    if settings.share_requires_login and await services.auth.resolve(request.cookies.get(COOKIE_NAME)) is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Sign in to open shared conversations.")


@router.post("/api/conversations/{conversation_id}/share", response_model=ShareCreated, responses=NOT_FOUND)
async def share_conversation(
    conversation_id: str,
    request: Request,
    signed_in: CurrentUser,
    services: ServicesDep,
    body: ShareCreate | None = None,
) -> ShareCreated:
    """Share the conversation as it is now: a read-only snapshot of its active path at `url` (`/s/{token}`).

    Sharing again updates the snapshot and keeps the token (and sets the expiry anew: `expires_in_days`, or none).
    """
    days = body.expires_in_days if body is not None else None
    link = await services.shares.share(signed_in.user.id, conversation_id[:64], days)
    return ShareCreated(
        token=link.token, url=_url(request, link.token), shared_at=link.info.updated_at, expires_at=link.info.expires_at
    )


@router.get("/api/conversations/{conversation_id}/share", response_model=SharePublic, responses=NOT_FOUND)
async def conversation_share(
    conversation_id: str, request: Request, signed_in: CurrentUser, services: ServicesDep
) -> SharePublic:
    """The conversation's link (404 if it is not shared)."""
    link = await services.shares.link_of(signed_in.user.id, conversation_id[:64])
    if link is None:
        raise ShareNotFound
    return _public(link.info, link, request)


@router.delete(
    "/api/conversations/{conversation_id}/share", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND
)
async def revoke_share(conversation_id: str, signed_in: CurrentUser, services: ServicesDep) -> Response:
    """End the link now: from this moment it answers 404, on every instance."""
    await services.shares.revoke(signed_in.user.id, conversation_id[:64])
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/api/shares", response_model=list[SharePublic])
async def my_shares(request: Request, signed_in: CurrentUser, services: ServicesDep) -> list[SharePublic]:
    """Your links, most recently shared first (expired ones too, `expired: true`, until revoked or shared again)."""
    return [_public(link.info, link, request) for link in await services.shares.links(signed_in.user.id)]


@router.get("/api/shares/{token}", responses=NOT_FOUND)
async def read_share(token: str, request: Request, services: ServicesDep) -> dict[str, Any]:
    """The snapshot: `title`, `model`, `shared_at`, `expires_at` and `messages` (`role`, `content`, `status`,
    `model`, `created_at`, `reasoning`, `files`)."""
    await _may_read(request, services)
    shared = await services.shares.open(token[:64])
    return {
        "title": shared.title,
        "model": shared.model,
        "shared_at": shared.shared_at,
        "expires_at": shared.expires_at,
        "messages": shared.messages,
    }


@router.post(
    "/api/shares/{token}/continue",
    status_code=status.HTTP_201_CREATED,
    response_model=ContinuedPublic,
    responses={**NOT_FOUND, 413: {"description": "Its files would take you past your quota"}},
)
async def continue_share(token: str, signed_in: CurrentUser, services: ServicesDep) -> ContinuedPublic:
    """Copy the shared conversation into your account (files included) and carry it on there: the new `id`."""
    return ContinuedPublic(id=await services.shares.continue_in(token[:64], signed_in.user.id))


@router.get("/s/{token}/files/{file_id}", response_class=StreamingResponse, responses=NOT_FOUND, tags=["files"])
async def shared_file(token: str, file_id: str, request: Request, services: ServicesDep) -> StreamingResponse:
    """A file the snapshot's messages carry, served as `GET /api/files/{id}` serves it to its owner."""
    await _may_read(request, services)
    shared = await services.shares.open(token[:64])
    stored = await services.files.get(shared.user_id, file_id[:64]) if file_id in shared.file_ids() else None
    if stored is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "File not found.")
    return file_response(services, stored)


@router.get("/api/admin/shares", response_model=list[SharePublic], responses={403: {"description": "Admins only"}})
async def all_shares(admin: AdminUser, services: ServicesDep) -> list[SharePublic]:
    """Every user's links with whose they are (`username`); their tokens are not shown."""
    return [_public(info) for info in await services.shares.all_links()]


@router.delete(
    "/api/admin/shares/{share_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**NOT_FOUND, 403: {"description": "Admins only"}},
)
async def revoke_any_share(share_id: str, admin: AdminUser, services: ServicesDep) -> Response:
    """End any user's link (by its `id` from `GET /api/admin/shares`)."""
    await services.shares.revoke_any(share_id[:64])
    return Response(status_code=status.HTTP_204_NO_CONTENT)
