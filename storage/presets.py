"""Presets ("assistants") and the prompt library: what a person saves to stop typing the same things again.

A preset is a named bundle of chat settings (model, system prompt, temperature, tools) a new conversation starts with;
an administrator may publish one to everyone, who then see it read-only. A saved prompt is a text with `{{variables}}`
that the composer inserts when its name is typed after `/`. Both belong to one user: someone else's private one looks
exactly like a missing one (`PresetGone`, `PromptGone`). Kept apart from `ConversationRepository` because neither
touches a conversation's messages; conversations only record which preset they started from (`preset_id`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    false,
    insert,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm import Session as OrmSession

from storage.database import Repository, transaction
from storage.models import Base, UTCDateTime, new_id, utcnow


class Preset(Base):
    """A named bundle of chat settings; None in a field leaves it to the usual default (the account's, the app's)."""

    __tablename__ = "presets"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(200))
    system_prompt: Mapped[str | None] = mapped_column(Text)
    temperature: Mapped[float | None] = mapped_column(Float)
    tools: Mapped[list[str] | None] = mapped_column(JSON)
    """None: a conversation started from it takes the account's default tools; []: none."""
    shared: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Published by an administrator: everyone sees it (read-only) and may start a chat with it."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_presets_shared", "shared"),)


class SavedPrompt(Base):
    """A prompt of the library: `name` is what follows `/` in the composer, `text` may hold `{{variables}}`."""

    __tablename__ = "prompts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(40))
    title: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_prompts_user_name", "user_id", "name", unique=True),)


class PresetGone(Exception):
    """No such preset for this user (someone else's private one looks the same)."""


class PresetReadOnly(Exception):
    """Someone else's published preset: it may be used, not changed."""


class PromptGone(Exception):
    """No such prompt for this user."""


class PromptNameTaken(Exception):
    """The user already has a prompt of this name."""


def _visible(user_id: str) -> Any:
    return or_(Preset.user_id == user_id, Preset.shared == true())


