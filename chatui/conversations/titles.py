"""AI titles: after a conversation's first reply, its own model is asked for a short title.

The truncation title (first 50 characters + "...") is set at once with the first message; this replaces it, unless
the user renamed the conversation meanwhile (the write is conditional on the title still being the truncation
one, which also makes it happen at most once). It runs in the background: it never delays the next message, never
counts against the message limit, and on error or after `timeout` seconds the truncation title simply stays.
"""

from __future__ import annotations

import asyncio
import logging
import re

from chatui.conversations.rules import AI_TITLE_CHARS, title_from_message
from chatui.engine.generation import Generation
from providers import ChatMessage, GenerationParams, ProviderError, TextDelta
from providers.registry import ModelRegistry
from storage import ConversationRepository, MessageStatus

log = logging.getLogger(__name__)

TITLES_AT_ONCE = 8
"""Title requests under way at one time. Titles are a background nicety: when many replies end together (issue 13:
200 people arriving in the same second), their titles wait their turn instead of starting 200 provider requests at
the moment the other replies still stream (a local Ollama would queue them anyway)."""
INPUT_CHARS = 2_000
INSTRUCTION = (
    "Write a short title (at most six words) for the conversation below. Answer with the title only: no quotes, "
    "no Markdown, no explanation."
)


def clean_ai_title(text: str) -> str | None:
    """The model's answer as a title: its first line, without Markdown, quotes or "Title:", at most 60 characters."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    line = re.sub(r"^(#+|[-*>]|\d+\.)\s+", "", line)
    line = re.sub(r"[*_`#\x00-\x1f\x7f]", "", line)
    line = re.sub(r"^\s*title\s*:\s*", "", line, flags=re.IGNORECASE)
    line = re.sub(r"\s+", " ", line).strip().strip("\"'“”‘’«»").strip()
    if len(line) > AI_TITLE_CHARS:
        cut = line[:AI_TITLE_CHARS]
        space = cut.rfind(" ")
        line = (cut[:space] if space > AI_TITLE_CHARS // 2 else cut).rstrip(" ,;:-")
    return line or None


class TitleWriter:
    """Asks a conversation's model for its title and stores it if nothing else did meanwhile."""

    def __init__(
        self,
        chats: ConversationRepository,
        models: ModelRegistry,
        *,
        timeout: float,
        at_once: int = TITLES_AT_ONCE,
    ) -> None:
        self.chats = chats
        self.models = models
        self.timeout = timeout
        self._at_once = asyncio.Semaphore(at_once)

    def wanted(self, generation: Generation) -> bool:
        """A first reply that completed: it answers the first message of the conversation."""
        return (
            generation.status == MessageStatus.DONE
            and generation.user_content is not None
            and generation.user_parent_id is None
            and bool(generation.text.strip())
        )

    async def replace_title(self, generation: Generation) -> str | None:
        """The new title if it was stored; None when the title stays (renamed meanwhile, error, timeout, empty)."""
        assert generation.user_content is not None
        truncation = title_from_message(generation.user_content)
        async with self._at_once:
            if await self.chats.current_title(generation.user_id, generation.conversation_id) != truncation:
                return None
            try:
                async with asyncio.timeout(self.timeout):
                    answer = await self._ask(generation)
            except (TimeoutError, ProviderError, KeyError) as exc:
                log.info("no AI title for %s: %r", generation.conversation_id, exc)
                return None
        title = clean_ai_title(answer)
        if title is None or title == truncation:
            return None
        stored = await self.chats.replace_title(generation.conversation_id, truncation, title)
        return title if stored else None

    async def _ask(self, generation: Generation) -> str:
        provider, name = self.models.resolve(generation.model)
        conversation = (
            f"User: {(generation.user_content or '')[:INPUT_CHARS]}\n\nAssistant: {generation.text[:INPUT_CHARS]}"
        )
        prompt = [ChatMessage("user", f"{INSTRUCTION}\n\n{conversation}")]
        parts: list[str] = []
        async for event in provider.stream(prompt, name, GenerationParams(max_tokens=30)):
            if isinstance(event, TextDelta):
                parts.append(event.text)
        return "".join(parts)
