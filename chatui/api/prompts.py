"""The prompt library: saved prompts with `{{variables}}`, inserted in the message box by typing `/` and a name.

Someone else's prompt answers 404, exactly like a missing one. `variables` lists what inserting the prompt asks for.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from chatui.api.deps import CurrentUser, ServicesDep
from chatui.api.schemas import Strict
from chatui.conversations.prompts import PROMPT_NAME_MAX, PROMPT_TEXT_MAX, PROMPT_TITLE_MAX, variables
from storage.presets import SavedPrompt

router = APIRouter(prefix="/api/prompts", tags=["prompts"])

NOT_FOUND = {404: {"description": "No such prompt for this user"}}
INVALID = {422: {"description": "A name that is not one word, a name already used, an empty text"}}


class PromptCreate(Strict):
    name: str = Field(min_length=1, max_length=PROMPT_NAME_MAX * 2, description="What follows `/`: one word")
    title: str | None = Field(None, max_length=PROMPT_TITLE_MAX * 2, description="Shown beside the name")
    text: str = Field(min_length=1, max_length=PROMPT_TEXT_MAX, description="May hold `{{variables}}`")


class PromptUpdate(Strict):
    name: str | None = Field(None, min_length=1, max_length=PROMPT_NAME_MAX * 2)
    title: str | None = Field(None, max_length=PROMPT_TITLE_MAX * 2, description="null or empty clears it")
    text: str | None = Field(None, min_length=1, max_length=PROMPT_TEXT_MAX)


class PromptPublic(BaseModel):
    id: str
    name: str
    title: str | None
    text: str
    variables: list[str] = Field(description="The `{{variables}}` of the text, each once, in order")
    created_at: datetime
    updated_at: datetime


def _public(prompt: SavedPrompt) -> PromptPublic:
    return PromptPublic(
        id=prompt.id,
        name=prompt.name,
        title=prompt.title,
        text=prompt.text,
        variables=variables(prompt.text),
        created_at=prompt.created_at,
        updated_at=prompt.updated_at,
    )


@router.get("", response_model=list[PromptPublic])
async def list_prompts(signed_in: CurrentUser, services: ServicesDep) -> list[PromptPublic]:
    """Your prompts, by name."""
    return [_public(p) for p in await services.prompts.list(signed_in.user.id)]


@router.get("/{prompt_id}", response_model=PromptPublic, responses=NOT_FOUND)
async def get_prompt(prompt_id: str, signed_in: CurrentUser, services: ServicesDep) -> PromptPublic:
    return _public(await services.prompts.get(signed_in.user.id, prompt_id))


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PromptPublic, responses=INVALID)
async def create_prompt(body: PromptCreate, signed_in: CurrentUser, services: ServicesDep) -> PromptPublic:
    """A new prompt (its name is lower-cased; a leading `/` is dropped)."""
    return _public(await services.prompts.create(signed_in.user.id, body.name, body.text, body.title))


@router.patch("/{prompt_id}", response_model=PromptPublic, responses={**NOT_FOUND, **INVALID})
async def update_prompt(
    prompt_id: str, body: PromptUpdate, signed_in: CurrentUser, services: ServicesDep
) -> PromptPublic:
    """Rename it, retitle it or change its text (only what is given changes)."""
    changes = {n: getattr(body, n) for n in body.model_fields_set if n == "title" or getattr(body, n) is not None}
    return _public(await services.prompts.update(signed_in.user.id, prompt_id, **changes))


@router.delete("/{prompt_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
async def delete_prompt(prompt_id: str, signed_in: CurrentUser, services: ServicesDep) -> Response:
    await services.prompts.delete(signed_in.user.id, prompt_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
