"""The prompt library: a person's saved prompts, each inserted into the message box by typing `/` and its name.

A prompt's text may hold `{{variables}}`; inserting it asks for each one (in the order they first appear) and fills
them in (`fill`). Names are short, lower-case handles (`summarize`, `bug-report`), one of each name per person, so
that `/summ` finds one prompt; the title is what the list shows beside it. Someone else's prompt looks exactly like a
missing one (`PromptNotFound`).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from typing import Any

from chatui.conversations.errors import InvalidInput, NotFound
from storage.presets import PresetRepository, PromptGone, PromptNameTaken, SavedPrompt

PROMPT_NAME_MAX = 40
PROMPT_TITLE_MAX = 200
PROMPT_TEXT_MAX = 20_000
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
VARIABLE = re.compile(r"\{\{\s*([^{}\n]{1,60}?)\s*\}\}")
"""`{{ name }}`: any short text without braces or a line break between double braces, spaces around it ignored."""
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class PromptNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("This prompt does not exist.")


def variables(text: str) -> list[str]:
    """The variables of a prompt's text, each once, in the order they first appear."""
    return list(dict.fromkeys(match.group(1) for match in VARIABLE.finditer(text)))


def fill(text: str, values: Mapping[str, str]) -> str:
    """The text with each `{{variable}}` replaced by its value (one not given is left as it is)."""
    return VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def clean_prompt_name(name: str) -> str:
    cleaned = name.strip().lstrip("/").strip().lower()
    if not cleaned:
        raise InvalidInput("name", "The prompt's name is empty.")
    if len(cleaned) > PROMPT_NAME_MAX:
        raise InvalidInput("name", f"The prompt's name is longer than {PROMPT_NAME_MAX} characters.")
    if not NAME.match(cleaned):
        raise InvalidInput("name", "A prompt's name is one word: letters, digits, '-' and '_' (it follows '/').")
    return cleaned


def clean_prompt_title(title: str | None) -> str | None:
    cleaned = (title or "").strip()
    if len(cleaned) > PROMPT_TITLE_MAX:
        raise InvalidInput("title", f"The title is longer than {PROMPT_TITLE_MAX} characters.")
    if _CONTROL.search(cleaned) or "\n" in cleaned:
        raise InvalidInput("title", "The title contains control characters.")
    return cleaned or None


def clean_prompt_text(text: str) -> str:
    if not text.strip():
        raise InvalidInput("text", "The prompt's text is empty.")
    if len(text) > PROMPT_TEXT_MAX:
        raise InvalidInput("text", f"The prompt's text is longer than {PROMPT_TEXT_MAX:,} characters.")
    if "\x00" in text:
        raise InvalidInput("text", "The prompt's text contains a NUL character.")
    return text


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except PromptGone:
        raise PromptNotFound from None
    except PromptNameTaken as taken:
        raise InvalidInput("name", f"You already have a prompt named /{taken.args[0]}.") from None


class PromptLibrary:
    """A user's saved prompts (each method answers only for the user's own)."""

    def __init__(self, repository: PresetRepository) -> None:
        self.repository = repository

    async def list(self, user_id: str) -> list[SavedPrompt]:
        """The user's prompts by name."""
        return await self.repository.list_prompts(user_id)

    async def get(self, user_id: str, prompt_id: str) -> SavedPrompt:
        with _translated():
            return await self.repository.get_prompt(user_id, prompt_id[:64])

    async def create(self, user_id: str, name: str, text: str, title: str | None = None) -> SavedPrompt:
        cleaned = clean_prompt_name(name), clean_prompt_title(title), clean_prompt_text(text)
        with _translated():
            return await self.repository.create_prompt(user_id, *cleaned)

    async def update(self, user_id: str, prompt_id: str, **changes: Any) -> SavedPrompt:
        """Rename it, retitle it (None or "" clears the title) or change its text."""
        cleaned: dict[str, Any] = {}
        if "name" in changes:
            cleaned["name"] = clean_prompt_name(changes.pop("name"))
        if "title" in changes:
            cleaned["title"] = clean_prompt_title(changes.pop("title"))
        if "text" in changes:
            cleaned["text"] = clean_prompt_text(changes.pop("text"))
        if changes:
            raise InvalidInput(sorted(changes)[0], "A prompt has a name, a title and a text.")
        with _translated():
            return await self.repository.update_prompt(user_id, prompt_id[:64], cleaned)

    async def delete(self, user_id: str, prompt_id: str) -> None:
        with _translated():
            await self.repository.delete_prompt(user_id, prompt_id[:64])
