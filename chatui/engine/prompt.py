"""What a model is asked with: the path above the reply, cut to a budget of characters, then the new message — each
turn with its files, read into the provider's parts later (`chatui.engine.attachments`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from providers.base import Role
from storage.files import StoredFile
from storage.tree import Turn

ROLES: dict[str, Role] = {"user": "user", "assistant": "assistant", "system": "system"}
"""A stored message's role as a provider's: the rows hold plain strings, the providers take only these three."""


@dataclass(frozen=True, slots=True)
class Asked:
    """One turn of the prompt: its role, its text and its files (in their order in the message)."""

    role: Role
    text: str
    files: tuple[StoredFile, ...] = ()

    @property
    def images(self) -> list[StoredFile]:
        return [file for file in self.files if is_image(file)]


def is_image(file: StoredFile) -> bool:
    return file.media_type.startswith("image/")


def history_budget(prompt_max_chars: int, content: str | None) -> int:
    """How many characters of history fit beside the new message (`EngineOptions.prompt_max_chars` in all)."""
    return max(0, prompt_max_chars - len(content or ""))


def build_prompt(
    history: Sequence[Turn],
    content: str | None,
    files: Mapping[str, Sequence[StoredFile]] | None = None,
    new_files: Sequence[StoredFile] = (),
) -> list[Asked]:
    """What the model sees: every turn of the path that has text or files (partial replies included), in order,
    then the new user message with `new_files` (None: a regenerate answers the path as it is). `files`: the files
    of the path's messages, by message id.

    A history cut to the prompt's budget may begin with a reply; it then begins at the next user message instead
    (Anthropic refuses a conversation that opens with the assistant, and a reply without its question misleads).
    """
    files = files or {}
    turns = [
        Asked(ROLES[turn.role], turn.text, tuple(files.get(turn.id, ())))
        for turn in history
        if turn.role in ROLES and (turn.text or files.get(turn.id))
    ]
    first_user = next((i for i, turn in enumerate(turns) if turn.role != "assistant"), len(turns))
    prompt = turns[first_user:]
    if content is not None:
        prompt.append(Asked("user", content, tuple(new_files)))
    return prompt
