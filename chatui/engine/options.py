"""The engine's settings (`EngineOptions`), apart from the engine so that its module stays about the engine's work."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """The engine's settings, from `Settings` (the one home of their defaults)."""

    checkpoint_seconds: float
    provider_retries: int
    prompt_max_chars: int
    """The history a reply is asked with: the newest messages of the path whose texts, with the new message, add up
    to at most this many characters (about 30,000 tokens). Older ones stay in the conversation but are not sent:
    every model's context is finite, and reading and sending a 10,000-message path for each reply made streaming
    into a long conversation cost what its whole history costs."""
    starting_at_once: int
    """Replies in their start-up (history read, first write, first bubbles) at one moment; the rest of a burst waits
    its turn. Two hundred messages arriving together otherwise fill every turn of the event loop with start-up work,
    and everything else waits: in `python -m bench.ui_pages --n 200` the worst HTTP latency of the first second fell
    from 68-71 ms to 20-29 ms with 16, for ~0.1 s more on the median reply. The other side (issue 28, BENCHMARKS.md
    §2): 1,000 messages at once wait ~1.9 s for their first token at 16 and ~1.0 s at 64, where the UI's lag p99 at
    N = 200 doubles (26 -> 56 ms)."""
    text_only_models: tuple[str, ...] = ()
    """Models known not to see images (CHATUI_TEXT_ONLY_MODELS): ids (`provider:name`, or a name alone for any
    provider; `*` and `?` as wildcards). A message with images to one of them is refused before it is sent. Ollama
    models say so themselves and the local model never sees images; OpenAI-compatible and Anthropic models are taken
    to see them unless listed here (chatui/engine/vision.py)."""
