"""The provider interface and the small values that cross it.

A provider turns a list of messages into a stream of `TextDelta`s that ends with one `Usage` (a provider that queues
replies may send `Queued` before the text), and lists the models it can serve. Failures are raised as
`providers.errors.ProviderError` subclasses, already worded for a person.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One turn of the conversation as the model sees it."""

    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class GenerationParams:
    """Per-request options; `None` leaves the provider's default.

    `system` is the conversation's system prompt: each adapter sends it the way its API wants (a `system` message
    first, or Anthropic's top-level `system`).
    """

    temperature: float | None = None
    max_tokens: int | None = None
    system: str | None = None


def with_system(messages: Sequence[ChatMessage], params: GenerationParams | None) -> list[ChatMessage]:
    """The messages with `params.system` (if any) as a `system` message in front, for APIs that take it so."""
    if params is None or not params.system:
        return list(messages)
    return [ChatMessage("system", params.system), *messages]


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the reply, in order."""

    text: str


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts as the provider reports them (None where it does not)."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class Queued:
    """The provider is busy with other replies and this one waits its turn, `position` in line (1 = next).

    Sent before any text, again each time the line moves, and with `position=0` when the reply's turn has come. Only
    providers with a line of their own send it (the in-process `local` model); readers show it as "waiting…".
    """

    position: int


StreamEvent = TextDelta | Usage | Queued


class Provider(ABC):
    """One LLM service. Subclasses are small adapters: wire format in, `StreamEvent`s and `ProviderError`s out."""

    name: ClassVar[str]
    """The prefix of this provider's model ids (`ollama` in `ollama:llama3.2:3b`)."""

    @property
    @abstractmethod
    def display_name(self) -> str:
        """How error messages name this provider, e.g. `Ollama at http://localhost:11434`."""

    @abstractmethod
    def stream(
        self, messages: Sequence[ChatMessage], model: str, params: GenerationParams | None = None
    ) -> AsyncGenerator[StreamEvent, None]:
        """Stream the reply; closing the iterator early closes the HTTP stream to the provider."""

    @abstractmethod
    async def list_models(self) -> list[str]:
        """Names of the models this provider serves now (without the `provider:` prefix)."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
