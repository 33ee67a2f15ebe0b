"""Reasoning that arrives inside the answer's text: a leading `<think>…</think>`, as some servers inline it.

DeepSeek-R1, Qwen3 and QwQ write their reasoning between `<think>` tags. Servers that know the model split it off
(llama.cpp's and vLLM's reasoning parsers send `delta.reasoning_content`, Ollama `message.thinking`); others pass the
tags through in `content`. `InlineThinking` turns such a stream back into reasoning and text, whatever the chunk
boundaries (a tag may arrive split over several deltas: `<thi`, `nk>`). Only a *leading* block counts: a `<think>`
later in an answer is the answer's own text (code, a quotation) and is left alone.
"""

from __future__ import annotations

from enum import Enum, auto

from providers.base import ReasoningDelta, TextDelta

OPEN = "<think>"
CLOSE = "</think>"


class _State(Enum):
    START = auto()
    """Not yet known whether the content opens with `<think>` (only blanks and part of the tag so far)."""
    THINKING = auto()
    AFTER = auto()
    """The block closed; the blank lines before the answer are dropped."""
    TEXT = auto()


class InlineThinking:
    """Splits a leading `<think>…</think>` off streamed content; `feed` each delta, then `close` at the end."""

    __slots__ = ("_fresh", "_held", "_state")

    def __init__(self) -> None:
        self._state = _State.START
        self._held = ""
        self._fresh = True  # the reasoning's own leading blank lines are dropped too

    def feed(self, text: str) -> list[TextDelta | ReasoningDelta]:
        """What `text` (the next piece of content) adds; a piece that might still be part of a tag is held back."""
        if self._state is _State.TEXT:  # the common case, once decided: one comparison per delta
            return [TextDelta(text)] if text else []
        held = self._held + text
        self._held = ""
        out: list[TextDelta | ReasoningDelta] = []
        if self._state is _State.START:
            stripped = held.lstrip()
            if len(stripped) < len(OPEN) and OPEN.startswith(stripped):
                self._held = held  # blanks, or the start of the tag: wait for more
                return out
            if not stripped.startswith(OPEN):
                self._state = _State.TEXT
                return [TextDelta(held)]
            self._state = _State.THINKING
            held = stripped[len(OPEN) :]
        if self._state is _State.THINKING:
            end = held.find(CLOSE)
            if end < 0:
                keep = _partial_tag(held, CLOSE)
                self._held = held[len(held) - keep :]
                self._reason(held[: len(held) - keep], out)
                return out
            self._reason(held[:end], out)
            self._state = _State.AFTER
            held = held[end + len(CLOSE) :]
        answer = held.lstrip()
        if answer:
            self._state = _State.TEXT
            out.append(TextDelta(answer))
        return out

    def close(self) -> list[TextDelta | ReasoningDelta]:
        """What was held back at the end of the stream: undecided blanks are text; an unclosed block is reasoning."""
        held, self._held = self._held, ""
        if not held:
            return []
        if self._state is _State.START:
            return [TextDelta(held)]
        if self._state is _State.THINKING:
            out: list[TextDelta | ReasoningDelta] = []
            self._reason(held, out)
            return out
        return []

    def _reason(self, text: str, out: list[TextDelta | ReasoningDelta]) -> None:
        if self._fresh:
            text = text.lstrip()
        if text:
            self._fresh = False
            out.append(ReasoningDelta(text))


def _partial_tag(text: str, tag: str) -> int:
    """The length of the longest end of `text` that is the start of `tag` (what may be a tag cut by a chunk)."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0
