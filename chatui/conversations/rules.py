"""Every rule a conversation's values obey, in one place: the service checks them, the API's schemas import them.

Three title lengths, each its own rule: what a title may be (`TITLE_MAX`, the column's size), the title a first
message gives (`FIRST_MESSAGE_TITLE`, then "..."), and the model's short title (`AI_TITLE_CHARS`, cut at a word).
"""

from __future__ import annotations

import math
import re

from chatui.conversations.errors import InvalidInput, Refusal, SendRefused
from providers.registry import qualify_model_id

TITLE_MAX = 200
FIRST_MESSAGE_TITLE = 50
AI_TITLE_CHARS = 60
MODEL_ID_MAX = 200
SYSTEM_PROMPT_MAX = 8_000
TEMPERATURE_RANGE = (0.0, 2.0)
UNDO_SECONDS = 8.0
"""How long a deleted conversation can be brought back."""
NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f]*$"
"""What a title or a model id may hold: no control characters (PostgreSQL refuses NUL in text)."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def clean_title(title: str) -> str:
    """A title as stored: trimmed, 1 to 200 characters, no control characters (PostgreSQL refuses NUL in text)."""
    cleaned = title.strip()
    if not cleaned:
        raise InvalidInput("title", "The title is empty.")
    if len(cleaned) > TITLE_MAX:
        raise InvalidInput("title", f"The title is longer than {TITLE_MAX} characters.")
    if _CONTROL.search(cleaned):
        raise InvalidInput("title", "The title contains control characters.")
    return cleaned


def clean_system_prompt(prompt: str | None) -> str | None:
    """A system prompt as stored: at most 8,000 characters, no NUL; blank means none."""
    if prompt is None or not prompt.strip():
        return None
    if len(prompt) > SYSTEM_PROMPT_MAX:
        raise InvalidInput("system_prompt", f"The system prompt is longer than {SYSTEM_PROMPT_MAX:,} characters.")
    if "\x00" in prompt:
        raise InvalidInput("system_prompt", "The system prompt contains a NUL character.")
    return prompt


def clean_temperature(temperature: float | None) -> float | None:
    """None (the provider's default) or a number from 0 to 2."""
    if temperature is None:
        return None
    low, high = TEMPERATURE_RANGE
    if isinstance(temperature, bool) or not math.isfinite(temperature) or not low <= temperature <= high:
        raise InvalidInput("temperature", f"The temperature must be between {low:g} and {high:g}.")
    return float(temperature)


def clean_model(model: str) -> str:
    cleaned = model.strip()
    if not cleaned or len(cleaned) > MODEL_ID_MAX or _CONTROL.search(cleaned):
        raise InvalidInput("model", "That is not a model id.")
    return qualify_model_id(cleaned)


def title_from_message(content: str) -> str:
    """The first 50 characters of the first message, then "..." when it was longer (whitespace collapsed)."""
    text = re.sub(r"\s+", " ", content).strip()
    return text if len(text) <= FIRST_MESSAGE_TITLE else text[:FIRST_MESSAGE_TITLE] + "..."


def check_message(content: str, max_chars: int) -> None:
    """`SendRefused` unless `content` is a message that can be sent: not blank, text only, at most `max_chars`."""
    if not content.strip():
        raise SendRefused(Refusal.EMPTY, "The message is empty.")
    if "\x00" in content or not _encodable(content):
        raise SendRefused(Refusal.INVALID, "The message contains characters that are not text.")
    if len(content) > max_chars:
        raise SendRefused(
            Refusal.TOO_LONG, f"The message is {len(content):,} characters long; the limit is {max_chars:,}."
        )


def _encodable(text: str) -> bool:
    """False for strings JSON let through but no database can store (lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
