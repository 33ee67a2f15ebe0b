"""Conversations and their messages, through the conversation service. Another user's id answers 404, exactly like
a missing one (the service's refusals become statuses in `chatui.api.errors`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response, status

from chatui.api.deps import CurrentUser, ServicesDep
from chatui.api.schemas import (
    CHAT_SETTINGS,
    AttachmentPublic,
    ConversationCreate,
    ConversationDetail,
    ConversationPublic,
    ConversationUpdate,
    ConversationUpdated,
    ForkCreate,
    MessagePublic,
    PageCursor,
    ReasoningPublic,
    SourcePublic,
    UsagePublic,
)
from chatui.bootstrap import Services
from chatui.conversations.reply_errors import error_for_reader
from storage import Conversation, ListFilter, PathPage
from storage.parts import Part

router = APIRouter(prefix="/api/conversations", tags=["conversations"])

NOT_FOUND = {404: {"description": "No such conversation (or message) for this user"}}
Cursor = Annotated[str | None, Query(max_length=64)]


def _public(conversation: Conversation, tags: list[str] | None = None) -> ConversationPublic:
    public = ConversationPublic.model_validate(conversation, from_attributes=True)
    public.tags = tags or []
    return public


async def _with_tags(services: Services, conversation: Conversation) -> ConversationPublic:
    return _public(conversation, (await services.organizer.tags_of([conversation.id])).get(conversation.id))


def messages_public(page: PathPage, *, admin: bool) -> list[MessagePublic]:
    """The page's messages as the API shows them, each with its versions (a failed reply's error worded for the
    reader: `error_for_reader`)."""
    shown = []
    for message in page.messages:
        siblings = page.siblings.get(message.id, [message.id])
        shown.append(
            MessagePublic(
                id=message.id,
                parent_id=message.parent_id,
                role=message.role,
                content=message.content,
                status=message.status,
                model=message.model,
                usage=UsagePublic(prompt_tokens=message.prompt_tokens, completion_tokens=message.completion_tokens),
                error=error_for_reader(message.error, admin=admin),
                cut_off=message.cut_off,
                created_at=message.created_at,
                sibling_ids=siblings,
                sibling_index=siblings.index(message.id) if message.id in siblings else 0,
                attachments=[
                    AttachmentPublic(
                        id=f.id,
                        name=f.name,
                        media_type=f.media_type,
                        size=f.size,
                        note=page.notes.get(message.id, {}).get(f.id),
                    )
                    for f in page.attachments.get(message.id, [])
                ],
                reasoning=_reasoning(page.reasoning.get(message.id)),
                sources=[SourcePublic.model_validate(s) for s in page.sources.get(message.id, [])],
            )
        )
    return shown


def _reasoning(part: Part | None) -> ReasoningPublic | None:
    if part is None:
        return None
    seconds = (part.data or {}).get("seconds")
    return ReasoningPublic(text=part.text or "", seconds=seconds if isinstance(seconds, int | float) else None)


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
    archived: Annotated[bool, Query(description="true: the archived ones (the Archived view) instead")] = False,
    folder_id: Annotated[str | None, Query(max_length=64, description="Only this folder's; empty: in none")] = None,
    tag: Annotated[str | None, Query(max_length=200, description="Only those with this tag")] = None,
    pinned: Annotated[bool | None, Query(description="true: only the pinned ones; false: only the others")] = None,
) -> list[ConversationPublic]:
    """The user's conversations, pinned first, then most recently active: all of them, or a page of `limit` (keyset
    pagination, so a conversation that moves to the top meanwhile is never shown twice). Archived ones are listed
    only with `?archived=true`."""
    only = ListFilter(archived, folder_id, None if tag is None else tag.strip().lower(), pinned)
    page = await services.conversations.list(
        signed_in.user.id, limit=limit, cursor=cursor if limit is not None else None, only=only
    )
    if page.next_cursor is not None:
        following = request.url.include_query_params(limit=limit, cursor=page.next_cursor)
        response.headers["Link"] = f'<{following.path}?{following.query}>; rel="next"'
    return [_public(c, page.tags.get(c.id)) for c in page.conversations]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ConversationPublic,
    responses={
        404: {"description": "No such preset for this user"},
        429: {"description": "More new conversations than CHATUI_CONVERSATIONS_PER_MINUTE (`Retry-After`)"},
    },
)
async def create_conversation(
    body: ConversationCreate, signed_in: CurrentUser, services: ServicesDep
) -> ConversationPublic:
    """A new, empty conversation with the chat settings given (without a system prompt: the account's default one);
    without a title it takes one from its first message. With `preset_id` it starts with that preset's model and
    settings (those given here win) and records it."""
    settings = {name: getattr(body, name) for name in CHAT_SETTINGS if name in body.model_fields_set}
    model, user_id = body.model, signed_in.user.id
    if body.preset_id is not None:
        model, settings = await services.presets.starting(user_id, body.preset_id, model, settings)
    conversation = await services.conversations.create(user_id, model, body.title, settings, preset_id=body.preset_id)
    return _public(conversation)


@router.get("/{conversation_id}", response_model=ConversationDetail, responses=NOT_FOUND)
async def get_conversation(
    conversation_id: str,
    signed_in: CurrentUser,
    services: ServicesDep,
    tree: bool = False,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
    before: Cursor = None,
    after: Cursor = None,
) -> ConversationDetail:
    """The conversation and its active path (a reply still streaming shows its text so far).

    `?tree=true`: every message of every version instead. `?limit=N`: the newest N messages of the path;
    with `&before=<id>` the N just above that message, with `&after=<id>` the N just below it; `cursor` says
    where the rest is.
    """
    user_id = signed_in.user.id
    conversation = await services.conversations.get(user_id, conversation_id)
    if tree:
        page = await services.conversations.tree(user_id, conversation_id)
    else:
        page = await services.conversations.path(user_id, conversation_id, limit=limit, before=before, after=after)
    messages = messages_public(page, admin=signed_in.user.is_admin)
    cursor = PageCursor(
        before=messages[0].id if messages and page.has_before else None,
        after=messages[-1].id if messages and page.has_after else None,
    )
    public = await _with_tags(services, conversation)
    return ConversationDetail(**public.model_dump(), messages=messages, cursor=cursor)


@router.patch("/{conversation_id}", response_model=ConversationUpdated, responses=NOT_FOUND)
async def update_conversation(
    conversation_id: str, body: ConversationUpdate, signed_in: CurrentUser, services: ServicesDep
) -> ConversationUpdated:
    """Rename it, change its model (the next reply comes from the new one) or its chat settings (system prompt,
    temperature, max tokens, top-p, seed; null clears one), switch to another version (`active_message_id`: the
    answer then carries the new active path), or file it: `pinned`, `archived`, `folder_id` (null: out of its
    folder), `tags` (replaces them). Filing it does not move it in time."""
    user_id, given = signed_in.user.id, body.model_fields_set
    service = services.conversations
    messages = None
    if "active_message_id" in given and body.active_message_id is not None:
        page = await service.switch_version(user_id, conversation_id, body.active_message_id)
        messages = messages_public(page, admin=signed_in.user.is_admin)
    if "title" in given and body.title is not None:
        await service.rename(user_id, conversation_id, body.title)
    settings = {name: getattr(body, name) for name in CHAT_SETTINGS if name in given}
    if "model" in given and body.model is not None:
        settings["model"] = body.model
    filing = {name: getattr(body, name) for name in ("pinned", "archived", "tags") if getattr(body, name) is not None}
    if "folder_id" in given:
        filing["folder_id"] = body.folder_id
    if "knowledge" in given:
        wanted = list(dict.fromkeys(body.knowledge or []))
        if await services.knowledge.readable(user_id, wanted) != wanted:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "Knowledge collection not found.")
        settings["knowledge"] = wanted
    if filing:
        await services.organizer.organize(user_id, [conversation_id], **filing)
    conversation = await service.update_settings(user_id, conversation_id, **settings)
    public = await _with_tags(services, conversation)
    return ConversationUpdated(**public.model_dump(), messages=messages)


@router.post(
    "/{conversation_id}/fork",
    status_code=status.HTTP_201_CREATED,
    response_model=ConversationPublic,
    responses={**NOT_FOUND, 429: {"description": "More new conversations than CHATUI_CONVERSATIONS_PER_MINUTE"}},
)
async def fork_conversation(
    conversation_id: str, body: ForkCreate, signed_in: CurrentUser, services: ServicesDep
) -> ConversationPublic:
    """A new conversation holding a copy of the path from the first message down to `message_id` (any version),
    with the same model and chat settings, made active there; the original is unchanged."""
    fork = await services.conversations.fork(signed_in.user.id, conversation_id[:64], body.message_id)
    return _public(fork)


@router.delete("/{conversation_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
async def delete_conversation(conversation_id: str, signed_in: CurrentUser, services: ServicesDep) -> Response:
    """Delete the conversation and its messages; a reply streaming in it is stopped first."""
    await services.conversations.delete(signed_in.user.id, conversation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
