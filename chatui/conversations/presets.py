"""Presets ("assistants"): named bundles of chat settings a new conversation starts with, and who may change them.

A preset holds a model, a system prompt, a temperature and tools, each optional (unset: the usual default). It is its
owner's; an administrator may publish one (`shared`), and everyone then sees it and may start a chat with it, but only
its owner (or an administrator) may change or delete it: for anyone else it is read-only (`ReadOnly`, 403), while
someone else's private preset looks exactly like a missing one (`PresetNotFound`, 404). Each value obeys the same rule
as the conversation setting it becomes (`chatui.conversations.rules`).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from typing import Any

from chatui.conversations.errors import InvalidInput, NotFound, ReadOnly
from chatui.conversations.rules import clean_model, clean_system_prompt, clean_temperature, clean_tools
from storage.presets import Preset, PresetGone, PresetReadOnly, PresetRepository

PRESET_NAME_MAX = 100
PRESET_SETTINGS = ("model", "system_prompt", "temperature", "tools")
"""What a preset may set; a conversation takes each one it sets (what the person chose themselves wins)."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class PresetNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("This preset does not exist.")


def clean_preset_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise InvalidInput("name", "The preset's name is empty.")
    if len(cleaned) > PRESET_NAME_MAX:
        raise InvalidInput("name", f"The preset's name is longer than {PRESET_NAME_MAX} characters.")
    if _CONTROL.search(cleaned):
        raise InvalidInput("name", "The preset's name contains control characters.")
    return cleaned


def _clean_setting(name: str, value: Any) -> Any:
    """One setting by the conversation's own rule (tools: None keeps the account's default, [] none)."""
    if name == "model":
        return clean_model(value) if value else None
    if name == "system_prompt":
        return clean_system_prompt(value)
    if name == "temperature":
        return clean_temperature(value)
    if name == "tools":
        return None if value is None else clean_tools(value)
    raise InvalidInput(name, "A preset sets only the model, system prompt, temperature and tools.")


def cleaned_settings(values: Mapping[str, Any]) -> dict[str, Any]:
    """Each setting by its rule: the API's presets, and an import's (`chatui.transfer.library`)."""
    return {name: _clean_setting(name, value) for name, value in values.items()}


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except PresetGone:
        raise PresetNotFound from None
    except PresetReadOnly:
        raise ReadOnly("This preset was published by an administrator: you can use it, not change it.") from None


class PresetService:
    """The presets a user sees (their own and the published ones), and the starting settings each gives."""

    def __init__(self, repository: PresetRepository) -> None:
        self.repository = repository

    async def list(self, user_id: str) -> list[Preset]:
        return await self.repository.list_presets(user_id)

    async def get(self, user_id: str, preset_id: str) -> Preset:
        with _translated():
            return await self.repository.get_preset(user_id, preset_id[:64])

    async def create(self, user_id: str, name: str, *, admin: bool, shared: bool = False, **settings: Any) -> Preset:
        if shared and not admin:
            raise ReadOnly("Only an administrator can publish a preset to everyone.")
        cleaned = cleaned_settings(settings)
        return await self.repository.create_preset(
            user_id, {**cleaned, "name": clean_preset_name(name), "shared": shared}
        )

    async def update(self, user_id: str, preset_id: str, *, admin: bool, **changes: Any) -> Preset:
        """Rename it, change its settings (None clears one) or, for an administrator, publish or withdraw it."""
        shared = changes.pop("shared", None)
        if shared is not None and not admin:
            raise ReadOnly("Only an administrator can publish a preset to everyone.")
        name = changes.pop("name", None)
        cleaned = cleaned_settings(changes)
        if name is not None:
            cleaned["name"] = clean_preset_name(name)
        if shared is not None:
            cleaned["shared"] = shared
        with _translated():
            return await self.repository.update_preset(user_id, preset_id[:64], cleaned, admin=admin)

    async def delete(self, user_id: str, preset_id: str, *, admin: bool) -> None:
        with _translated():
            await self.repository.delete_preset(user_id, preset_id[:64], admin=admin)

    async def starting(
        self, user_id: str, preset_id: str, model: str | None, settings: Mapping[str, Any]
    ) -> tuple[str | None, dict[str, Any]]:
        """The model and chat settings a conversation started from this preset gets: the preset's, under what the
        person chose themselves (`model`, `settings`). `PresetNotFound` unless the user sees it."""
        preset = await self.get(user_id, preset_id)
        return model or preset.model, {**preset_settings(preset), **settings}


def preset_settings(preset: Preset) -> dict[str, Any]:
    """The chat settings a preset sets (one it leaves unset keeps the usual default: the account's, the app's)."""
    values = {"system_prompt": preset.system_prompt, "temperature": preset.temperature, "tools": preset.tools}
    return {name: value for name, value in values.items() if value is not None}
