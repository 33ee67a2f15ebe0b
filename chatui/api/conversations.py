"""Conversations and their messages. Another user's id answers 404, exactly like a missing one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response, status

from chatui.api.deps import CurrentUser, ServicesDep
from chatui.api.schemas import (
    ConversationCreate,
    ConversationDetail,
    ConversationPublic,
    ConversationUpdate,
    MessagePublic,
)
from providers.registry import qualify_model_id
from storage import Conversation, Message

router = APIRouter(prefix="/api/conversations", tags=["conversations"])

NOT_FOUND = {404: {"description": "No such conversation for this user"}}


def _public(conversation: Conversation) -> ConversationPublic:
    return ConversationPublic.model_validate(conversation, from_attributes=True)


def _not_found() -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, "Conversation not found.")


PAGE_LINK = {
    "description": 'With `limit`: the next page\'s address, `<...?limit=N&cursor=C>; rel="next"` (RFC 8288), '
    "absent on the last page.",
    "schema": {"type": "string"},
}


@router.get(
    "",
    response_model=list[ConversationPublic],
    responses={200: {"headers": {"Link": PAGE_LINK}}, 422: {"description": "A cursor this list did not give out"}},
)
async def list_conversations(
    request: Request,
    response: Response,
    signed_in: CurrentUser,
    services: ServicesDep,
    limit: Annotated[int | None, Query(ge=1, le=200, description="Page size; without it, every conversation")] = None,
    cursor: Annotated[str | None, Query(max_length=200, description="From the previous page's `Link` header")] = None,
) -> list[ConversationPublic]:
    """The user's conversations, most recently active first: all of them, or a page of `limit` (keyset pagination,
    so a conversation that moves to the top meanwhile is never shown twice)."""
    try:
        page = await services.chats.list_conversations(
            signed_in.user.id, limit=limit, cursor=cursor if limit is not None else None
        )
    except ValueError:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "Unknown cursor.") from None
    if page.next_cursor is not None:
        following = request.url.include_query_params(limit=limit, cursor=page.next_cursor)
        response.headers["Link"] = f'<{following.path}?{following.query}>; rel="next"'
    return [_public(c) for c in page.conversations]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ConversationPublic)
async def create_conversation(
    body: ConversationCreate, signed_in: CurrentUser, services: ServicesDep
) -> ConversationPublic:
    """A new, empty conversation; without a title it takes one from its first message."""
    model = qualify_model_id(body.model) if body.model else (await services.models.model_for_new_chat()).id
    conversation = await services.chats.create_conversation(signed_in.user.id, model, body.title)
    return _public(conversation)


@router.get("/{conversation_id}", response_model=ConversationDetail, responses=NOT_FOUND)
async def get_conversation(conversation_id: str, signed_in: CurrentUser, services: ServicesDep) -> ConversationDetail:
    """The conversation and its messages; a reply still streaming shows its text so far."""
    conversation = await services.chats.get_conversation(signed_in.user.id, conversation_id)
    if conversation is None:
        raise _not_found()
    live = services.engine.current(conversation_id)
    messages = await services.chats.messages(conversation_id)
    return ConversationDetail(
        **_public(conversation).model_dump(),
        messages=[_message(m, live.text if live and live.message_id == m.id else None) for m in messages],
    )


def _message(message: Message, live_text: str | None) -> MessagePublic:
    public = MessagePublic.model_validate(message, from_attributes=True)
    if live_text is not None:
        public.content = live_text
    return public


@router.patch("/{conversation_id}", response_model=ConversationPublic, responses=NOT_FOUND)
async def update_conversation(
    conversation_id: str, body: ConversationUpdate, signed_in: CurrentUser, services: ServicesDep
) -> ConversationPublic:
    """Rename the conversation or change its model (the next reply comes from the new one)."""
    changes: dict[str, object] = {}
    if "title" in body.model_fields_set:
        changes["title"] = body.title
    if "model" in body.model_fields_set and body.model is not None:
        changes["model"] = qualify_model_id(body.model)
    conversation = await services.chats.update_conversation(signed_in.user.id, conversation_id, **changes)
    if conversation is None:
        raise _not_found()
    return _public(conversation)


@router.delete("/{conversation_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
async def delete_conversation(conversation_id: str, signed_in: CurrentUser, services: ServicesDep) -> Response:
    """Delete the conversation and its messages; a reply streaming in it is stopped first."""
    if not await services.engine.delete_conversation(signed_in.user.id, conversation_id):
        raise _not_found()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
