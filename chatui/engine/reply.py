"""What one reply does between its start and its end: find its provider, read its files into the prompt, stream the
provider's deltas into the `Generation`, and say how it ended.

The engine (engine.py) owns the replies — which conversation is busy, who may stop what, the end's bookkeeping; this
module is the part that talks to a provider, so that what a reply *does* (and, next, the steps of a tool loop) grows
here without the life cycle around it growing too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from chatui.engine.attachments import Attachments
from chatui.engine.generation import CancelReason, Generation
from chatui.engine.prompt import Asked
from chatui.engine.tool_loop import STEP_LIMIT, Offer, ToolRunner, interrupt
from providers import GenerationParams, ProviderError, Queued, ReasoningDelta, TextDelta, Usage
from providers.base import ChatMessage, ContentPart, Provider, TextPart, continuation
from providers.registry import ModelRegistry
from providers.retry import stream_with_retries
from providers.tools import ReasoningPart, ToolCall, ToolCallPart
from storage import INTERRUPTED_NOTE, ConversationRepository, MessageStatus

log = logging.getLogger(__name__)

RETRY_BACKOFF_SECONDS = 0.5
"""The first wait before a provider is asked again (it doubles each time; `providers.retry`)."""

ENDED_BY = {
    CancelReason.STOPPED: MessageStatus.CANCELLED,
    CancelReason.DELETED: MessageStatus.DELETED,
    CancelReason.SHUTDOWN: MessageStatus.INTERRUPTED,
}
"""The status a reply ends with when its task is cancelled, by why it was."""


@dataclass(frozen=True, slots=True)
class Ended:
    """How a reply ended: its status and, for an error or an interruption, the readable reason and its code."""

    status: MessageStatus
    error: str | None = None
    code: str | None = None


@dataclass(frozen=True, slots=True)
class ReplyWriter:
    """Asks a reply's provider and streams its answer into the reply's `Generation` (one per engine)."""

    models: ModelRegistry
    attachments: Attachments
    chats: ConversationRepository
    retries: int
    tools: ToolRunner | None = None

    async def write(
        self,
        generation: Generation,
        prompt: list[Asked],
        params: GenerationParams,
        sees_images: bool,
        tools: Sequence[str] = (),
    ) -> Ended:
        """Stream the reply to its end; cancelled (Stop, a deletion, a shutdown), it ends as `ENDED_BY` says."""
        noting: asyncio.Task[None] | None = None
        try:
            try:
                provider, name = self.models.resolve(generation.model)
            except KeyError:
                raise ProviderError(
                    f"the model '{generation.model}' belongs to a provider that is not configured; "
                    "pick another model or set its API key"
                ) from None
            prepared = await self.attachments.prepare(prompt, provider.image_limits, sees_images=sees_images)
            if prepared.notes and generation.user_message_id is not None:  # written beside the reply, not before it
                noting = asyncio.create_task(self._keep_notes(generation, generation.user_message_id, prepared.notes))
            messages = prepared.messages
            if generation.prefix:  # Continue: each provider's way (`providers.base.continuation`)
                messages = continuation(messages, generation.prefix, prefill=provider.prefills)
            offer = self.tools.offer(tools) if self.tools is not None and tools else Offer()
            if offer.specs:
                params = replace(params, tools=offer.specs)
            rounds = 0
            while True:  # the tool loop: model, its calls, their results, the model again (tool_loop.py)
                text_from, thought_from, signed = (
                    len(generation.chunks),
                    len(generation.reasoning),
                    generation.signature,
                )
                calls = await self._ask(generation, provider, messages, name, params)
                if not calls or self.tools is None:
                    break
                rounds += 1
                limit = self.tools.max_steps
                refusal = STEP_LIMIT.format(steps=limit) if rounds > limit else None
                results = await self.tools.run(generation, calls, offer, refusal=refusal)
                if rounds > limit + 1:  # told once already: the reply ends here
                    break
                turn: list[ContentPart] = []
                if generation.signature and generation.signature != signed:
                    turn.append(ReasoningPart("".join(generation.reasoning[thought_from:]), generation.signature))
                said = "".join(
                    c for i, c in enumerate(generation.chunks[text_from:], text_from) if i not in generation.separators
                )
                if said:
                    turn.append(TextPart(said))
                turn.extend(ToolCallPart(call.call_id, call.name, call.arguments) for call in calls)
                messages = [*messages, ChatMessage("assistant", turn), ChatMessage("tool", results)]
            ended = Ended(MessageStatus.DONE)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            interrupt(generation)
            status = ENDED_BY[generation.cancel_reason or CancelReason.SHUTDOWN]
            ended = Ended(status, INTERRUPTED_NOTE if status is MessageStatus.INTERRUPTED else None)
        except ProviderError as exc:
            ended = Ended(MessageStatus.ERROR, exc.message, exc.code)
        except Exception:
            log.exception("reply %s failed", generation.message_id)
            ended = Ended(MessageStatus.ERROR, "An unexpected error ended this reply.", "internal_error")
        if noting is not None:  # stored before the reply's end is told: a reader of the ended reply sees the notes
            await asyncio.gather(noting, return_exceptions=True)
        return ended

    async def _ask(
        self,
        generation: Generation,
        provider: Provider,
        messages: list[ChatMessage],
        name: str,
        params: GenerationParams,
    ) -> list[ToolCall]:
        """One request: its text and reasoning into the reply; the calls it ends with."""
        calls: list[ToolCall] = []
        stream = stream_with_retries(
            provider, messages, name, params, retries=self.retries, backoff=RETRY_BACKOFF_SECONDS
        )
        async for event in stream:
            if isinstance(event, TextDelta | ReasoningDelta):
                if event.text and not generation.stored.done():
                    await generation.stored
                generation.add(event)
            elif isinstance(event, ToolCall):
                calls.append(event)
            elif isinstance(event, Usage):
                generation.usage = _summed(generation.usage, event)
            elif isinstance(event, Queued):
                generation.wait_in_line(event.position)
        return calls

    async def _keep_notes(
        self, generation: Generation, message_id: str, notes: Mapping[str, Mapping[str, Any]]
    ) -> None:
        """Once the user's message is stored, keep on its file parts what the model was not sent of them."""
        try:
            if await generation.stored:
                await self.chats.note_files(message_id, notes)
        except Exception:
            log.exception("could not keep the notes on the files of message %s", message_id)


def _summed(earlier: Usage | None, usage: Usage) -> Usage:
    """The reply's usage over its requests (a tool loop asks several times)."""
    if earlier is None:
        return usage

    def add(a: int | None, b: int | None) -> int | None:
        return None if a is None and b is None else (a or 0) + (b or 0)

    return Usage(
        add(earlier.prompt_tokens, usage.prompt_tokens),
        add(earlier.completion_tokens, usage.completion_tokens),
        usage.cut_off,
    )