class PresetRepository(Repository):
    @transaction
    def list_presets(self, s: OrmSession, user_id: str) -> list[Preset]:
        """The user's presets and the published ones, by name."""
        return list(s.scalars(select(Preset).where(_visible(user_id)).order_by(Preset.name, Preset.id)))

    @transaction
    def get_preset(self, s: OrmSession, user_id: str, preset_id: str) -> Preset:
        preset = s.scalars(select(Preset).where(Preset.id == preset_id, _visible(user_id))).one_or_none()
        if preset is None:
            raise PresetGone(preset_id)
        return preset

    @transaction
    def create_preset(self, s: OrmSession, user_id: str, values: dict[str, Any]) -> Preset:
        now = utcnow()
        preset = Preset(id=new_id(), user_id=user_id, created_at=now, updated_at=now, **values)
        s.add(preset)
        return preset

    @transaction
    def update_preset(
        self, s: OrmSession, user_id: str, preset_id: str, changes: dict[str, Any], *, admin: bool
    ) -> Preset:
        """Change the user's own preset (an administrator also any published one); `PresetReadOnly` for a published
        one of someone else's, `PresetGone` for one not visible at all."""
        preset = self._writable(s, user_id, preset_id, admin)
        for name, value in changes.items():
            setattr(preset, name, value)
        preset.updated_at = utcnow()
        return preset

    @transaction
    def delete_preset(self, s: OrmSession, user_id: str, preset_id: str, *, admin: bool) -> None:
        """Delete it; conversations started from it keep their settings (and the id, which then leads nowhere)."""
        s.delete(self._writable(s, user_id, preset_id, admin))

    @staticmethod
    def _writable(s: OrmSession, user_id: str, preset_id: str, admin: bool) -> Preset:
        preset = s.scalars(select(Preset).where(Preset.id == preset_id, _visible(user_id))).one_or_none()
        if preset is None:
            raise PresetGone(preset_id)
        if preset.user_id != user_id and not admin:
            raise PresetReadOnly(preset_id)
        return preset

    @transaction
    def library(self, s: OrmSession, user_id: str) -> tuple[list[Preset], list[SavedPrompt]]:
        """The user's own presets (not those others published) and prompts, oldest first: what an export carries."""
        presets = s.scalars(select(Preset).where(Preset.user_id == user_id).order_by(Preset.created_at, Preset.id))
        prompts = s.scalars(
            select(SavedPrompt).where(SavedPrompt.user_id == user_id).order_by(SavedPrompt.created_at, SavedPrompt.id)
        )
        return list(presets), list(prompts)

    # -- the prompt library ----------------------------------------------------------------------------------------

    @transaction
    def list_prompts(self, s: OrmSession, user_id: str) -> list[SavedPrompt]:
        return list(s.scalars(select(SavedPrompt).where(SavedPrompt.user_id == user_id).order_by(SavedPrompt.name)))

    @transaction
    def get_prompt(self, s: OrmSession, user_id: str, prompt_id: str) -> SavedPrompt:
        return self._prompt(s, user_id, prompt_id)

    @transaction
    def create_prompt(self, s: OrmSession, user_id: str, name: str, title: str | None, text: str) -> SavedPrompt:
        self._name_free(s, user_id, name, None)
        now = utcnow()
        prompt = SavedPrompt(
            id=new_id(), user_id=user_id, name=name, title=title, text=text, created_at=now, updated_at=now
        )
        s.add(prompt)
        return prompt

    @transaction
    def update_prompt(self, s: OrmSession, user_id: str, prompt_id: str, changes: dict[str, Any]) -> SavedPrompt:
        prompt = self._prompt(s, user_id, prompt_id)
        if "name" in changes:
            self._name_free(s, user_id, changes["name"], prompt_id)
        for name, value in changes.items():
            setattr(prompt, name, value)
        prompt.updated_at = utcnow()
        return prompt

    @transaction
    def delete_prompt(self, s: OrmSession, user_id: str, prompt_id: str) -> None:
        s.delete(self._prompt(s, user_id, prompt_id))

    @staticmethod
    def _prompt(s: OrmSession, user_id: str, prompt_id: str) -> SavedPrompt:
        query = select(SavedPrompt).where(SavedPrompt.id == prompt_id, SavedPrompt.user_id == user_id)
        prompt = s.scalars(query).one_or_none()
        if prompt is None:
            raise PromptGone(prompt_id)
        return prompt

    @staticmethod
    def _name_free(s: OrmSession, user_id: str, name: str, other_than: str | None) -> None:
        query = select(SavedPrompt.id).where(SavedPrompt.user_id == user_id, SavedPrompt.name == name)
        found = s.scalar(query.limit(1))
        if found is not None and found != other_than:
            raise PromptNameTaken(name)


# -- an import's, inside a transaction of the caller's (chatui.transfer.library) --------------------------------------

PRESET_FIELDS = ("model", "system_prompt", "temperature", "tools")


def import_preset(c: Connection, user_id: str, name: str, settings: dict[str, Any]) -> tuple[str, bool]:
    """The id of the user's own preset of this name and these very settings, and False (the same file imported
    again, or an export of this account); else a new private preset's id, and True."""
    same_name = c.execute(select(Preset.__table__).where(Preset.user_id == user_id, Preset.name == name)).all()
    for row in same_name:
        if all(getattr(row, key) == settings.get(key) for key in PRESET_FIELDS):
            return row.id, False
    preset_id, now = new_id(), utcnow()
    values = {key: settings.get(key) for key in PRESET_FIELDS}
    c.execute(
        insert(Preset).values(
            id=preset_id, user_id=user_id, name=name, shared=False, created_at=now, updated_at=now, **values
        )
    )
    return preset_id, True


def import_prompt(c: Connection, user_id: str, name: str, title: str | None, text: str) -> str:
    """Write the prompt unless the user has one of this name: `created`, `same` (theirs is this very prompt) or
    `taken` (theirs says something else, and is kept: a name is what `/` finds, one prompt each)."""
    query = select(SavedPrompt.title, SavedPrompt.text).where(SavedPrompt.user_id == user_id, SavedPrompt.name == name)
    mine = c.execute(query).first()
    if mine is not None:
        return "same" if (mine.title, mine.text) == (title, text) else "taken"
    now = utcnow()
    c.execute(
        insert(SavedPrompt).values(
            id=new_id(), user_id=user_id, name=name, title=title, text=text, created_at=now, updated_at=now
        )
    )
    return "created"
