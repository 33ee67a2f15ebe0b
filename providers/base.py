"""The provider interface and the small values that cross it.

A provider turns a list of messages into a stream of `TextDelta`s that ends with one `Usage` (a provider that queues
replies may send `Queued` before the text; a model that thinks sends `ReasoningDelta`s, usually before the text; a
model offered tools may send `ToolCallDelta`s and then `ToolCall`s: `providers.tools` says how), and lists the models
it can serve. Failures are raised as
`providers.errors.ProviderError` subclasses, already worded for a person.

A message is an ordered list of parts: text, and images the model is to see. Files other than images never reach a
provider as files: the caller puts their text into `TextPart`s (chatui/engine/attachments.py). Each provider says how
large an image it takes (`image_limits`) and whether a model can see images at all (`sees_images`); the caller sizes
the images and asks before the request, so a provider only encodes what it is given.
"""

from __future__ import annotations

import base64
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import ClassVar, Literal

from providers.errors import EmbeddingsUnsupported
from providers.tools import ReasoningPart, ToolCall, ToolCallDelta, ToolCallPart, ToolResultPart, ToolSpec

Role = Literal["system", "user", "assistant", "tool"]
"""`tool`: a turn of `ToolResultPart`s, the results of the calls the assistant turn before it made."""
Effort = Literal["low", "medium", "high"]
"""How hard a model that can think is asked to: each wire says it its own way (Ollama's `think` level, OpenAI's
`reasoning_effort`, Anthropic's `budget_tokens`)."""
EFFORTS: tuple[Effort, ...] = ("low", "medium", "high")


@dataclass(frozen=True, slots=True)
class TextPart:
    """Words of a message (a file's text arrives as one of these, already in its delimited block)."""

    text: str


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An image for the model to see, already in a type and size the provider takes (`Provider.image_limits`)."""

    media_type: str
    data: bytes

    def base64(self) -> str:
        return base64.b64encode(self.data).decode("ascii")

    def data_url(self) -> str:
        """`data:<type>;base64,...`, as OpenAI's `image_url` takes an image inline."""
        return f"data:{self.media_type};base64,{self.base64()}"

    def __repr__(self) -> str:  # never megabytes of bytes in a log or a failed assertion
        return f"ImagePart({self.media_type!r}, {len(self.data)} bytes)"


ContentPart = TextPart | ImagePart | ToolCallPart | ToolResultPart | ReasoningPart
"""Tool calls (assistant), tool results (`tool`) and signed reasoning (assistant): `providers.tools`."""


@dataclass(frozen=True, slots=True, init=False)
class ChatMessage:
    """One turn of the conversation as the model sees it: its parts, in order.

    `ChatMessage(role, "text")` is a message of one text part; `ChatMessage(role, [TextPart(...), ImagePart(...)])`
    one of several. `content` is its text (the text parts joined), which is all that providers without images read.
    """

    role: Role
    parts: tuple[ContentPart, ...]

    def __init__(self, role: Role, content: str | Sequence[ContentPart]) -> None:
        object.__setattr__(self, "role", role)
        object.__setattr__(self, "parts", (TextPart(content),) if isinstance(content, str) else tuple(content))

    @property
    def content(self) -> str:
        return "\n\n".join(part.text for part in self.parts if isinstance(part, TextPart) and part.text)

    @property
    def images(self) -> list[ImagePart]:
        return [part for part in self.parts if isinstance(part, ImagePart)]

    @property
    def tool_calls(self) -> list[ToolCallPart]:
        return [part for part in self.parts if isinstance(part, ToolCallPart)]

    @property
    def tool_results(self) -> list[ToolResultPart]:
        return [part for part in self.parts if isinstance(part, ToolResultPart)]


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """The images a provider takes: the longest side in pixels, the bytes of one image, and the types.

    An image over a limit, or of another type, is downscaled or converted before it is sent. Each provider's choice,
    and where its figures come from, is in its `image_limits` docstring.
    """

    max_edge: int
    max_bytes: int
    media_types: frozenset[str]


@dataclass(frozen=True, slots=True)
class GenerationParams:
    """Per-request options; `None` leaves the provider's default.

    `system` is the conversation's system prompt: each adapter sends it the way its API wants (a `system` message
    first, or Anthropic's top-level `system`).
    """

    temperature: float | None = None
    max_tokens: int | None = None
    system: str | None = None
    reasoning_effort: Effort | None = None
    """Ask the model to think this hard; None leaves it to the model (one that always thinks still does)."""
    top_p: float | None = None
    seed: int | None = None
    """Not every API has one (Anthropic's does not): an adapter leaves out what its API cannot take."""
    tools: tuple[ToolSpec, ...] = ()
    """Tools the model may call (`providers.tools`); none: the request says nothing of tools."""


