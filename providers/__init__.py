"""LLM providers behind one small interface; no knowledge of the UI or the database."""

from providers.base import ChatMessage, GenerationParams, Provider, Queued, StreamEvent, TextDelta, Usage
from providers.errors import ProviderError

__all__ = [
    "ChatMessage",
    "GenerationParams",
    "Provider",
    "ProviderError",
    "Queued",
    "StreamEvent",
    "TextDelta",
    "Usage",
]
