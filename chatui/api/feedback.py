"""Feedback on replies: thumbs up or down with a comment; an administrator exports all of it as JSON Lines."""

from __future__ import annotations

import json
from typing import Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from chatui.api.deps import AdminUser, CurrentUser, ServicesDep
from chatui.api.schemas import Strict
from chatui.conversations.organizer import COMMENT_MAX

router = APIRouter(tags=["feedback"])


class FeedbackCreate(Strict):
    rating: Literal["up", "down"]
    comment: str | None = Field(None, max_length=COMMENT_MAX * 2)


class FeedbackPublic(BaseModel):
    message_id: str
    rating: str
    comment: str | None


@router.post(
    "/api/messages/{message_id}/feedback",
    response_model=FeedbackPublic,
    responses={404: {"description": "No such reply for this user (another user's message looks the same)"}},
)
async def rate(message_id: str, body: FeedbackCreate, signed_in: CurrentUser, services: ServicesDep) -> FeedbackPublic:
    """Rate one of your assistant's replies; rating it again replaces the rating (and the comment)."""
    feedback = await services.organizer.rate(signed_in.user.id, message_id[:64], body.rating, body.comment)
    return FeedbackPublic(message_id=feedback.message_id, rating=feedback.rating, comment=feedback.comment)


@router.delete(
    "/api/messages/{message_id}/feedback",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "No such reply for this user (another user's message looks the same)"}},
)
async def unrate(message_id: str, signed_in: CurrentUser, services: ServicesDep) -> Response:
    """Take back your rating of a reply (and its comment); 204 also when it had none, so a repeat is harmless."""
    await services.organizer.unrate(signed_in.user.id, message_id[:64])
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/api/admin/feedback", responses={403: {"description": "Administrators only"}})
async def export_feedback(admin: AdminUser, services: ServicesDep) -> Response:
    """Every rating as JSON Lines, oldest first, each with `path`: the conversation from its first message down to
    the rated reply (`role`, `content`), and the reply's `model`."""
    records = await services.organizer.all_feedback()
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    headers = {"Content-Disposition": 'attachment; filename="chatui-feedback.jsonl"'}
    return Response(body, media_type="application/x-ndjson", headers=headers)
