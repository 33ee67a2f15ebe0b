"""Every rule a conversation's values obey, in one place: the service checks them, the API's schemas import them.

Three title lengths, each its own rule: what a title may be (`TITLE_MAX`, the column's size), the title a first
message gives (`FIRST_MESSAGE_TITLE`, then "..."), and the model's short title (`AI_TITLE_CHARS`, cut at a word).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from chatui.conversations.errors import InvalidInput, Refusal, SendRefused
from chatui.tools.types import parse_selection
from providers.base import EFFORTS
from providers.registry import qualify_model_id

TITLE_MAX = 200
FIRST_MESSAGE_TITLE = 50
AI_TITLE_CHARS = 60
MODEL_ID_MAX = 200
SYSTEM_PROMPT_MAX = 8_000
TEMPERATURE_RANGE = (0.0, 2.0)
MAX_TOKENS_RANGE = (1, 1_000_000)
TOP_P_RANGE = (0.0, 1.0)
"""Nucleus sampling: the share of probability mass sampled from (above 0, at most 1)."""
SEED_RANGE = (0, 2**31 - 1)
"""What every provider with a seed takes (Ollama's is a 32-bit int)."""
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


def clean_max_tokens(max_tokens: int | None) -> int | None:
    """None (the provider's default) or a whole number of tokens from 1 to 1,000,000."""
    return _whole("max_tokens", "The longest reply", max_tokens, MAX_TOKENS_RANGE)


def clean_seed(seed: int | None) -> int | None:
    """None (a fresh seed each time) or a whole number from 0 to 2,147,483,647."""
    return _whole("seed", "The seed", seed, SEED_RANGE)


def clean_top_p(top_p: float | None) -> float | None:
    """None (the provider's default) or a number above 0, at most 1."""
    if top_p is None:
        return None
    low, high = TOP_P_RANGE
    if isinstance(top_p, bool) or not math.isfinite(top_p) or not low < top_p <= high:
        raise InvalidInput("top_p", f"Top-p must be above {low:g} and at most {high:g}.")
    return float(top_p)


def clean_reasoning_effort(effort: str | None) -> str | None:
    """None (the model decides whether and how hard to think) or one of "low", "medium", "high" (the Think control)."""
    if effort is None:
        return None
    if effort not in EFFORTS:
        raise InvalidInput("reasoning_effort", "The reasoning effort must be low, medium or high (or none).")
    return effort


def clean_tools(tools: list[str] | None) -> list[str]:
    """The tools a chat may call: `server:tool` or `server:*` each (chatui.tools); None or [] turns them off."""
    try:
        return parse_selection(tools or [])
    except ValueError as exc:
        raise InvalidInput("tools", str(exc)) from None


KNOWLEDGE_MAX = 20
"""Knowledge collections one chat may have attached."""


def clean_knowledge(ids: list[str] | None) -> list[str]:
    """The knowledge collections attached to a chat (ids, each once); None or [] detaches them all. Whether the
    user may read each is the caller's to check (`chatui.knowledge`)."""
    cleaned = list(dict.fromkeys(ids or []))
    if len(cleaned) > KNOWLEDGE_MAX or not all(0 < len(i) <= 64 for i in cleaned):
        raise InvalidInput("knowledge", f"Attach at most {KNOWLEDGE_MAX} knowledge collections, by their ids.")
    return cleaned


def clean_settings(**given: Any) -> dict[str, Any]:
    """The chat settings given (`system_prompt`, `temperature`, `max_tokens`, `top_p`, `seed`, `reasoning_effort`),
    each checked by its rule; `InvalidInput` for an unknown one."""
    cleaned: dict[str, Any] = {}
    for name, value in given.items():
        rule = _SETTING_RULES.get(name)
        if rule is None:
            raise InvalidInput(name, f"There is no chat setting '{name}'.")
        cleaned[name] = rule(value)
    return cleaned


def _whole(field: str, what: str, value: object, bounds: tuple[int, int]) -> int | None:
    """None, or `value` if it is a whole number within `bounds` (True is not 1: JSON's booleans are not numbers)."""
    if value is None:
        return None
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(field, f"{what} must be a whole number from {low:,} to {high:,}.")
    return value


def clean_model(model: str) -> str:
    cleaned = model.strip()
    if not cleaned or len(cleaned) > MODEL_ID_MAX or _CONTROL.search(cleaned):
        raise InvalidInput("model", "That is not a model id.")
    return qualify_model_id(cleaned)


def title_from_message(content: str) -> str:
    """The first 50 characters of the first message, then "..." when it was longer (whitespace collapsed)."""
    text = re.sub(r"\s+", " ", content).strip()
    return text if len(text) <= FIRST_MESSAGE_TITLE else text[:FIRST_MESSAGE_TITLE] + "..."


def check_message(content: str, max_chars: int, *, with_files: bool = False) -> None:
    """`SendRefused` unless `content` is a message that can be sent: not blank (unless files carry the message),
    text only, at most `max_chars`."""
    if not content.strip() and not with_files:
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


_SETTING_RULES: dict[str, Callable[[Any], object]] = {
    "system_prompt": clean_system_prompt,
    "temperature": clean_temperature,
    "max_tokens": clean_max_tokens,
    "top_p": clean_top_p,
    "seed": clean_seed,
    "reasoning_effort": clean_reasoning_effort,
    "tools": clean_tools,
    "knowledge": clean_knowledge,
}
