"""The generation engine: the one place where providers and storage meet.

It owns every reply from the moment the user's message is saved to the moment the reply's final state is stored.
Pages and `/ws` sockets only *send* (through `send`) and *follow* (through `Generation.follow`); a reader that goes
away, or arrives late, changes nothing for the reply.

    send() ─ rate-limit, reserve the conversation, wait for a start-up slot
           ─ read where the reply goes in the tree and the path above it, with their files (one transaction;
             a plain message is saved in it too, see `_start`)
           ─ retrieve the passages of the chat's knowledge collections for the question (knowledge.py)
           ─ images in the message answered, to a model that cannot see images: refused (nothing saved)
           ─ save user message (unless regenerating) + empty `streaming` assistant message (one transaction);
             Continue instead marks the reply it carries on `streaming` again, its text kept as the prefix
           ─ start _run() as a task ─ ReplyWriter (reply.py): the files read into the provider's parts
                                       (attachments.py), provider deltas → Generation.add() → followers
                                     ─ checkpoints (checkpoints.py): every ~1 s, one transaction for all dirty replies
                                     ─ end: final text/status/usage written once, then Generation.finish()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

from chatui.coordination.base import Coordination, CoordinationUnavailable
from chatui.coordination.local import LocalCoordination
from chatui.coordination.throttles import Throttle
from chatui.engine.attachments import Attachments
from chatui.engine.checkpoints import Checkpointer
from chatui.engine.errors import Refusal, ReplyRefused
from chatui.engine.events import ConversationEvents, ReplyStarted
from chatui.engine.generation import CancelReason, Generation
from chatui.engine.knowledge import Retrieve, passages_for, sources, sources_part, system_with
from chatui.engine.options import EngineOptions
from chatui.engine.prompt import Asked, build_prompt, history_budget
from chatui.engine.reply import Ended, ReplyWriter
from chatui.engine.tool_loop import ToolRunner, approve, waiting
from chatui.engine.vision import check_images
from providers import GenerationParams, Usage
from providers.base import EFFORTS, Effort
from providers.registry import ModelRegistry, qualify_model_id
from storage import (
    Anchor,
    ConversationRepository,
    MessageStatus,
    NothingToContinue,
    NothingToRegenerate,
)
from storage.files import FileRepository
from storage.models import new_id

log = logging.getLogger(__name__)

DELETE_WAIT_SECONDS = 10.0
"""How long a deletion waits for another instance to drop the reply it writes (if that one is gone, the deletion
goes ahead after this)."""


class GenerationEngine:
    def __init__(
        self,
        chats: ConversationRepository,
        models: ModelRegistry,
        message_throttle: Throttle,
        options: EngineOptions,
        events: ConversationEvents | None = None,
        coordination: Coordination[Generation] | None = None,
        attachments: Attachments | None = None,
        tools: ToolRunner | None = None,
        knowledge: Retrieve | None = None,
    ) -> None:
        self.chats = chats
        self.knowledge = knowledge
        self.attachments = attachments or Attachments(FileRepository(chats.db))
        """What the model is sent of the messages' files (attachments.py)."""
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
        self._checkpoints = Checkpointer(chats, self._active, options.checkpoint_seconds)
        self._writer = ReplyWriter(models, self.attachments, chats, options.provider_retries, tools)
        self._starting = asyncio.Semaphore(options.starting_at_once)

    # -- life cycle ---------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start checkpointing (replies a crash left `streaming` were marked before the server started serving)."""
        self._checkpoints.start()

    async def shutdown(self) -> None:
        """Stop every reply, storing each as `interrupted` with its text."""
        generations = list(self._active.values())
        for generation in generations:
            self._cancel(generation, CancelReason.SHUTDOWN)
        await asyncio.gather(*(g.task for g in generations if g.task), return_exceptions=True)
        await self._checkpoints.stop()

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
        file_ids: Sequence[str] | None = None,
    ) -> Generation:
        """Save the user's message (if any; the caller checked it) and start the reply where `anchor` says
        (`edited_id`: the user message an EDIT replaces; `title`: the conversation's, if it has none yet;
        `file_ids`: the message's files, checked to be the user's — None on an EDIT keeps the edited message's).
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
                    user_id, conversation_id, content, model, anchor, edited_id, session_id, title, file_ids
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
        file_ids: Sequence[str] | None = None,
    ) -> Generation:
        """Read the path above the reply and write the new messages, then ask the provider.

        Nothing is published before the messages are stored (`Generation.stored`): a reader never sees a reply to a
        message the database does not hold. A message without files, in a chat with no knowledge and no reasoning
        effort (nothing left to refuse it), is read and written in one transaction, one trip to the database
        thread. Otherwise the path is read first and the provider asked *while* the messages are written (two
        transactions; the conversation's reservation, `busy`, keeps anything else from being written to it in
        between). That overlap lost on 2 busy cores: the write waited for the GIL while the loop built the provider
        request, and ended after the first token had come (BENCHMARKS.md §1).
        """
        ids = (new_id(), new_id())  # the user message's (if any) and the reply's
        user_message_id, reply_id = ids[0] if content is not None else None, ids[1]
        written: str | None = None  # the model the new messages were stored with, when the read wrote them too
        try:
            budget = history_budget(self.options.prompt_max_chars, content)
            if anchor is Anchor.SEND and content is not None and not file_ids:  # one trip: read, and write if plain
                context, written = await self.chats.open_exchange(
                    user_id, conversation_id, content, self._model_of(model), title, ids, budget
                )
            else:
                context = await self.chats.reply_context(
                    user_id, conversation_id, anchor, edited_id, max_chars=budget, file_ids=file_ids
                )
        except NothingToRegenerate:
            raise ReplyRefused(Refusal.NOTHING_TO_REGENERATE) from None
        except NothingToContinue:
            raise ReplyRefused(Refusal.NOTHING_TO_CONTINUE) from None
        model_id = written or self._model_of(model)(context.model)
        prompt = build_prompt(context.turns, content, context.files, context.new_files)
        sees_images = await check_images(self.models, model_id, prompt, self.options.text_only_models)
        effort = await self._effort(model_id, context.reasoning_effort)
        passages = await passages_for(self.knowledge, user_id, context.knowledge, prompt)
        continued = context.continued
        generation = Generation(
            conversation_id=conversation_id,
            user_id=user_id,
            # a continued reply keeps its id; its text so far, less trailing blanks (Anthropic refuses a prefill
            # that ends in one), is what the new text follows
            message_id=continued.message_id if continued else reply_id,
            prefix=continued.content.rstrip() if continued else "",
            earlier_tokens=continued.completion_tokens if continued else None,
            parent_id=user_message_id or context.parent_id,
            model=model_id,
            user_message_id=user_message_id,
            user_content=content,
            user_parent_id=context.parent_id if content is not None else None,
            session_id=session_id,
            sources=sources(passages),
        )
        self._active[conversation_id] = generation
        params = GenerationParams(
            temperature=context.temperature,
            max_tokens=context.max_tokens,
            system=system_with(context.system_prompt or None, passages),
            top_p=context.top_p,
            seed=context.seed,
            reasoning_effort=effort,
        )
        generation.task = asyncio.create_task(
            self._run(generation, prompt, params, sees_images, context.tools), name=f"reply-{generation.message_id}"
        )
        try:
            if written is not None:
                pass  # stored with the read, in one transaction
            elif continued is not None:
                earlier = await self.chats.resume_reply(
                    user_id, conversation_id, continued.message_id, generation.model
                )
                if earlier:  # its reasoning stays the reply's (published once stored, below: none came before)
                    generation.reasoning.insert(0, earlier)
            else:  # the user's message (unless a regenerate) and the reply's empty `streaming` row
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
                    file_ids=[file.id for file in context.new_files],
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

    def _model_of(self, asked: str | None) -> Callable[[str | None], str]:
        """The reply's model from the chat's: the one the message asks for, else the chat's, else the default."""
        return lambda chats: qualify_model_id(asked or chats or self.models.default_model)

    async def _effort(self, model_id: str, chosen: str | None) -> Effort | None:
        """The chat's Think setting, for a model that can think: the chat may have been switched to one that cannot
        (OpenAI's other models and Claude before 3.7 refuse the field; Ollama's refuse `think` with a 400)."""
        if chosen not in EFFORTS or not await self.models.can_think(model_id):
            return None
        return chosen

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

    def approve(self, user_id: str, conversation_id: str, call_id: str, allow: bool) -> bool:
        """The user's Allow / Deny of a call waiting in their reply in this conversation; False if none waits. A
        reply another instance writes is asked there (its mirror here says whether the call waits)."""
        if conversation_id in self._active:
            return self.approve_here(conversation_id, user_id, call_id, allow)
        if not waiting(self.coordination.elsewhere(conversation_id), user_id, call_id):
            return False
        self.coordination.request_approve(conversation_id, user_id, call_id, allow)
        return True

    def approve_here(self, conversation_id: str, user_id: str, call_id: str, allow: bool) -> bool:
        """Allow / Deny a call waiting in the reply this instance writes in the conversation, if it is `user_id`'s."""
        generation = self._active.get(conversation_id)
        return waiting(generation, user_id, call_id) and generation is not None and approve(generation, call_id, allow)

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

    async def _run(
        self, generation: Generation, prompt: list[Asked], params: GenerationParams, sees: bool, tools: Sequence[str]
    ) -> None:
        ended = await self._writer.write(generation, prompt, params, sees, tools)
        await self._finalize(generation, ended)

    async def _finalize(self, generation: Generation, ended: Ended) -> None:
        """Store the reply's end (once), let it go, and tell its readers and the hooks."""
        status, error, code = ended.status, ended.error, ended.code
        try:
            if not await generation.stored:
                status = MessageStatus.DELETED
            if status is not MessageStatus.DELETED:
                usage = generation.usage or Usage()
                await self.chats.finish_message(
                    generation.message_id,
                    content=generation.text,
                    status=status,
                    completion_tokens=generation.completion_tokens,
                    prompt_tokens=usage.prompt_tokens,
                    error=error,
                    reasoning=generation.reasoning_part(),
                    parts=generation.parts() if generation.steps else None,
                    cut_off=usage.cut_off and status is MessageStatus.DONE,
                    sources=sources_part(generation.sources),
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
        """Write the text (and reasoning) so far of every reply that grew since the last checkpoint, in one
        transaction (checkpoints.py; also every `checkpoint_seconds` once started)."""
        return await self._checkpoints.checkpoint()
