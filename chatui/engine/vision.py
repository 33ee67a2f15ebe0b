"""Whether a model sees images, asked before a message with images is sent to it: a model that cannot gets a refusal
in words (nothing saved, nothing sent), not the provider's error after the message was stored.

Who knows: CHATUI_TEXT_ONLY_MODELS first (`EngineOptions.text_only_models`), then the provider
(`Provider.sees_images`: Ollama's `/api/show` capabilities; never the local model; yes for OpenAI-compatible servers
and Anthropic, which have no such question to ask).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from fnmatch import fnmatchcase

from chatui.engine.errors import Refusal, ReplyRefused
from chatui.engine.prompt import Asked
from providers.registry import ModelRegistry

VISION_CHECK_SECONDS = 3.0
"""How long a provider may take to say whether a model sees images (Ollama's `/api/show`); past it, the request goes
ahead and the provider's own answer decides."""


async def check_images(
    models: ModelRegistry, model_id: str, prompt: Sequence[Asked], text_only: Sequence[str] = ()
) -> bool:
    """Whether the model is to be sent the prompt's images (asked only when it has some). `ReplyRefused` when it
    cannot see images and the message answered carries some; an older message's images are then told to it as a
    line of text instead (chatui/engine/attachments.py), so a conversation can go on with a text model."""
    if not any(turn.images for turn in prompt):
        return True
    if await sees_images(models, model_id, text_only):
        return True
    if prompt[-1].role == "user" and prompt[-1].images:
        raise ReplyRefused(
            Refusal.IMAGES_UNSUPPORTED,
            message=f"{model_id} cannot see images. Pick a model that can (for Ollama, one with vision, such as "
            "llama3.2-vision or gemma3), or send the message without its images.",
        )
    return False


async def sees_images(models: ModelRegistry, model_id: str, text_only: Sequence[str] = ()) -> bool:
    name_only = model_id.partition(":")[2]
    if any(fnmatchcase(model_id, pattern) or fnmatchcase(name_only, pattern) for pattern in text_only):
        return False
    try:
        provider, name = models.resolve(model_id)
    except KeyError:  # a provider that is not configured: the reply says so
        return True
    try:
        async with asyncio.timeout(VISION_CHECK_SECONDS):
            return await provider.sees_images(name)
    except TimeoutError:
        return True
