"""AI titles: after a conversation's first reply, a model able to make one is asked for a short title.

The truncation title (the user's first message: its first 50 characters + "...") is set at once with the first
message; this replaces it, unless the user renamed the conversation meanwhile (the write is conditional on the title
still being the truncation one, which also makes it happen at most once). It runs in the background: it never
delays the next message, never counts against the message limit, and on error or after `timeout` seconds the
truncation title simply stays.

Which model: `CHATUI_TITLE_MODEL` when set; else the chat's own model, unless that is the bundled 135M local model,
whose titles are noise ("Smarxil, one of the words that serves as…") — then none is asked and the first message
stays the title. What comes back is kept only if it reads as a title of *this* conversation (`usable_title`): short,
not cut off, and sharing a word with it; anything else leaves the first message as the title.
"""

from __future__ import annotations

import asyncio
import logging
import re

from chatui.conversations.rules import AI_TITLE_CHARS, title_from_message
from chatui.engine.events import ConversationEvents, TitleChanged
from chatui.engine.generation import Generation
from providers import ChatMessage, GenerationParams, ProviderError, TextDelta
from providers.local import BUNDLED_MODEL_ID
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


MAX_WORDS = 8
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "about",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "could",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "so",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "this",
        "to",
        "was",
        "we",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "title",
        "conversation",
        "chat",
        "question",
        "answer",
        "user",
        "assistant",
    ]
)
"""Words that say nothing about what a conversation is about: sharing only these is not sharing a word."""


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[^\W_]+", text.casefold()) if len(w) > 2 and w not in STOP_WORDS}


def _shares_a_word(title: str, conversation: str) -> bool:
    """A word of the title is a word of the conversation, or begins like one ("tides" ~ "tide", "Python's")."""
    said = _words(conversation)
    for word in _words(title):
        stem = word[:5]
        if word in said or any(other.startswith(stem) or word.startswith(other[:5]) for other in said):
            return True
    return False


def usable_title(answer: str, conversation: str) -> str | None:
    """The model's answer as a title if it reads as one for this conversation, else None.

    Cleaned (`clean_ai_title`), then refused when it had to be cut (a sentence, not a title), runs past `MAX_WORDS`
    words, trails off ("…"), or shares no word with the conversation (a small model's free association).
    """
    title = clean_ai_title(answer)
    if title is None:
        return None
    first_line = clean_ai_title(answer, cut=False) or ""
    if len(first_line) > AI_TITLE_CHARS or len(title.split()) > MAX_WORDS or len(title) < 3:
        return None
    if title.endswith(("…", "...")) or not _shares_a_word(title, conversation):
        return None
    return title


def clean_ai_title(text: str, *, cut: bool = True) -> str | None:
    """The model's answer as a title: its first line, without Markdown, quotes or "Title:", at most 60 characters."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    line = re.sub(r"^(#+|[-*>]|\d+\.)\s+", "", line)
    line = re.sub(r"[*_`#\x00-\x1f\x7f]", "", line)
    line = re.sub(r"^\s*title\s*:\s*", "", line, flags=re.IGNORECASE)
    line = re.sub(r"\s+", " ", line).strip().strip("\"'“”‘’«»").strip()
    if cut and len(line) > AI_TITLE_CHARS:
        head = line[:AI_TITLE_CHARS]
        space = head.rfind(" ")
        line = (head[:space] if space > AI_TITLE_CHARS // 2 else head).rstrip(" ,;:-")
    return line or None


class TitleWriter:
    """Asks a model able to title a conversation for its title and stores it if nothing else did meanwhile."""

    def __init__(
        self,
        chats: ConversationRepository,
        models: ModelRegistry,
        events: ConversationEvents,
        *,
        timeout: float,
        title_model: str | None = None,
        at_once: int = TITLES_AT_ONCE,
    ) -> None:
        self.chats = chats
        self.models = models
        self.events = events
        self.timeout = timeout
        self.title_model = title_model
        self._at_once = asyncio.Semaphore(at_once)
        self._tasks: set[asyncio.Task[None]] = set()

    def reply_finished(self, generation: Generation) -> None:
        """The engine's hook (`GenerationEngine.on_finished`): after the first reply of a conversation, ask for its
        title in the background; its watchers hear of the new one (`TitleChanged`)."""
        if not self.wanted(generation):
            return
        task = asyncio.create_task(self._retitle(generation), name=f"title-{generation.conversation_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def writing(self) -> int:
        """How many titles are being asked for or stored now (tests wait for 0)."""
        return len(self._tasks)

    async def settled(self) -> None:
        """Until every title under way has been stored or given up (one started meanwhile is waited for too)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def aclose(self) -> None:
        """Cancel titles still being written (at shutdown)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _retitle(self, generation: Generation) -> None:
        title = await self.replace_title(generation)
        if title is not None:
            self.events.publish(generation.conversation_id, TitleChanged(title))

    def model_for(self, chat_model: str) -> str | None:
        """`CHATUI_TITLE_MODEL`, else the chat's own model unless it is the bundled tiny one (then None: no title
        is asked for, and the first message stays the title)."""
        if self.title_model:
            return self.title_model
        return None if chat_model == BUNDLED_MODEL_ID else chat_model

    def wanted(self, generation: Generation) -> bool:
        """A first reply that completed (it answers the first message), and a model able to title it."""
        return (
            generation.status == MessageStatus.DONE
            and generation.user_content is not None
            and generation.user_parent_id is None
            and bool(generation.text.strip())
            and self.model_for(generation.model) is not None
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
        title = usable_title(answer, f"{generation.user_content}\n{generation.text}")
        if title is None or title == truncation:
            log.info("the AI title for %s was not used: %r", generation.conversation_id, answer[:200])
            return None
        stored = await self.chats.replace_title(generation.conversation_id, truncation, title)
        return title if stored else None

    async def _ask(self, generation: Generation) -> str:
        provider, name = self.models.resolve(self.model_for(generation.model) or generation.model)
        conversation = (
            f"User: {(generation.user_content or '')[:INPUT_CHARS]}\n\nAssistant: {generation.text[:INPUT_CHARS]}"
        )
        prompt = [ChatMessage("user", f"{INSTRUCTION}\n\n{conversation}")]
        parts: list[str] = []
        async for event in provider.stream(prompt, name, GenerationParams(max_tokens=30)):
            if isinstance(event, TextDelta):
                parts.append(event.text)
        return "".join(parts)
