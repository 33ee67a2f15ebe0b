"""Account settings: the default system prompt of new conversations."""

from __future__ import annotations

from fastapi import APIRouter

from chatui.api.deps import CurrentUser, ServicesDep
from chatui.api.schemas import AccountSettings, AccountSettingsUpdate

router = APIRouter(prefix="/api/settings", tags=["settings"])


@router.get("", response_model=AccountSettings)
async def get_settings(signed_in: CurrentUser, services: ServicesDep) -> AccountSettings:
    prompt = await services.conversations.default_system_prompt(signed_in.user.id)
    return AccountSettings(default_system_prompt=prompt)


@router.patch("", response_model=AccountSettings)
async def update_settings(
    body: AccountSettingsUpdate, signed_in: CurrentUser, services: ServicesDep
) -> AccountSettings:
    """Change what is given; `default_system_prompt: null` (or blank) clears it. Existing conversations keep theirs."""
    prompt = await services.conversations.default_system_prompt(signed_in.user.id)
    if "default_system_prompt" in body.model_fields_set:
        prompt = await services.conversations.set_default_system_prompt(signed_in.user.id, body.default_system_prompt)
    return AccountSettings(default_system_prompt=prompt)
