"""The generation engine: the one place where providers and storage meet.

It owns every reply from the moment the user's message is saved to the moment the reply's final state is stored.
Pages and `/ws` sockets only *send* (through `send`) and *follow* (through `Generation.follow`); a reader that goes
away, or arrives late, changes nothing for the reply.

    send() ─ rate-limit, reserve the conversation, wait for a start-up slot
           ─ read where the reply goes in the tree and the path above it (one transaction)
           ─ save user message (unless regenerating) + empty `streaming` assistant message (one transaction)
           ─ start _run() as a task ─ provider deltas → Generation.publish() → followers
                                     ─ checkpoints: every ~1 s, one transaction for all dirty replies
                                     ─ end: final text/status/usage written once, then Generation.finish()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from chatui.coordination.base import Coordination, CoordinationUnavailable
from chatui.coordination.local import LocalCoordination
from chatui.coordination.throttles import Throttle
from chatui.engine.errors import Refusal, ReplyRefused
from chatui.engine.events import ConversationEvents, ReplyStarted
from chatui.engine.generation import CancelReason, Generation
from chatui.engine.prompt import build_prompt, history_budget
from providers import ChatMessage, GenerationParams, ProviderError, Queued, TextDelta, Usage
from providers.registry import ModelRegistry, qualify_model_id
from providers.retry import stream_with_retries
from storage import INTERRUPTED_NOTE, Anchor, ConversationRepository, MessageStatus, NothingToRegenerate
from storage.models import new_id

log = logging.getLogger(__name__)

DELETE_WAIT_SECONDS = 10.0
"""How long a deletion waits for another instance to drop the reply it writes (if that one is gone, the deletion
goes ahead after this)."""


RETRY_BACKOFF_SECONDS = 0.5
"""The first wait before a provider is asked again (it doubles each time; `providers.retry`)."""
STARTING_AT_ONCE = 16
"""Replies in their start-up (history read, first write, first bubbles) at one moment; the rest of a burst waits its
turn. Two hundred messages arriving together otherwise fill every turn of the event loop with start-up work, and
everything else waits: in `python -m bench.ui_pages --n 200` the worst HTTP latency of the first second fell from
68-71 ms to 20-29 ms with this limit, for ~0.1 s more on the median reply."""


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


class GenerationEngine:
    def __init__(
        self,
        chats: ConversationRepository,
        models: ModelRegistry,
        message_throttle: Throttle,
        options: EngineOptions,
        events: ConversationEvents | None = None,
        coordination: Coordination[Generation] | None = None,
    ) -> None:
        self.chats = chats
        self.coordination: Coordination[Generation] = coordination or LocalCoordination()
        """What is shared with other instances (nothing, by default: one process). Started and stopped by the
        bootstrap, around the engine (`Services.start/stop`)."""
        self.models = models
        self.options = options
        self.events = events or ConversationEvents()
        self.on_finished: list[Callable[[Generation], None]] = []
        """Called with each reply once its final state is stored (AI titles start from here)."""
        self._throttle = message_throttle
        self._active: dict[str, Generation] = {}
        self._reserved: set[str] = set()
        self._checkpointer: asyncio.Task[None] | None = None
        self._starting = asyncio.Semaphore(STARTING_AT_ONCE)

    # -- life cycle ---------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start checkpointing (replies a crash left `streaming` were marked before the server started serving)."""
        self._checkpointer = asyncio.create_task(self._checkpoint_loop(), name="chatui-checkpoints")

    async def shutdown(self) -> None:
        """Stop every reply, storing each as `interrupted` with its text."""
        generations = list(self._active.values())
        for generation in generations:
            self._cancel(generation, CancelReason.SHUTDOWN)
        await asyncio.gather(*(g.task for g in generations if g.task), return_exceptions=True)
        if self._checkpointer is not None:
            self._checkpointer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checkpointer

    # -- what pages and sockets call ----------------------------------------------------------------------------

    def current(self, conversation_id: str) -> Generation | None:
        """The reply streaming in this conversation now, if any (on another instance: a mirror of it)."""
        return self._active.get(conversation_id) or self.coordination.elsewhere(conversation_id)

    async def attach(self, conversation_id: str) -> Generation | None:
        """Like `current`, for a reader about to replay the reply: one written elsewhere has its text so far in it."""
        generation = self.current(conversation_id)
        if generation is not None:
            await self.coordination.caught_up(generation)
        return generation

    def busy(self, conversation_id: str) -> bool:
        """Whether a reply is streaming, or about to, in this conversation."""
        return conversation_id in self._active or conversation_id in self._reserved

    async def send(
        self,
        user_id: str,
        conversation_id: str,
        content: str | None,
        model: str | None = None,
        *,
        anchor: Anchor = Anchor.SEND,
        edited_id: str | None = None,
        session_id: str | None = None,
        title: str | None = None,
    ) -> Generation:
        """Save the user's message (if any; the caller checked it) and start the reply where `anchor` says
        (`edited_id`: the user message an EDIT replaces; `title`: the conversation's, if it has none yet).
        Raises `ReplyRefused` (nothing saved), `ConversationGone` or `MessageGone`."""
        if self.busy(conversation_id):
            raise ReplyRefused(Refusal.BUSY)
        self._reserved.add(conversation_id)
        started = False
        try:
            try:
                if not await self.coordination.reserve(conversation_id):
                    raise ReplyRefused(Refusal.BUSY)
            except CoordinationUnavailable:
                log.exception("the busy guard could not be checked")
                raise ReplyRefused(Refusal.UNAVAILABLE) from None
            wait = await self._throttle.hit(user_id)
            if wait:
                raise ReplyRefused(Refusal.RATE_LIMITED, retry_after=wait)
            async with self._starting:
                generation = await self._start(
                    user_id, conversation_id, content, model, anchor, edited_id, session_id, title
                )
                started = True
                return generation
        finally:
            self._reserved.discard(conversation_id)
            if not started:
                await self.coordination.release(conversation_id)

    async def _start(
        self,
        user_id: str,
        conversation_id: str,
        content: str | None,
        model: str | None,
        anchor: Anchor,
        edited_id: str | None,
        session_id: str | None,
        title: str | None,
    ) -> Generation:
        """Read the path above the reply, then ask the provider *while* the new messages are being written.

        The provider's first token takes milliseconds; so does the write. Overlapping them keeps the time to first
        token close to the provider's own, and nothing is published before the messages are stored
        (`Generation.stored`): a reader never sees a reply to a message the database does not hold. The path read
        and the write are two transactions; the conversation's reservation (`busy`) keeps anything else from
        being written to it in between.
        """
        try:
            budget = history_budget(self.options.prompt_max_chars, content)
            context = await self.chats.reply_context(user_id, conversation_id, anchor, edited_id, max_chars=budget)
        except NothingToRegenerate:
            raise ReplyRefused(Refusal.NOTHING_TO_REGENERATE) from None
        user_message_id = new_id() if content is not None else None
        generation = Generation(
            conversation_id=conversation_id,
            user_id=user_id,
            message_id=new_id(),
            parent_id=user_message_id or context.parent_id,
            model=qualify_model_id(model or context.model or self.models.default_model),
            user_message_id=user_message_id,
            user_content=content,
            user_parent_id=context.parent_id if content is not None else None,
            session_id=session_id,
        )
        self._active[conversation_id] = generation
        prompt = build_prompt(context.turns, content)
        params = GenerationParams(temperature=context.temperature, system=context.system_prompt or None)
        generation.task = asyncio.create_task(
            self._run(generation, prompt, params), name=f"reply-{generation.message_id}"
        )
        try:
            await self.chats.start_exchange(
                user_id,
                conversation_id,
                content,
                generation.model,
                title,
                parent_id=context.parent_id,
                remember_model=anchor is not Anchor.REGENERATE,
                user_message_id=user_message_id,
                assistant_message_id=generation.message_id,
            )
        except BaseException:
            generation.stored.set_result(False)
            self._cancel(generation, CancelReason.DELETED)  # nothing was stored, so nothing may be written
            await asyncio.gather(generation.task, return_exceptions=True)
            raise
        generation.stored.set_result(True)
        self.announce(generation)
        await self.coordination.began(generation)
        return generation

    def announce(self, generation: Generation) -> None:
        """Show a reply that started (here or on another instance) to whoever watches its conversation."""
        self.events.publish(generation.conversation_id, ReplyStarted(generation))

    def stop(self, conversation_id: str) -> Generation | None:
        """Cancel the reply streaming in this conversation (its text so far is kept as `cancelled`)."""
        generation = self._active.get(conversation_id)
        if generation is not None:
            self._cancel(generation, CancelReason.STOPPED)
            return generation
        elsewhere = self.coordination.elsewhere(conversation_id)
        if elsewhere is not None:
            self.coordination.request_stop(conversation_id, CancelReason.STOPPED)
        return elsewhere

    def stop_here(self, conversation_id: str, reason: CancelReason) -> None:
        """Another instance asks: stop (or, for a deletion, drop) the reply this one writes in the conversation."""
        generation = self._active.get(conversation_id)
        if generation is not None:
            self._cancel(generation, reason)

    async def delete_conversation(self, user_id: str, conversation_id: str) -> bool:
        """Cancel any reply in the conversation without writing anything more, then delete it with its messages."""
        await self.drop_reply(user_id, conversation_id)
        return await self.chats.delete_conversation(user_id, conversation_id)

    async def drop_reply(self, user_id: str, conversation_id: str) -> None:
        """Cancel the user's reply streaming in the conversation, writing nothing more (it is being deleted)."""
        generation = self.current(conversation_id)
        if generation is not None and generation.user_id == user_id:
            if generation.task is not None:
                self._cancel(generation, CancelReason.DELETED)
                await asyncio.gather(generation.task, return_exceptions=True)
            else:  # written by another instance: it drops the reply; its end arrives here through Redis
                self.coordination.request_stop(conversation_id, CancelReason.DELETED)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(generation.wait(), DELETE_WAIT_SECONDS)

    def stop_user(self, user_id: str) -> None:
        """Stop every reply of a user (all their sessions were revoked)."""
        for generation in list(self._active.values()):
            if generation.user_id == user_id:
                self._cancel(generation, CancelReason.STOPPED)

    def stop_session(self, session_id: str) -> None:
        """Stop the replies started from one sign-in (it signed out)."""
        for generation in list(self._active.values()):
            if generation.session_id == session_id:
                self._cancel(generation, CancelReason.STOPPED)

    # -- the reply itself ---------------------------------------------------------------------------------------

    def _cancel(self, generation: Generation, reason: CancelReason) -> None:
        if generation.task is not None and not generation.task.done():
            generation.cancel_reason = generation.cancel_reason or reason
            generation.task.cancel()

    async def _run(self, generation: Generation, prompt: list[ChatMessage], params: GenerationParams) -> None:
        status: MessageStatus = MessageStatus.DONE
        error: str | None = None
        code: str | None = None
        try:
            try:
                provider, name = self.models.resolve(generation.model)
            except KeyError:
                raise ProviderError(
                    f"the model '{generation.model}' belongs to a provider that is not configured; "
                    "pick another model or set its API key"
                ) from None
            stream = stream_with_retries(
                provider,
                prompt,
                name,
                params,
                retries=self.options.provider_retries,
                backoff=RETRY_BACKOFF_SECONDS,
            )
            async for event in stream:
                if isinstance(event, TextDelta):
                    if event.text:
                        if not generation.stored.done():
                            await generation.stored
                        generation.publish(event.text)
                elif isinstance(event, Usage):
                    generation.usage = event
                elif isinstance(event, Queued):
                    generation.wait_in_line(event.position)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            status = _ENDED_BY[generation.cancel_reason or CancelReason.SHUTDOWN]
            if status is MessageStatus.INTERRUPTED:
                error = INTERRUPTED_NOTE
        except ProviderError as exc:
            status, error, code = MessageStatus.ERROR, exc.message, exc.code
        except Exception:
            log.exception("reply %s failed", generation.message_id)
            status, error, code = MessageStatus.ERROR, "An unexpected error ended this reply.", "internal_error"
        await self._finalize(generation, status, error, code)

    async def _finalize(
        self, generation: Generation, status: MessageStatus, error: str | None, code: str | None
    ) -> None:
        try:
            if not await generation.stored:
                status = MessageStatus.DELETED
            if status is not MessageStatus.DELETED:
                usage = generation.usage or Usage()
                await self.chats.finish_message(
                    generation.message_id,
                    content=generation.text,
                    status=status,
                    completion_tokens=usage.completion_tokens,
                    prompt_tokens=usage.prompt_tokens,
                    error=error,
                )
        except Exception:
            log.exception("could not store the end of reply %s", generation.message_id)
        finally:
            if self._active.get(generation.conversation_id) is generation:
                del self._active[generation.conversation_id]
            generation.finish(status, error, code)
            for hook in self.on_finished:
                try:
                    hook(generation)
                except Exception:
                    log.exception("a hook on the end of reply %s failed", generation.message_id)

    # -- checkpoints --------------------------------------------------------------------------------------------

    async def checkpoint(self) -> int:
        """Write the text so far of every reply that grew since the last checkpoint, in one transaction."""
        dirty = {g: len(g.chunks) for g in self._active.values() if len(g.chunks) > g.checkpointed}
        if not dirty:
            return 0
        await self.chats.checkpoint({g.message_id: "".join(g.chunks[:n]) for g, n in dirty.items()})
        for generation, count in dirty.items():
            generation.checkpointed = count
        return len(dirty)

    async def _checkpoint_loop(self) -> None:
        while True:
            await asyncio.sleep(self.options.checkpoint_seconds)
            try:
                await self.checkpoint()
            except Exception:
                log.exception("checkpoint failed; will try again")


_ENDED_BY = {
    CancelReason.STOPPED: MessageStatus.CANCELLED,
    CancelReason.DELETED: MessageStatus.DELETED,
    CancelReason.SHUTDOWN: MessageStatus.INTERRUPTED,
}
