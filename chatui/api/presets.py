"""Presets ("assistants"): named bundles of model, system prompt, temperature and tools that **New chat** offers.

Yours and the ones an administrator published. Someone else's private preset answers 404, exactly like a missing
one; a published one of someone else's can be read and used but not changed (403). Start a conversation from one
with `POST /api/conversations {"preset_id": ...}`.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from chatui.api.deps import CurrentUser, ServicesDep
from chatui.api.schemas import ModelId, Strict, SystemPrompt, Temperature, ToolId
from chatui.conversations.presets import PRESET_NAME_MAX
from storage import SignedIn
from storage.presets import Preset

router = APIRouter(prefix="/api/presets", tags=["presets"])

NOT_FOUND = {404: {"description": "No such preset for this user (someone else's private one looks the same)"}}
READ_ONLY = {403: {"description": "A published preset of someone else's, or `shared` from a non-administrator"}}


class PresetFields(Strict):
    model: ModelId | None = Field(None, description="The model chats start on; null: the usual new-chat model")
    system_prompt: SystemPrompt | None = Field(None, description="null: the account's default system prompt")
    temperature: Temperature | None = Field(None, description="null: the provider's default")
    tools: list[ToolId] | None = Field(
        None, max_length=100, description="`server:tool` or `server:*` (GET /api/tools); null: the account's defaults"
    )
    shared: bool | None = Field(None, description="Published to everyone (administrators only)")


class PresetCreate(PresetFields):
    name: str = Field(min_length=1, max_length=PRESET_NAME_MAX * 2)


class PresetUpdate(PresetFields):
    """Only what is given changes; null clears a setting."""

    name: str | None = Field(None, min_length=1, max_length=PRESET_NAME_MAX * 2)


class PresetPublic(BaseModel):
    id: str
    name: str
    model: str | None
    system_prompt: str | None
    temperature: float | None
    tools: list[str] | None
    shared: bool
    mine: bool = Field(description="You made it")
    read_only: bool = Field(description="You may use it but not change it (someone else's published preset)")
    created_at: datetime
    updated_at: datetime


def _public(preset: Preset, signed_in: SignedIn) -> PresetPublic:
    mine = preset.user_id == signed_in.user.id
    return PresetPublic(
        id=preset.id,
        name=preset.name,
        model=preset.model,
        system_prompt=preset.system_prompt,
        temperature=preset.temperature,
        tools=preset.tools,
        shared=preset.shared,
        mine=mine,
        read_only=not mine and not signed_in.user.is_admin,
        created_at=preset.created_at,
        updated_at=preset.updated_at,
    )


@router.get("", response_model=list[PresetPublic])
async def list_presets(signed_in: CurrentUser, services: ServicesDep) -> list[PresetPublic]:
    """Your presets and the published ones, by name."""
    return [_public(p, signed_in) for p in await services.presets.list(signed_in.user.id)]


@router.get("/{preset_id}", response_model=PresetPublic, responses=NOT_FOUND)
async def get_preset(preset_id: str, signed_in: CurrentUser, services: ServicesDep) -> PresetPublic:
    return _public(await services.presets.get(signed_in.user.id, preset_id), signed_in)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PresetPublic,
    responses={**READ_ONLY, 422: {"description": "A value breaks the conversation setting's rule"}},
)
async def create_preset(body: PresetCreate, signed_in: CurrentUser, services: ServicesDep) -> PresetPublic:
    """A new preset of yours (`shared: true` publishes it to everyone: administrators only)."""
    settings = body.model_dump(exclude={"name", "shared"})
    preset = await services.presets.create(
        signed_in.user.id, body.name, admin=signed_in.user.is_admin, shared=bool(body.shared), **settings
    )
    return _public(preset, signed_in)


@router.patch("/{preset_id}", response_model=PresetPublic, responses={**NOT_FOUND, **READ_ONLY})
async def update_preset(
    preset_id: str, body: PresetUpdate, signed_in: CurrentUser, services: ServicesDep
) -> PresetPublic:
    """Rename it or change its settings (null clears one); an administrator publishes or withdraws it (`shared`)."""
    given = {name: getattr(body, name) for name in body.model_fields_set}
    changes = {n: v for n, v in given.items() if n not in ("name", "shared") or v is not None}
    preset = await services.presets.update(signed_in.user.id, preset_id, admin=signed_in.user.is_admin, **changes)
    return _public(preset, signed_in)


@router.delete("/{preset_id}", status_code=status.HTTP_204_NO_CONTENT, responses={**NOT_FOUND, **READ_ONLY})
async def delete_preset(preset_id: str, signed_in: CurrentUser, services: ServicesDep) -> Response:
    """Delete it; conversations started from it keep their settings."""
    await services.presets.delete(signed_in.user.id, preset_id, admin=signed_in.user.is_admin)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
