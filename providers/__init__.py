"""LLM providers behind one small interface; no knowledge of the UI or the database."""

from providers.base import (
    EFFORTS,
    ChatMessage,
    ContentPart,
    Effort,
    GenerationParams,
    ImageLimits,
    ImagePart,
    Provider,
    Queued,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    TextPart,
    Usage,
)
from providers.errors import EmbeddingsUnsupported, ProviderError
from providers.tools import ReasoningPart, ToolCall, ToolCallDelta, ToolCallPart, ToolResultPart, ToolSpec

__all__ = [
    "EFFORTS",
    "ChatMessage",
    "ContentPart",
    "Effort",
    "EmbeddingsUnsupported",
    "GenerationParams",
    "ImageLimits",
    "ImagePart",
    "Provider",
    "ProviderError",
    "Queued",
    "ReasoningDelta",
    "ReasoningPart",
    "StreamEvent",
    "TextDelta",
    "TextPart",
    "ToolCall",
    "ToolCallDelta",
    "ToolCallPart",
    "ToolResultPart",
    "ToolSpec",
    "Usage",
]
