"""A chatui export's presets and prompts, stored for the importing user before the conversations.

Run in the import's own process (`chatui.transfer.worker`). Each item obeys the rules the API applies to a preset or
a prompt made by hand (`chatui.conversations.presets`, `chatui.conversations.prompts`); one that breaks them is
reported by name and the import goes on. An imported preset is private (publishing is an administrator's act on this
server, not something a file brings), and the same preset imported again is the one already here, so a second import
creates nothing. A prompt whose name the user already has is left out (a name is what `/` finds), unless it is the
same prompt. `presets` maps each preset's id in the file to its id here: a conversation that started from one points
at it (`storage.transfer.write_conversation`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chatui.conversations.errors import InvalidInput
from chatui.conversations.presets import PRESET_SETTINGS, clean_preset_name, cleaned_settings
from chatui.conversations.prompts import clean_prompt_name, clean_prompt_text, clean_prompt_title
from chatui.transfer.reading import ExportFile, read_library
from storage.database import Database
from storage.presets import import_preset, import_prompt

T = TypeVar("T")
MAX_ITEMS = 1_000
"""Presets, and prompts, one import takes: far more than anyone saves by hand; the rest are reported."""


class _PresetIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=200)
    name: str
    model: str | None = None
    system_prompt: str | None = None
    temperature: float | None = None
    tools: list[str] | None = Field(None, max_length=100)


class _PromptIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    title: str | None = None
    text: str


@dataclass(slots=True)
class Library:
    """What was stored: each preset's id in the file → its id here, and how many presets and prompts are new."""

    presets: dict[str, str] = field(default_factory=dict)
    created_presets: int = 0
    created_prompts: int = 0


def store_library(export: ExportFile, db: Database, user_id: str, error: Callable[[str], None]) -> Library:
    """Store the export's presets and prompts (one transaction each); `error(text)` for each one left out."""
    stored = Library()
    seen = {"presets": 0, "prompts": 0}
    for key, item in read_library(export):
        seen[key] += 1
        if seen[key] == MAX_ITEMS + 1:
            error(f"More than {MAX_ITEMS:,} {key} in the file: the rest were left out.")
        if seen[key] > MAX_ITEMS:
            continue
        if key == "presets":
            _preset(db, user_id, item, seen[key], stored, error)
        else:
            _prompt(db, user_id, item, seen[key], stored, error)
    return stored


def _preset(db: Database, user_id: str, item: Any, index: int, stored: Library, error: Callable[[str], None]) -> None:
    def check() -> tuple[str, str, dict[str, Any]]:
        preset = _PresetIn.model_validate(item)
        settings = cleaned_settings({key: getattr(preset, key) for key in PRESET_SETTINGS})
        return preset.id, clean_preset_name(preset.name), settings

    checked = _checked("Preset", index, item, check, error)
    if checked is None:
        return
    source_id, name, settings = checked
    with db.engine.begin() as connection:
        preset_id, created = import_preset(connection, user_id, name, settings)
    stored.presets[source_id] = preset_id
    stored.created_presets += created


def _prompt(db: Database, user_id: str, item: Any, index: int, stored: Library, error: Callable[[str], None]) -> None:
    def check() -> tuple[str, str | None, str]:
        prompt = _PromptIn.model_validate(item)
        return clean_prompt_name(prompt.name), clean_prompt_title(prompt.title), clean_prompt_text(prompt.text)

    checked = _checked("Prompt", index, item, check, error)
    if checked is None:
        return
    with db.engine.begin() as connection:
        outcome = import_prompt(connection, user_id, *checked)
    if outcome == "taken":
        error(f"Prompt /{checked[0]}: you already have a prompt of this name; yours is kept.")
    stored.created_prompts += outcome == "created"


def _checked(kind: str, index: int, item: Any, check: Callable[[], T], error: Callable[[str], None]) -> T | None:
    """`check()`'s values, or None when the item breaks a rule (said through `error`, naming the item)."""
    try:
        return check()
    except ValidationError as exc:
        first = exc.errors()[0]
        error(f"{kind} #{index}: {'.'.join(str(p) for p in first['loc']) or 'the item'}: {first['msg']}")
    except InvalidInput as exc:
        error(f"{kind} #{index} {_label(item)}: {exc.message}")
    return None


def _label(item: Any) -> str:
    name = item.get("name") if isinstance(item, dict) else None
    return repr(name[:60]) if isinstance(name, str) else ""
