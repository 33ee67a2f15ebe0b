"""Account settings: the default system prompt of new conversations."""

from __future__ import annotations

from fastapi import APIRouter

from chatui.api.deps import CurrentUser, ServicesDep
from chatui.api.schemas import AccountSettings, AccountSettingsUpdate

router = APIRouter(prefix="/api/settings", tags=["settings"])


@router.get("", response_model=AccountSettings)
async def get_settings(signed_in: CurrentUser, services: ServicesDep) -> AccountSettings:
    prompt = await services.conversations.default_system_prompt(signed_in.user.id)
    tools = await services.conversations.default_tools(signed_in.user.id)
    return AccountSettings(default_system_prompt=prompt, default_tools=tools)


@router.patch("", response_model=AccountSettings)
async def update_settings(
    body: AccountSettingsUpdate, signed_in: CurrentUser, services: ServicesDep
) -> AccountSettings:
    """Change what is given; `default_system_prompt: null` (or blank) clears it, `default_tools: []` (or null) turns
    tools off for new chats. Existing conversations keep theirs."""
    conversations, user_id = services.conversations, signed_in.user.id
    prompt = await conversations.default_system_prompt(user_id)
    if "default_system_prompt" in body.model_fields_set:
        prompt = await conversations.set_default_system_prompt(user_id, body.default_system_prompt)
    if "default_tools" in body.model_fields_set:
        tools = await conversations.set_default_tools(user_id, body.default_tools)
    else:
        tools = await conversations.default_tools(user_id)
    return AccountSettings(default_system_prompt=prompt, default_tools=tools)
