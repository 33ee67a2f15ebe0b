"""What a new reply is built from: where it goes in the tree (`Anchor`) and what it is asked with
(`ReplyContext`), read in one transaction by `storage.replies`."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from storage.files import StoredFile
from storage.tree import Turn


class Anchor(StrEnum):
    """Where a new reply goes in the tree."""

    SEND = "send"
    """A new user message after the active leaf, then its reply."""
    REGENERATE = "regenerate"
    """A new reply (a sibling of the last one) to the user message that ends the active path."""
    EDIT = "edit"
    """A new version of a user message (beside it, under its parent), then its reply."""
    CONTINUE = "continue"
    """More of the reply that ends the active path, appended to that same message (it was stopped or cut off)."""


@dataclass(frozen=True, slots=True)
class ContinuedReply:
    """CONTINUE: the reply being carried on, as it is stored."""

    message_id: str
    content: str
    completion_tokens: int | None


@dataclass(frozen=True, slots=True)
class ReplyContext:
    """What a new reply is built from, read in one transaction."""

    model: str
    system_prompt: str | None
    temperature: float | None
    max_tokens: int | None
    top_p: float | None
    seed: int | None
    reasoning_effort: str | None
    parent_id: str | None
    """SEND/EDIT: the parent of the new user message; REGENERATE: the user message the reply answers."""
    turns: list[Turn]
    """From the root (or the oldest that fits the prompt's budget) down to `parent_id`."""
    edited_file_ids: list[str] = field(default_factory=list)
    """EDIT: the files of the edited message (a new version keeps them unless it names others)."""
    files: dict[str, list[StoredFile]] = field(default_factory=dict)
    """The files of the turns that have some, by message id, in their order in the message."""
    new_files: list[StoredFile] = field(default_factory=list)
    """SEND/EDIT: the files the new user message carries (those asked for, or on an EDIT the edited message's)."""
    continued: ContinuedReply | None = None
    """CONTINUE: the reply that goes on (`parent_id` is then the message it answers)."""
    tools: list[str] = field(default_factory=list)
    """The chat's tool selection (`server:tool`, `server:*`): what the model may call."""
    knowledge: list[str] = field(default_factory=list)
    """The knowledge collections attached to the chat (ids): passages are retrieved from them for the reply."""
