"""The model picker's list, and a health probe."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from chatui.api.deps import CurrentUser, ServicesDep
from chatui.api.schemas import Health, ModelPublic, ModelsPublic, ProviderPublic

router = APIRouter(prefix="/api", tags=["models"])


@router.get("/models", response_model=ModelsPublic)
async def list_models(signed_in: CurrentUser, services: ServicesDep, refresh: bool = False) -> ModelsPublic:
    """Every configured provider's models; one that is down is listed as unavailable, with its models of the last
    time it answered (`available` false, `reason` its error).

    A provider is waited on (at most `CHATUI_MODEL_LIST_TIMEOUT`) only when it was never listed, or on `refresh`
    when it answered quickly last time; one that hangs is listed from the cache and looked at again in the
    background."""
    models, statuses = await services.models.models(refresh=refresh)
    new_chat = await services.models.model_for_new_chat()
    return ModelsPublic(
        default=services.models.default_model,
        new_chat_model=new_chat.id,
        new_chat_notice=new_chat.reason,
        models=[ModelPublic(**asdict(m) | {"label": m.label or m.name}) for m in models],
        providers=[ProviderPublic(provider=s.provider, available=s.available, error=s.error) for s in statuses],
    )


@router.get("/health", response_model=Health)
async def health() -> Health:
    return Health(status="ok")