def with_system(messages: Sequence[ChatMessage], params: GenerationParams | None) -> list[ChatMessage]:
    """The messages with `params.system` (if any) as a `system` message in front, for APIs that take it so."""
    if params is None or not params.system:
        return list(messages)
    return [ChatMessage("system", params.system), *messages]


CONTINUE_INSTRUCTION = (
    "Your last reply was cut off. Continue it exactly where it stopped: do not repeat anything already written, "
    "and add no preamble."
)
"""What a provider that cannot be handed the start of its answer (`Provider.prefills`) is told to carry on."""


def continuation(messages: Sequence[ChatMessage], partial: str, *, prefill: bool) -> list[ChatMessage]:
    """The prompt that asks for more of `partial`, the reply to `messages`: the partial reply as the last, open
    assistant turn (a prefill: the model writes what follows it), or, for an API that takes no prefill, that turn
    and then an instruction to carry on."""
    prompt = [*messages, ChatMessage("assistant", partial)]
    return prompt if prefill else [*prompt, ChatMessage("user", CONTINUE_INSTRUCTION)]


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the reply, in order."""

    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A piece of the model's reasoning, in order, apart from the answer's text.

    `signature` is Anthropic's: the opaque proof that the thinking block before it is the model's own, sent once at
    the block's end (with empty `text`), needed to send the block back on a later turn with tool use.
    """

    text: str
    signature: str | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts as the provider reports them (None where it does not)."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cut_off: bool = False
    """The reply ended at the token limit (Ollama's `done_reason` / OpenAI's `finish_reason` "length", Anthropic's
    `stop_reason` "max_tokens"), not because the model was done."""


@dataclass(frozen=True, slots=True)
class Queued:
    """The provider is busy with other replies and this one waits its turn, `position` in line (1 = next).

    Sent before any text, again each time the line moves, and with `position=0` when the reply's turn has come. Only
    providers with a line of their own send it (the in-process `local` model); readers show it as "waiting…".
    """

    position: int


StreamEvent = TextDelta | ReasoningDelta | ToolCallDelta | ToolCall | Usage | Queued


@dataclass(frozen=True, slots=True)
class ModelLabel:
    """How the picker names a model when the provider's listing says more than its id: a friendly `label` (Anthropic's
    `display_name`, an OpenAI-compatible server's `name`, an Ollama model without `:latest`) and a `detail` (Ollama's
    parameter count and quantisation). The raw id is always shown too, on hover."""

    label: str
    detail: str | None = None


class Provider(ABC):
    """One LLM service. Subclasses are small adapters: wire format in, `StreamEvent`s and `ProviderError`s out."""

    name: ClassVar[str]
    """The prefix of this provider's model ids (`ollama` in `ollama:llama3.2:3b`)."""
    prefills: ClassVar[bool] = False
    """Whether a conversation that ends with an assistant turn is answered by *continuing* that turn (Anthropic,
    Ollama, llama.cpp do; OpenAI's chat completions answer it with a new turn): how Continue asks for more."""

    image_limits: ClassVar[ImageLimits] = ImageLimits(1568, 3_750_000, frozenset({"image/png", "image/jpeg"}))
    """What images this provider's models take; a provider whose API says otherwise overrides it."""

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

    labels: Mapping[str, ModelLabel] = MappingProxyType({})
    """Friendly names of the last listing's models, where the API gives more than an id (set by `list_models`)."""

    async def can_think(self, model: str) -> bool:
        """Whether `GenerationParams.reasoning_effort` means anything to this model (where the Think control shows).

        False unless an adapter knows better; the hosted APIs say True, since their servers refuse what a model
        cannot do with a clear error, and a compatible server ignores what it does not know.
        """
        return False

    async def sees_images(self, model: str) -> bool:
        """Whether `model` can be sent images; asked before a request that carries some. Unknown counts as yes (the
        request then fails with the provider's own words, as any other would)."""
        return True

    async def embed(self, model: str, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order, from the embedding model `model` (without the `provider:` prefix).

        Optional: knowledge retrieval (issue 25) fuses these with its full-text ranking when a provider offers them
        (Ollama's `/api/embed`, OpenAI's `/v1/embeddings`, the local runtime's GGUF embedding models). A provider
        without an embeddings API keeps this default, which raises `EmbeddingsUnsupported`; every other failure is
        the same `ProviderError` a reply would raise (unreachable, unknown model, ...). Callers batch the texts
        (a few dozen at a time) and never call this per token or on the event loop's critical path without a
        timeout.
        """
        raise EmbeddingsUnsupported(f"{self.display_name} offers no embeddings; pick another provider's model")

    def warm(self) -> None:  # noqa: B027 - optional hook
        """A reply may be asked for soon (a chat page opened on one of this provider's models): a provider whose first
        use is slow begins it now, in the background, so the person's first message does not wait for it."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
